/* kv_handle.h — the handle ABI: the engine behind opaque integer handles, safe against misuse.
 *
 * For callers that cannot guarantee object lifetimes — garbage-collected runtimes with finalizer
 * threads, bindings that may call after free, several threads sharing objects — every engine object
 * (environment, transaction, cursor) is named by a kvh_handle, a 64-bit integer checked on every call
 * against a table with generation counters. Misuse is an error code, never a crash:
 *
 *   handle 0 (KVH_NULL), a forged value  -> KV_E_BAD_HANDLE
 *   a closed, committed, freed or stale handle (its slot was reused) -> KV_E_BAD_HANDLE
 *   an environment where a transaction is expected, etc. -> KV_E_HANDLE_TYPE
 *   closing or ending a handle twice       -> KV_E_BAD_HANDLE the second time
 *   an exclusive handle (transaction, cursor) used by two threads at once -> KV_E_BUSY for the one
 *     that came second (the first call proceeds undisturbed)
 *   a transaction or cursor used from a thread other than its owner -> KV_E_WRONG_THREAD
 *
 * SHARED AND EXCLUSIVE (the origin sample's HandleShared / HandleExclusive)
 *   - An environment handle is shared: any number of threads may use it at once. kvh_env_close
 *     returns KV_E_BUSY while another call is using it or while transactions are open on it; a call
 *     that arrives while kvh_env_close (or kvh_release) is deciding gets KV_E_BUSY too (never a
 *     dangling object).
 *   - Transaction and cursor handles are exclusive: one call at a time, from their owner thread
 *     (LMDB's rule: a transaction belongs to the thread that began it) — except the releases, which
 *     any thread may make.
 *   - A cursor call also holds its transaction for its duration, so a cursor and its transaction are
 *     never in use at once: kvh_cursor_next while the transaction is inside another call (another
 *     thread's, or the kvh_scan whose callback is running) returns KV_E_BUSY.
 *   - A kvh_scan callback runs while the scan holds its transaction: calling back into that
 *     transaction or its cursors from the callback returns KV_E_BUSY. Other handles may be used.
 *
 * HANDLE VALUES
 *   Opaque: compare them, store them, never compute with them. (For debugging only: the low 24 bits
 *   are slot index + 1, bits 24..31 the object type, bits 32..63 the slot's generation, which starts
 *   at 1 — so neither half of a valid handle is 0.) 0 is never valid. When a slot's generation would
 *   wrap, the slot is retired for good, so a handle value is never reissued for another object. The
 *   table holds KVH_CAPACITY live objects; beyond that (or after every slot was retired) creating an
 *   object returns KV_E_HANDLE_FULL, and nothing is created (kvh_env_open does not touch the file).
 *   A value whose bits do not name a live object exactly — its index, type bits or generation altered,
 *   even to the type of the object that lives in that slot — is forged: KV_E_BAD_HANDLE.
 *   KV_E_HANDLE_TYPE means the handle is live and genuine but names an object of another type than
 *   the function takes.
 *
 * COST
 *   Looking up a handle takes no lock and allocates nothing: one atomic load and one compare-and-swap
 *   to enter, one atomic add to leave. Creating and destroying handles takes a mutex. The calibration
 *   calls (kvh_noop, kvh_add, kvh_spin) never touch the environment, so they only validate its
 *   handle — one atomic load and a compare — without entering it.
 *
 * Every function returns 0 (KV_OK) or a negative kv.h error code, with the meaning documented in
 * kv.h for the engine function it wraps, plus the handle errors above. Out-parameters are written only
 * on success (and the lengths on KV_E_BUFFER_TOO_SMALL, as in kv.h).
 *
 * THREADS AND FINALIZERS
 *   A transaction and its cursors belong to the thread that began (or renewed) the transaction, as in
 *   kv.h; when that thread exits, they end (calls then return KV_E_WRONG_THREAD). Releasing works
 *   from any thread: kvh_release (any handle), kvh_txn_abort, kvh_cursor_close — see kvh_release.
 */
#ifndef KV_HANDLE_H
#define KV_HANDLE_H

#include "kv.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t kvh_handle;

#define KVH_NULL ((kvh_handle)0)
#define KVH_CAPACITY 65535u /**< Live objects the table can hold at once. */

/** Object types as encoded in a handle and reported by kvh_type. */
#define KVH_TYPE_ENV 1
#define KVH_TYPE_TXN 2
#define KVH_TYPE_CURSOR 3

/* Every function below returns KV_OK or a negative code. Besides the codes listed with it, each one
 * that takes a handle can return the HANDLE ERRORS of the top of this file — KV_E_BAD_HANDLE (zero,
 * forged, stale), KV_E_HANDLE_TYPE (another type), KV_E_BUSY (an exclusive handle in another call,
 * an environment being closed) — and then did nothing. The errors kv.h lists for the engine function
 * a kvh_ function wraps keep their meaning; the text says "kv_x" where the rest is kv.h's. */

/** The type of a live handle. Does not enter the object, so it also answers for an object that is
 *  in use by another call.
 * @param[in] h  any value.
 * @return KVH_TYPE_ENV, KVH_TYPE_TXN or KVH_TYPE_CURSOR; KV_E_BAD_HANDLE. */
KV_API int kvh_type(kvh_handle h);

/* ---- Calibration: the kv.h calibration calls, each validating env on the way (shared use). ---- */
/** Validates env and returns; the cheapest call that still checks a handle.
 * @param[in] env  an environment handle.
 * @return KV_OK; handle errors. */
KV_API int kvh_noop(kvh_handle env);
/** kv_add after validating env.
 * @param[out] sum  receives a + b (wrapping).
 * @return KV_OK; KV_E_INVALID (sum NULL); handle errors. */
KV_API int kvh_add(kvh_handle env, int a, int b, int *sum);
/** kv_spin after validating env.
 * @param[out] out  receives kv_spin(n).
 * @return KV_OK; KV_E_INVALID (out NULL); handle errors. */
KV_API int kvh_spin(kvh_handle env, uint64_t n, uint64_t *out);

/* ---- Environment (shared handle) ----------------------------------------------------------- */
/** kv_env_open.
 * @param[out] env   receives a new environment handle; `own`: release it with kvh_env_close or
 *                   kvh_release.
 * @param[in]  path  NUL-terminated file path; opts: options or NULL, as for kv_env_open.
 * @return KV_OK; kv_env_open's errors; KV_E_INVALID (env NULL); KV_E_HANDLE_FULL (nothing opened,
 *         the file untouched). */
KV_API int kvh_env_open(kvh_handle *env, const char *path, const kv_options *opts);
/** kv_env_close: closes the environment and releases its handle.
 * @return KV_OK; KV_E_BUSY (nothing closed) while another call is using it or while transactions
 *         are open on it (a transaction that was reset but not yet released counts as open) — see
 *         kvh_release for the close that waits instead. Unlike kv_env_close(NULL), closing KVH_NULL
 *         is KV_E_BAD_HANDLE. */
KV_API int kvh_env_close(kvh_handle env);
/** kv_env_set_map_size.
 * @return KV_OK; kv_env_set_map_size's errors (KV_E_BUSY while transactions are active, of any
 *         thread); handle errors. */
KV_API int kvh_env_set_map_size(kvh_handle env, uint64_t size);
/** kv_env_map_size.
 * @param[out] size  receives the map size in bytes.
 * @return KV_OK; KV_E_INVALID (size NULL); handle errors. */
KV_API int kvh_env_map_size(kvh_handle env, uint64_t *size);
/** kv_env_sync: what an environment opened KV_DURABLE_NOSYNC committed becomes durable.
 * @return KV_OK; KV_E_READ_ONLY; KV_E_IO; handle errors. */
KV_API int kvh_env_sync(kvh_handle env);
/** kv_env_put: a one-shot write in a transaction of its own.
 * @return KV_OK; kv_env_put's errors; handle errors. */
KV_API int kvh_env_put(kvh_handle env, const void *key, size_t key_len, const void *val,
                       size_t val_len);
/** kv_env_get: a one-shot read, copied into buf.
 * @param[out] len  receives the value's length (also with KV_E_BUFFER_TOO_SMALL); may be NULL.
 * @return KV_OK; kv_env_get's errors (KV_E_NOT_FOUND, KV_E_BUFFER_TOO_SMALL...); handle errors. */
KV_API int kvh_env_get(kvh_handle env, const void *key, size_t key_len, void *buf, size_t cap,
                       size_t *len);
/** kv_env_del: a one-shot delete.
 * @return KV_OK; kv_env_del's errors (KV_E_NOT_FOUND...); handle errors. */
KV_API int kvh_env_del(kvh_handle env, const void *key, size_t key_len);

/* ---- Transactions (exclusive handles) ------------------------------------------------------- */
/** kv_txn_begin, in the calling thread, which owns the transaction.
 * @param[out] txn    receives a new transaction handle; `own`: end it with kvh_txn_commit or
 *                    kvh_txn_abort (or kvh_release), which release the handle.
 * @param[in]  env    an environment handle (entered for the duration of the call only).
 * @param[in]  flags  KV_TXN_READ or KV_TXN_WRITE.
 * @return KV_OK; kv_txn_begin's errors (KV_E_BUSY for a second write transaction in this thread,
 *         KV_E_READERS_FULL...); KV_E_INVALID (txn NULL); KV_E_HANDLE_FULL; handle errors. */
KV_API int kvh_txn_begin(kvh_handle *txn, kvh_handle env, unsigned flags);
/** Commits and releases the handle, whatever the commit's result (a failed commit aborted), with one
 *  exception: KV_E_WRONG_THREAD (called from a thread that does not own it — or from any thread once
 *  its owner exited) changes nothing, and the handle stays.
 * @return KV_OK; kv_txn_commit's errors (KV_E_TXN_ENDED after a reset, KV_E_MAP_FULL,
 *         KV_E_TXN_FAILED, KV_E_IO: handle released); KV_E_WRONG_THREAD (handle kept); handle
 *         errors. */
KV_API int kvh_txn_commit(kvh_handle txn);
/** Aborts and releases the handle, from any thread (kv_txn_release: a write transaction of another
 *  living thread is aborted by that thread later, see kvh_release).
 * @return KV_OK; KV_E_TXN_ENDED when the transaction had ended already (reset, or its owner thread
 *         exited) — the handle is released in either case; handle errors. */
KV_API int kvh_txn_abort(kvh_handle txn);
/** kv_txn_reset: ends a read transaction but keeps its handle (and its reader slot) for
 *  kvh_txn_renew. Its cursors end for good (KV_E_CURSOR_ENDED, also after the renew).
 * @return KV_OK; KV_E_INVALID (a write transaction); KV_E_TXN_ENDED; KV_E_WRONG_THREAD; handle
 *         errors. */
KV_API int kvh_txn_reset(kvh_handle txn);
/** kv_txn_renew: a new snapshot in a reset read transaction. May be called from any thread, which
 *  becomes the owner.
 * @return KV_OK; KV_E_INVALID (a write transaction); KV_E_BUSY (still active); KV_E_IO; handle
 *         errors. */
KV_API int kvh_txn_renew(kvh_handle txn);
/** kv_txn_is_write.
 * @return 1 (write transaction) or 0 (read); handle errors (an in-use transaction: KV_E_BUSY). */
KV_API int kvh_txn_is_write(kvh_handle txn);

/* Reads and writes: kv.h's functions of the same names, on the transaction the handle names, from
 * its owner thread. Errors: kv.h's for each (KV_E_KEY_SIZE, KV_E_TXN_ENDED, KV_E_WRONG_THREAD,
 * KV_E_TXN_FAILED, KV_E_NOT_FOUND, KV_E_BUFFER_TOO_SMALL with the lengths...), and handle errors. */

/** kv_put: stores val under key. @return KV_OK; kv_put's errors (KV_E_MAP_FULL...). */
KV_API int kvh_put(kvh_handle txn, const void *key, size_t key_len, const void *val, size_t val_len);
/** kv_get: copies the value into buf. @param[out] len the value's length (also when too small).
 * @return KV_OK; kv_get's errors. */
KV_API int kvh_get(kvh_handle txn, const void *key, size_t key_len, void *buf, size_t cap,
                   size_t *len);
/** kv_del. @return KV_OK; kv_del's errors (KV_E_NOT_FOUND). */
KV_API int kvh_del(kvh_handle txn, const void *key, size_t key_len);
/** kv_get_batch: n lookups in one call. @return KV_OK; kv_get_batch's errors. */
KV_API int kvh_get_batch(kvh_handle txn, size_t n, const void *keys, const size_t *key_lens,
                         void *buf, size_t cap, size_t *val_lens, size_t *found);
/** kv_scan. The transaction stays entered while fn runs (in the calling thread): a callback that
 *  calls back into the same transaction or one of its cursors gets KV_E_BUSY; other handles may be
 *  used. @return as kv_scan. */
KV_API int kvh_scan(kvh_handle txn, const void *lo, size_t lo_len, const void *hi, size_t hi_len,
                    kv_scan_fn fn, void *payload, size_t *count);

/* ---- Cursors (exclusive handles) ------------------------------------------------------------- */
/** kv_cursor_open.
 * @param[out] cur  receives a cursor handle; `own`, release with kvh_cursor_close (or kvh_release).
 *                  A cursor handle stays valid after its transaction ends (calls return
 *                  KV_E_CURSOR_ENDED) until closed.
 * @return KV_OK; kv_cursor_open's errors; KV_E_INVALID (cur NULL); KV_E_HANDLE_FULL; KV_E_NO_MEMORY;
 *         handle errors. */
KV_API int kvh_cursor_open(kvh_handle *cur, kvh_handle txn, const void *start, size_t start_len);
/** Copies the next record into kbuf/vbuf (either may be NULL with a capacity of 0; a NULL buffer with
 *  a non-zero capacity is KV_E_INVALID). klen and vlen may be NULL when the caller does not need the
 *  lengths. When a buffer is too small: KV_E_BUFFER_TOO_SMALL, *klen and *vlen receive the lengths
 *  needed, nothing is copied, and the cursor does not advance, so the caller can retry with bigger
 *  buffers (kcap = vcap = 0 is a length query). The record stays pending across other calls too: if
 *  the transaction writes (kvh_put, kvh_del) before the retry, the retry returns the record at that
 *  key as it is then — or the next one, if the key was deleted.
 * @return KV_OK; KV_E_DONE at the end (and on every later call); KV_E_CURSOR_ENDED once the
 *         transaction has ended (committed, aborted or reset); KV_E_WRONG_THREAD; KV_E_INVALID;
 *         KV_E_BUFFER_TOO_SMALL; handle errors (KV_E_BUSY also while its transaction is in another
 *         call). */
KV_API int kvh_cursor_next(kvh_handle cur, void *kbuf, size_t kcap, size_t *klen, void *vbuf,
                           size_t vcap, size_t *vlen);
/** Closes a cursor and releases its handle, from any thread; allowed after its transaction ended.
 * @return KV_OK; KV_E_BUSY (nothing changes) while the cursor is in another call, or when its owner
 *         closes it while its transaction is inside another call (a kvh_scan callback's); handle
 *         errors. */
KV_API int kvh_cursor_close(kvh_handle cur);

/* ---- Release from any thread (for finalizers) ------------------------------------------------- */
/** Releases any live handle — environment, transaction or cursor — from any thread, the one call a
 *  garbage-collected binding's finalizer (a .NET SafeHandle's ReleaseHandle) needs:
 *   - a cursor is closed (kvh_cursor_close);
 *   - a transaction is aborted and freed (kv_txn_release: a write transaction of another living
 *     thread is aborted by that thread at its next kv_txn_begin, one-shot call, environment open or
 *     close, or when it exits — until then other writers of the environment wait);
 *   - an environment is closed now, or once its last transaction is released (kv_env_release);
 *     meanwhile its path counts as open. Its transactions stay usable until released.
 *  The handle is dead when the call returns KV_OK, whatever the engine still does later.
 * @return KV_OK; KV_E_BAD_HANDLE (zero, forged, stale: released already); KV_E_BUSY (nothing
 *         changes) while another call is inside the object — or, for a cursor closed by its owner,
 *         inside its transaction. A SafeHandle never releases a handle while a call holds it. */
KV_API int kvh_release(kvh_handle h);

/** How many handles are live (environments, transactions and cursors, of every thread): what a
 *  binding's test checks for leaks after a forced garbage collection. */
KV_API uint32_t kvh_live_count(void);

#ifdef __cplusplus
}
#endif
#endif /* KV_HANDLE_H */
