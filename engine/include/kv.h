/* kv.h — the ffibench storage engine: a small key-value store over LMDB.
 *
 * This header is the engine's manual. Everything a caller may use is declared here; nothing else in
 * libkv is public. A binding for another language needs only this file (plus kv_handle.h or
 * kv_marshal.h for the two foreign-friendly ABIs built on top of it).
 *
 * CONVENTIONS
 *   - Every public name starts with kv_ (functions, types) or KV_ (macros, constants).
 *   - Functions return int: 0 (KV_OK) on success, or a negative error code from the table below.
 *     A positive return never happens unless a function's documentation says otherwise.
 *   - Output parameters come first ([out]); they are written only on success unless stated.
 *   - Memory marked `own` passes to the caller, who frees it with the named function.
 *     Memory not marked `own` stays the engine's, valid for the lifetime the function states.
 *   - Passing NULL where an object is required returns KV_E_INVALID; it never crashes.
 *     A pointer that is not NULL but was never returned by the engine, or was already freed, is
 *     undefined behaviour in this plain API: use the handle ABI (kv_handle.h) when the caller
 *     cannot guarantee lifetimes.
 *   - Sizes are size_t; a NULL buffer with a non-zero length is KV_E_INVALID.
 *
 * KEYS AND VALUES
 *   Keys are 1..KV_KEY_MAX (511) bytes, compared bytewise (memcmp order, shorter first on a tie).
 *   Values are 0..KV_VALUE_MAX bytes. Both are opaque bytes; no terminator is added or expected.
 *
 * THREADS
 *   - A kv_env may be shared by any number of threads.
 *   - A kv_txn and its cursors belong to the thread that began the transaction. A call on them from
 *     another thread returns KV_E_WRONG_THREAD (checked on every call: it costs one compare).
 *   - At most one write transaction per environment may be open in a thread; a second
 *     kv_txn_begin(KV_TXN_WRITE) in the same thread returns KV_E_BUSY instead of deadlocking.
 *     Write transactions of other threads (and processes) wait for the first to end.
 *   - Read transactions never block and may be open in any number, in any thread.
 *   - Errors are recorded per thread (kv_last_error); error strings from kv_strerror are static.
 *   - An environment path may be opened once per process (LMDB's rule). Opening it twice returns
 *     KV_E_BUSY. An open that races with the close of the same path waits for the close to finish.
 *   - When a thread exits, the transactions it still owns end as if it had aborted them (their
 *     cursors end too). The objects stay allocated: any thread may then kv_txn_free or
 *     kv_txn_renew them; every other call on them returns KV_E_WRONG_THREAD.
 *
 * RELEASING FROM ANY THREAD (for garbage-collected runtimes; SQLite's sqlite3_close_v2 is the model)
 *   A finalizer runs on a thread of its own, often after the object's thread has moved on or exited.
 *   kv_env_release, kv_txn_release and kv_cursor_release may be called from any thread, always
 *   succeed, and leave nothing behind:
 *   - kv_cursor_release closes a cursor; one of another thread's active transaction is closed by that
 *     transaction's end or free (in its owner's thread), never by touching the transaction here.
 *   - kv_txn_release aborts and frees a transaction. A read transaction is aborted right there. A
 *     write transaction can only be ended by the thread that began it (it holds LMDB's write lock):
 *     released from another thread while that thread lives, it is aborted and freed at that thread's
 *     next kv_txn_begin, kv_txn_renew, one-shot call, kv_env_open, kv_env_close or kv_env_release (on
 *     any environment), or when it exits; until then other writers of the environment wait.
 *   - kv_env_release closes the environment once its last transaction is freed (a zombie until then).
 *   The one condition: no other thread may be inside a call on the object (or, for a transaction, on
 *   one of its cursors) at the time — which a finalizer guarantees, since nothing can reach the
 *   object. The handle ABI (kv_handle.h, kvh_release) checks even that.
 *
 * CAVEATS (read these before writing a binding)
 *   - fork(): a child process must not use the environments, transactions, cursors or handles it
 *     inherited: LMDB's locks and map belong to the parent. Exec, or fork before opening anything. A
 *     child that goes on calling libkv also inherits the list of open paths: opening one of them
 *     there returns KV_E_BUSY.
 *   - Runtimes that move work between OS threads (goroutines, async/await continuations, green
 *     threads, work-stealing pools): a transaction belongs to an OS thread, so keep every call on it
 *     on one (Go: runtime.LockOSThread; .NET: a dedicated thread, no await between its calls); from
 *     another OS thread a call is KV_E_WRONG_THREAD, and a write transaction can be committed nowhere
 *     else. When that OS thread exits, its transactions end (THREADS). The last error is per OS
 *     thread too: read kv_last_error_r right after the failing call, before the runtime may switch.
 *   - Callbacks: kv_scan calls fn synchronously, on the calling thread, during the call. fn must
 *     return normally: an exception, panic or longjmp unwinding through kv_scan leaks its LMDB cursor
 *     (and, through kvh_scan, leaves the transaction's handle in use for good: KV_E_BUSY). Catch in fn
 *     and return a positive value to stop the scan.
 *   - "Opened twice" (KV_E_BUSY) is checked by each copy of libkv: a process with two copies (libkv.a
 *     linked into one library, libkv.so loaded by another) can open one file twice, which breaks
 *     LMDB's locks. Load one copy per process.
 *   - The reader limit: KV_READERS_MAX read transactions at once per database file, over every
 *     process; a reset read transaction keeps its slot. The next one: KV_E_READERS_FULL.
 *   - Zero-copy memory (kv_get_ref, kv_cursor_next) points into the read-only map: writing through
 *     it crashes the process.
 *   - LMDB's locks need a local file system (not NFS or SMB).
 *   - libkv.so is never unloaded (it is linked -z nodelete: threads run its exit hook): dlclose does
 *     not free it.
 *
 * ABI POLICY
 *   Error numbers are stable and never reused (a retired code keeps its slot); so are marshal
 *   operation codes (kv_marshal.h). Structs that cross the ABI carry a version field;
 *   kv_options_size() reports the size this library expects. Opaque types are only ever handled
 *   through pointers. kv_abi.json, installed beside this header and generated from the same tables,
 *   lists the codes, operations, constants, struct layouts and the version for bindings to load.
 *   SONAME: from 1.0 on, libkv.so.MAJOR, and a new minor version only adds (functions, codes,
 *   operations, flags); anything else is a new major version. While the major version is 0 (now),
 *   a minor version may also change what existing calls do — its notes say what — so the SONAME is
 *   libkv.so.0.MINOR. The file is libkv.so.MAJOR.MINOR.PATCH; a patch version changes no ABI.
 *   0.2: the release functions, KV_E_READERS_FULL and KV_E_TXN_FAILED (where 0.1 said
 *   KV_E_INTERNAL), transactions that end with their thread, kvh_txn_abort and kvh_cursor_close
 *   from any thread (0.1: KV_E_WRONG_THREAD), kv_env_close's KV_E_BUSY for running one-shot calls.
 */
#ifndef KV_H
#define KV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------- */
/* Export macro. libkv.so exports KV_API symbols only; libkv.a is built with KV_STATIC (all hidden,  */
/* so a program that links it statically exports none of them and cannot interpose libkv.so).      */
#if defined(KV_STATIC)
#define KV_API
#elif defined(__GNUC__)
#define KV_API __attribute__((visibility("default")))
#else
#define KV_API
#endif

/** Marks a pointer whose ownership passes to the receiver (`own` in the text below). Expands to nothing. */
#define KV_OWN

/* ---------------------------------------------------------------------------------------------- */
/* Version                                                                                         */
#define KV_VERSION_MAJOR 0
#define KV_VERSION_MINOR 2
#define KV_VERSION_PATCH 0
/** Version as one integer: 0xMMmmpp. Compare kv_version() with it to detect a header/library skew. */
#define KV_VERSION_HEX ((KV_VERSION_MAJOR << 16) | (KV_VERSION_MINOR << 8) | KV_VERSION_PATCH)

/** The library's version as KV_VERSION_HEX of the library that was built (not of this header). */
KV_API unsigned kv_version(void);
/** The library's version as a static string "MAJOR.MINOR.PATCH". Never NULL; never freed. */
KV_API const char *kv_version_string(void);

/* ---------------------------------------------------------------------------------------------- */
/* Errors                                                                                          */
/*                                                                                                 */
/* One list generates the enum, kv_err_name() and kv_strerror(). Codes are negative, stable, and   */
/* never reused. X(NAME, code, message).                                                          */
#define KV_ERRNO_MAP(X)                                                                            \
  X(INVALID,          -1, "invalid argument")                                                      \
  X(KEY_SIZE,         -2, "key is empty or longer than KV_KEY_MAX bytes")                          \
  X(VALUE_SIZE,       -3, "value is longer than KV_VALUE_MAX bytes")                               \
  X(NOT_FOUND,        -4, "key not found")                                                         \
  X(BUFFER_TOO_SMALL, -5, "buffer too small; the length needed was returned")                      \
  X(DONE,             -6, "iteration done: no more records")                                       \
  X(READ_ONLY,        -7, "write in a read-only transaction or environment")                       \
  X(TXN_ENDED,        -8, "transaction already committed, aborted or reset")                       \
  X(MAP_FULL,         -9, "environment map is full; grow it with kv_env_set_map_size")             \
  X(BUSY,            -10, "object is in use")                                                      \
  X(WRONG_THREAD,    -11, "object used from a thread that does not own it")                        \
  X(NO_MEMORY,       -12, "out of memory")                                                         \
  X(IO,              -13, "I/O or operating-system error")                                         \
  X(CORRUPT,         -14, "database file is corrupt or of an incompatible version")                \
  X(VERSION,         -15, "unsupported struct version")                                            \
  X(BAD_HANDLE,      -16, "handle is zero, forged, stale, closed or already freed")                \
  X(HANDLE_TYPE,     -17, "handle refers to an object of another type")                            \
  X(HANDLE_FULL,     -18, "handle table is full")                                                  \
  X(PROTOCOL,        -19, "malformed request")                                                     \
  X(UNKNOWN_OP,      -20, "unknown operation")                                                     \
  X(TXN_FULL,        -21, "transaction has too many dirty pages; commit more often")               \
  X(CURSOR_ENDED,    -22, "cursor's transaction has ended")                                        \
  X(INTERNAL,        -23, "unexpected internal error")                                             \
  X(READERS_FULL,    -24, "too many read transactions open on this environment at once")           \
  X(TXN_FAILED,      -25, "an earlier error failed this write transaction; abort it")

/** Success. */
#define KV_OK 0

typedef enum kv_errno {
#define KV__ERRNO_ENUM(name, code, msg) KV_E_##name = (code),
  KV_ERRNO_MAP(KV__ERRNO_ENUM)
#undef KV__ERRNO_ENUM
  KV_E_LAST_ = -25 /**< The most negative code in use; every code lies in [KV_E_LAST_, -1]. */
} kv_errno;

/** Static message for an error code ("success" for 0, "unknown error" for a code not in the table).
 *  Never NULL; never freed; safe from any thread. */
KV_API const char *kv_strerror(int err);
/** Static name of an error code, e.g. "KV_E_NOT_FOUND" ("KV_OK" for 0, "KV_E_UNKNOWN" otherwise). */
KV_API const char *kv_err_name(int err);

/** The calling thread's last error message: what the most recent failing kv_ call in this thread
 *  said, with details (a path, the LMDB message). "" when there was none. Never NULL.
 *  The string stays the engine's and is valid until the next kv_ call in this thread — a foreign
 *  runtime that cannot hold that lifetime should use kv_last_error_r(). */
KV_API const char *kv_last_error(void);
/** Copies the calling thread's last error message into buf (always NUL-terminated when cap > 0,
 *  truncated if needed) and returns the length of the full message, excluding the NUL — so a
 *  return >= cap means it was truncated. buf may be NULL only when cap is 0 (a length query). */
KV_API size_t kv_last_error_r(char *buf, size_t cap);

/* ---------------------------------------------------------------------------------------------- */
/* Limits                                                                                          */
#define KV_KEY_MAX 511u                        /**< LMDB's compile-time key limit. */
#define KV_VALUE_MAX ((size_t)1 << 30)         /**< 1 GiB; values up to this length are accepted. */
#define KV_MAP_SIZE_DEFAULT ((uint64_t)1 << 30) /**< 1 GiB map, unless kv_options says otherwise. */
/** Read transactions that may be open at once on one database file, across every process that has
 *  it open (LMDB's reader table, at its default size). One more: KV_E_READERS_FULL. */
#define KV_READERS_MAX 126u

/* ---------------------------------------------------------------------------------------------- */
/* Environment                                                                                     */

/** An open database: one LMDB environment in one file. Opaque. */
typedef struct kv_env kv_env;

/** Durability of commits. */
typedef enum kv_durability {
  /** Default. kv_txn_commit returns after the data and meta page reached the disk (fsync). */
  KV_DURABLE_SYNC = 0,
  /** For benchmarks: commits are not flushed. A process crash loses nothing (the OS keeps the
   *  pages); an OS crash or power loss may lose the last commits, never corrupt older ones. */
  KV_DURABLE_NOSYNC = 1
} kv_durability;

/** Flags for kv_options.flags. */
#define KV_ENV_READ_ONLY 0x1u /**< Open read-only: every write returns KV_E_READ_ONLY. */

#define KV_OPTIONS_VERSION 1u
/** Options for kv_env_open. Always initialise with KV_OPTIONS_INIT (or kv_options_init) so fields
 *  added in later versions get their defaults. Layout (version 1): 24 bytes, no padding inside. */
typedef struct kv_options {
  uint32_t version;    /**< KV_OPTIONS_VERSION. Another value: KV_E_VERSION. */
  uint32_t flags;      /**< KV_ENV_* flags; unknown bits: KV_E_INVALID. */
  uint64_t map_size;   /**< Maximum database size in bytes; 0 means KV_MAP_SIZE_DEFAULT. */
  uint32_t durability; /**< A kv_durability; another value: KV_E_INVALID. */
  uint32_t reserved;   /**< Must be 0 (KV_E_INVALID otherwise). */
} kv_options;
#define KV_OPTIONS_INIT {KV_OPTIONS_VERSION, 0u, 0u, KV_DURABLE_SYNC, 0u}

/** Fills *opts with the defaults (KV_OPTIONS_INIT). For runtimes that cannot use the macro.
 *  @return KV_OK, or KV_E_INVALID if opts is NULL. */
KV_API int kv_options_init(kv_options *opts);
/** sizeof(kv_options) in this library, so a binding can check its own layout. */
KV_API size_t kv_options_size(void);

/** Opens (creating if needed) the database file at path. LMDB keeps a second file, path + "-lock".
 * @param[out] env   receives the environment; `own`, release it with kv_env_close().
 * @param[in]  path  NUL-terminated file path. Its directory must exist.
 * @param[in]  opts  options, or NULL for the defaults.
 * @return KV_OK; KV_E_INVALID (env or path NULL, path empty, bad flags/durability/reserved);
 *         KV_E_VERSION (opts->version unknown); KV_E_BUSY (path already open in this process);
 *         KV_E_IO (cannot open or create; a read-only open of a missing file);
 *         KV_E_CORRUPT (not an LMDB file, or an incompatible one); KV_E_NO_MEMORY. */
KV_API int kv_env_open(kv_env *KV_OWN *env, const char *path, const kv_options *opts);

/** Closes an environment. Closing NULL is a no-op returning KV_OK. Any thread may close it.
 * @return KV_OK (env is freed); KV_E_BUSY if transactions are still open on it, or one-shot calls
 *         of other threads are running in it (env stays open — end and free them first). */
KV_API int kv_env_close(kv_env *env);

/** Closes an environment now, or — if transactions are still open on it — as soon as the last of
 *  them is freed (kv_txn_free, kv_txn_release): the form for finalizers (see RELEASING FROM ANY
 *  THREAD). After the call env belongs to the engine: begin nothing more on it; the transactions
 *  already open stay usable until they are freed. Releasing NULL is a no-op.
 *  Until the deferred close has happened the path counts as open (a kv_env_open of it: KV_E_BUSY).
 * @return KV_OK, always. */
KV_API int kv_env_release(kv_env *env);

/** Grows (or shrinks, not below the data in use) the environment's map to size bytes. Call it after
 *  KV_E_MAP_FULL, then retry the write in a new transaction.
 * @return KV_OK; KV_E_INVALID (env NULL or size 0); KV_E_BUSY (transactions active in this process,
 *         one-shot calls in other threads included: LMDB remaps only when there are none);
 *         KV_E_NO_MEMORY (the address space for size cannot be had; the old map stays in use);
 *         KV_E_IO; KV_E_READ_ONLY if the environment is read-only. */
KV_API int kv_env_set_map_size(kv_env *env, uint64_t size);

/** Reports the current map size in *size.
 * @return KV_OK; KV_E_INVALID (env or size NULL). */
KV_API int kv_env_map_size(const kv_env *env, uint64_t *size);

/** Flushes to disk: what a KV_DURABLE_NOSYNC environment committed becomes durable.
 * @return KV_OK; KV_E_INVALID; KV_E_READ_ONLY (read-only environment); KV_E_IO. */
KV_API int kv_env_sync(kv_env *env);

/* ---------------------------------------------------------------------------------------------- */
/* Transactions                                                                                    */

/** A transaction: a consistent snapshot (read) or an atomic batch of writes (write). Opaque. */
typedef struct kv_txn kv_txn;

#define KV_TXN_READ 0x0u  /**< kv_txn_begin flag: read-only transaction. */
#define KV_TXN_WRITE 0x1u /**< kv_txn_begin flag: read-write transaction. */

/** Begins a transaction. The transaction object lives until kv_txn_free(); ending it (commit, abort,
 *  reset) does not free it, so a call on an ended transaction returns KV_E_TXN_ENDED.
 * @param[out] txn   receives the transaction; `own`, release it with kv_txn_free().
 * @param[in]  env   the environment.
 * @param[in]  flags KV_TXN_READ or KV_TXN_WRITE.
 * @return KV_OK; KV_E_INVALID (NULL argument, unknown flag); KV_E_READ_ONLY (write transaction on a
 *         read-only environment); KV_E_BUSY (this thread already has a write transaction open on env;
 *         or another process grew the map while this process has other transactions active: end
 *         them and retry, so the new size can be adopted);
 *         KV_E_READERS_FULL (a read transaction, when KV_READERS_MAX read transactions of all the
 *         processes using the file are open — a reset one keeps its slot; free some, retry);
 *         KV_E_NO_MEMORY; KV_E_IO. */
KV_API int kv_txn_begin(kv_txn *KV_OWN *txn, kv_env *env, unsigned flags);

/** Commits: a write transaction's changes become visible (and, with KV_DURABLE_SYNC, durable).
 *  Committing a read transaction just ends it. The transaction ends whatever the result; its cursors
 *  end with it (see kv_cursor_next). The object stays allocated until kv_txn_free().
 * @return KV_OK; KV_E_INVALID (NULL); KV_E_TXN_ENDED (already ended); KV_E_WRONG_THREAD;
 *         KV_E_MAP_FULL (nothing was committed); KV_E_TXN_FAILED (an earlier call failed the
 *         transaction, see kv_put: nothing was committed); KV_E_IO (nothing was committed; after a
 *         failed write of the meta page every later call returns KV_E_IO: close and reopen). */
KV_API int kv_txn_commit(kv_txn *txn);

/** Aborts: discards a write transaction's changes, or ends a read transaction.
 * @return KV_OK; KV_E_INVALID; KV_E_TXN_ENDED; KV_E_WRONG_THREAD. */
KV_API int kv_txn_abort(kv_txn *txn);

/** Ends a read transaction but keeps its reader slot, so kv_txn_renew() can start a fresh snapshot
 *  without allocating — the cheap way to reuse a read transaction.
 * @return KV_OK; KV_E_INVALID (NULL, or a write transaction); KV_E_TXN_ENDED; KV_E_WRONG_THREAD. */
KV_API int kv_txn_reset(kv_txn *txn);

/** Starts a new snapshot in an ended read transaction (after commit, abort or reset), in the calling
 *  thread, which becomes its owner.
 * @return KV_OK; KV_E_INVALID (NULL, write transaction); KV_E_BUSY (still active); KV_E_IO. */
KV_API int kv_txn_renew(kv_txn *txn);

/** Frees a transaction, aborting it first if it is still active. Cursors still open on it are
 *  detached: they return KV_E_CURSOR_ENDED and must still be closed with kv_cursor_close().
 *  Freeing NULL is a no-op returning KV_OK.
 * @return KV_OK; KV_E_WRONG_THREAD (still active and owned by another thread; not freed — see
 *         kv_txn_release). */
KV_API int kv_txn_free(kv_txn *txn);

/** kv_txn_free from any thread: aborts the transaction if it is active and frees it — a write
 *  transaction of another living thread later, in that thread (see RELEASING FROM ANY THREAD).
 *  No call on txn or its cursors may be running in another thread. After the call txn is gone for
 *  the caller. Releasing NULL is a no-op.
 * @return KV_OK, always. */
KV_API int kv_txn_release(kv_txn *txn);

/** Reports whether txn is a write transaction (1), a read transaction (0).
 * @return 1 or 0; KV_E_INVALID if txn is NULL. */
KV_API int kv_txn_is_write(const kv_txn *txn);

/* ---------------------------------------------------------------------------------------------- */
/* Reads and writes                                                                                */
/*                                                                                                 */
/* Common errors for every function below: KV_E_INVALID (NULL txn, NULL out-parameter, NULL buffer */
/* with a non-zero length); KV_E_KEY_SIZE; KV_E_TXN_ENDED; KV_E_WRONG_THREAD; KV_E_TXN_FAILED (a    */
/* write transaction failed by an earlier error, see kv_put).                                       */

/** Stores value under key, replacing any old value.
 * @param[in] txn  a write transaction.
 * @param[in] key,key_len  1..KV_KEY_MAX bytes.
 * @param[in] val,val_len  0..KV_VALUE_MAX bytes (val may be NULL when val_len is 0).
 * @return KV_OK; common errors; KV_E_VALUE_SIZE; KV_E_READ_ONLY (read transaction or environment);
 *         KV_E_MAP_FULL; KV_E_TXN_FULL. Either of these (and KV_E_IO) fails the transaction, as LMDB
 *         does: every later call on it returns KV_E_TXN_FAILED — a commit too, which commits nothing
 *         and ends it — so abort it (or free it), grow the map with kv_env_set_map_size if it was
 *         KV_E_MAP_FULL, and redo the writes in a new transaction. */
KV_API int kv_put(kv_txn *txn, const void *key, size_t key_len, const void *val, size_t val_len);

/** Copies the value stored under key into buf.
 * @param[in]  buf,cap  caller's buffer (buf may be NULL when cap is 0: a length query).
 * @param[out] len      receives the value's length — also when the buffer is too small, so the caller
 *                      can retry with a buffer of *len bytes. May be NULL if the caller does not need it
 *                      (then KV_E_BUFFER_TOO_SMALL carries no length).
 * @return KV_OK; common errors; KV_E_NOT_FOUND; KV_E_BUFFER_TOO_SMALL (nothing copied). */
KV_API int kv_get(kv_txn *txn, const void *key, size_t key_len, void *buf, size_t cap, size_t *len);

/** Zero-copy get: points *val at the value inside the database map.
 * @param[out] val  receives a pointer that stays valid until the transaction ends (commit, abort,
 *                  reset, free) or, in a write transaction, until its next kv_put/kv_del.
 *                  The memory is read-only and stays the engine's.
 * @param[out] val_len  receives the length.
 * @return KV_OK; common errors; KV_E_NOT_FOUND. */
KV_API int kv_get_ref(kv_txn *txn, const void *key, size_t key_len, const void **val, size_t *val_len);

/** Deletes key.
 * @return KV_OK; common errors; KV_E_NOT_FOUND (nothing was there); KV_E_READ_ONLY. */
KV_API int kv_del(kv_txn *txn, const void *key, size_t key_len);

/** Batch get: looks up n keys in one call (one boundary crossing for n reads).
 *  Keys are packed back to back in keys; key i has key_lens[i] bytes. Values are copied back to back
 *  into buf; val_lens[i] receives value i's length, or SIZE_MAX when the key was not found.
 * @param[out] found  receives how many keys were found (may be NULL).
 * @return KV_OK (misses are not errors); common errors (for any key); KV_E_BUFFER_TOO_SMALL (buf
 *         cannot hold every value found; val_lens are all filled, so the sum of the found lengths is
 *         the size needed; buf's contents are then unspecified). */
KV_API int kv_get_batch(kv_txn *txn, size_t n, const void *keys, const size_t *key_lens, void *buf,
                        size_t cap, size_t *val_lens, size_t *found);

/** One-shot forms: each runs in a transaction of its own (begun and ended inside the call), so it is
 *  atomic and, for writes, durable per the environment's durability. Same arguments and errors as the
 *  forms above, plus those of kv_txn_begin and kv_txn_commit (a one-shot write while this thread holds
 *  a write transaction on env returns KV_E_BUSY). */
KV_API int kv_env_put(kv_env *env, const void *key, size_t key_len, const void *val, size_t val_len);
KV_API int kv_env_get(kv_env *env, const void *key, size_t key_len, void *buf, size_t cap, size_t *len);
KV_API int kv_env_del(kv_env *env, const void *key, size_t key_len);

/* ---------------------------------------------------------------------------------------------- */
/* Iteration                                                                                       */

/** A cursor walks records in key order. Opaque; belongs to its transaction's thread. */
typedef struct kv_cursor kv_cursor;

/** Opens a cursor positioned before the first key >= start (before the first key when start is NULL
 *  and start_len 0).
 * @param[out] cur  receives the cursor; `own`, release it with kv_cursor_close(). A cursor may outlive
 *                  its transaction (ended or freed): it then returns KV_E_CURSOR_ENDED.
 * @return KV_OK; KV_E_INVALID; KV_E_KEY_SIZE (start given with a length of 0 or > KV_KEY_MAX);
 *         KV_E_TXN_ENDED; KV_E_WRONG_THREAD; KV_E_NO_MEMORY. */
KV_API int kv_cursor_open(kv_cursor *KV_OWN *cur, kv_txn *txn, const void *start, size_t start_len);

/** Moves to the next record and points *key and *val at it (zero-copy: valid until the next cursor call,
 *  the transaction's end, or a write in it). Any out-parameter may be NULL.
 * @return KV_OK; KV_E_DONE at the end (and on every later call); KV_E_INVALID (cur NULL);
 *         KV_E_CURSOR_ENDED (its transaction has ended); KV_E_WRONG_THREAD. */
KV_API int kv_cursor_next(kv_cursor *cur, const void **key, size_t *key_len, const void **val,
                          size_t *val_len);

/* Writes while a cursor is open (write transactions) follow LMDB's cursor rules: a record inserted
 * after the cursor's position is visited; if the record under the cursor is deleted, the next call
 * continues from the record that followed it when it was deleted (keys inserted meanwhile between
 * the two are skipped); if the database is emptied, the cursor starts again from the first key.
 * For an exact walk over a changing transaction, remember the last key and reopen the cursor there. */

/** Closes a cursor and frees it. Closing NULL is a no-op returning KV_OK. Allowed after the cursor's
 *  transaction has ended or been freed.
 * @return KV_OK; KV_E_WRONG_THREAD (not freed — see kv_cursor_release). */
KV_API int kv_cursor_close(kv_cursor *cur);

/** kv_cursor_close from any thread: the cursor is gone for the caller. The cursor of another
 *  thread's active transaction is freed when that transaction ends or is freed; nothing of the
 *  transaction is touched here, so it may be in use meanwhile (the cursor itself may not).
 *  Releasing NULL is a no-op.
 * @return KV_OK, always. */
KV_API int kv_cursor_release(kv_cursor *cur);

/** Called by kv_scan for each record. key/val are valid only during the call.
 * @return 0 to continue; any other value stops the scan, and kv_scan returns it. */
typedef int (*kv_scan_fn)(const void *key, size_t key_len, const void *val, size_t val_len,
                          void *payload);

/** Calls fn for every record with lo <= key < hi, in key order (an upcall per record).
 *  lo NULL (with lo_len 0) means from the first key; hi NULL (with hi_len 0) means to the last.
 * @param[in] payload  passed through to fn untouched.
 * @param[out] count   receives how many records fn was called for (may be NULL).
 * @return KV_OK when the range was exhausted; fn's non-zero return when it stopped the scan (a
 *         callback that wants to stop should return a positive value so it cannot be mistaken for an
 *         engine error); KV_E_INVALID (fn NULL, ...); KV_E_KEY_SIZE; KV_E_TXN_ENDED (also when fn
 *         ended the transaction — even if it renewed it then: the scan stops there);
 *         KV_E_WRONG_THREAD.
 *         fn may read and write through txn and may end it, but must not free it. */
KV_API int kv_scan(kv_txn *txn, const void *lo, size_t lo_len, const void *hi, size_t hi_len,
                   kv_scan_fn fn, void *payload, size_t *count);

/* ---------------------------------------------------------------------------------------------- */
/* Calibration entry points: calls of known cost that every benchmark uses to check itself.        */

/** Does nothing. The cheapest possible call across the boundary. */
KV_API void kv_noop(void);
/** Returns a + b (wrapping: computed in unsigned arithmetic, so it is defined for every input).
 *  The origin sample's `int Add(int, int)`. */
KV_API int kv_add(int a, int b);
/** Runs n iterations of a 64-bit LCG the compiler cannot fold or remove, and returns the state:
 *  x0 = n; x(i+1) = x(i) * 6364136223846793005 + 1442695040888963407 (mod 2^64). Its cost is linear
 *  in n, which lets a benchmark check that it measures what it claims (N and 2N iterations). */
KV_API uint64_t kv_spin(uint64_t n);

#ifdef __cplusplus
}
#endif
#endif /* KV_H */
