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
 *     that arrives while kvh_env_close is deciding gets KV_E_BUSY too (never a dangling object).
 *   - Transaction and cursor handles are exclusive: one call at a time, from their owner thread
 *     (LMDB's rule: a transaction belongs to the thread that began it).
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

/** The type of a live handle (KVH_TYPE_*), or KV_E_BAD_HANDLE. Does not enter the object, so it also
 *  answers for an object that is in use by another call. */
KV_API int kvh_type(kvh_handle h);

/* ---- Calibration: the kv.h calibration calls, each validating env on the way (shared use). ---- */
/** Validates env and returns KV_OK; the cheapest call that still checks a handle. */
KV_API int kvh_noop(kvh_handle env);
/** *sum = a + b (wrapping), after validating env. KV_E_INVALID if sum is NULL. */
KV_API int kvh_add(kvh_handle env, int a, int b, int *sum);
/** *out = kv_spin(n), after validating env. KV_E_INVALID if out is NULL. */
KV_API int kvh_spin(kvh_handle env, uint64_t n, uint64_t *out);

/* ---- Environment (shared handle) ----------------------------------------------------------- */
/** kv_env_open. *env receives a new environment handle; `own`, release with kvh_env_close.
 *  KV_E_INVALID if env is NULL; KV_E_HANDLE_FULL (nothing opened). */
KV_API int kvh_env_open(kvh_handle *env, const char *path, const kv_options *opts);
/** kv_env_close. KV_E_BUSY (nothing closed) while in use or while transactions are open on it (a
 *  transaction that was reset but not yet released with kvh_txn_commit/abort counts as open).
 *  Unlike kv_env_close(NULL), closing KVH_NULL is KV_E_BAD_HANDLE. */
KV_API int kvh_env_close(kvh_handle env);
KV_API int kvh_env_set_map_size(kvh_handle env, uint64_t size);
KV_API int kvh_env_put(kvh_handle env, const void *key, size_t key_len, const void *val,
                       size_t val_len);
KV_API int kvh_env_get(kvh_handle env, const void *key, size_t key_len, void *buf, size_t cap,
                       size_t *len);
KV_API int kvh_env_del(kvh_handle env, const void *key, size_t key_len);

/* ---- Transactions (exclusive handles) ------------------------------------------------------- */
/** kv_txn_begin. *txn receives a new transaction handle; `own`: end it with kvh_txn_commit or
 *  kvh_txn_abort, which release the handle. KV_E_INVALID if txn is NULL; KV_E_HANDLE_FULL. */
KV_API int kvh_txn_begin(kvh_handle *txn, kvh_handle env, unsigned flags);
/** Commits and releases the handle, whatever the commit's result (a failed commit aborted), with one
 *  exception: KV_E_WRONG_THREAD (called from a thread that does not own it) changes nothing, and the
 *  handle stays valid for its owner. Committing a transaction ended by kvh_txn_reset returns
 *  KV_E_TXN_ENDED, as kv_txn_commit does, and still releases the handle. */
KV_API int kvh_txn_commit(kvh_handle txn);
/** Aborts and releases the handle, from any thread (kv_txn_release: a write transaction of another
 *  living thread is aborted by that thread later). KV_OK; KV_E_TXN_ENDED when the transaction had
 *  ended already (reset, or its owner thread exited) — the handle is released in either case. */
KV_API int kvh_txn_abort(kvh_handle txn);
/** kv_txn_reset / kv_txn_renew: reuse a read transaction's handle without releasing it. A reset ends
 *  the transaction's cursors for good (KV_E_CURSOR_ENDED, also after the renew). kvh_txn_renew may be
 *  called from another thread, which becomes the owner. */
KV_API int kvh_txn_reset(kvh_handle txn);
KV_API int kvh_txn_renew(kvh_handle txn);

KV_API int kvh_put(kvh_handle txn, const void *key, size_t key_len, const void *val, size_t val_len);
KV_API int kvh_get(kvh_handle txn, const void *key, size_t key_len, void *buf, size_t cap,
                   size_t *len);
KV_API int kvh_del(kvh_handle txn, const void *key, size_t key_len);
KV_API int kvh_get_batch(kvh_handle txn, size_t n, const void *keys, const size_t *key_lens,
                         void *buf, size_t cap, size_t *val_lens, size_t *found);
KV_API int kvh_scan(kvh_handle txn, const void *lo, size_t lo_len, const void *hi, size_t hi_len,
                    kv_scan_fn fn, void *payload, size_t *count);

/* ---- Cursors (exclusive handles) ------------------------------------------------------------- */
/** kv_cursor_open. *cur receives a cursor handle; `own`, release with kvh_cursor_close. A cursor
 *  handle stays valid after its transaction ends (calls return KV_E_CURSOR_ENDED) until closed.
 *  KV_E_INVALID if cur is NULL; KV_E_HANDLE_FULL; KV_E_NO_MEMORY. */
KV_API int kvh_cursor_open(kvh_handle *cur, kvh_handle txn, const void *start, size_t start_len);
/** Copies the next record into kbuf/vbuf (either may be NULL with a capacity of 0; a NULL buffer with
 *  a non-zero capacity is KV_E_INVALID). klen and vlen may be NULL when the caller does not need the
 *  lengths. When a buffer is too small: KV_E_BUFFER_TOO_SMALL, *klen and *vlen receive the lengths
 *  needed, nothing is copied, and the cursor does not advance, so the caller can retry with bigger
 *  buffers (kcap = vcap = 0 is a length query). The record stays pending across other calls too: if
 *  the transaction writes (kvh_put, kvh_del) before the retry, the retry returns the record at that
 *  key as it is then — or the next one, if the key was deleted. KV_E_DONE at the end (and on every
 *  later call); KV_E_CURSOR_ENDED once the transaction has ended (committed, aborted or reset). */
KV_API int kvh_cursor_next(kvh_handle cur, void *kbuf, size_t kcap, size_t *klen, void *vbuf,
                           size_t vcap, size_t *vlen);
/** Closes a cursor and releases its handle, from any thread; allowed after its transaction ended.
 *  KV_E_BUSY (nothing changes) while the cursor is in another call, or when its owner closes it while
 *  its transaction is inside another call (a kvh_scan callback's). */
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
