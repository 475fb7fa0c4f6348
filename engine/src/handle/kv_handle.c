/* kv_handle.c — the handle ABI (kv_handle.h): the engine's objects behind checked 64-bit handles.
 *
 * THE TABLE
 *   A static array of KVH_CAPACITY slots; a handle names slot `index` as
 *       handle = generation << 32 | type << 24 | (index + 1)
 *   and each slot carries one atomic 64-bit state word laid out the same way in its high 40 bits:
 *
 *       63            32 31     24 23   22     21            0
 *      +----------------+---------+----+------+---------------+
 *      |   generation   |  type   |LIVE|LOCKED|     users     |
 *      +----------------+---------+----+------+---------------+
 *
 *   so a handle is valid exactly when its generation and type equal the slot's and LIVE is set: one
 *   compare of (state & ~users-and-LOCKED) against (handle & ~0xffffff | LIVE). `users` counts the
 *   calls currently inside the object; LOCKED is set by kvh_env_close while it closes the environment.
 *
 * THE FAST PATH (kvh__enter / kvh__leave): no lock, no allocation.
 *   1. load the state (acquire);
 *   2. check generation, type, LIVE (and that LOCKED is clear);
 *   3. CAS users -> users + 1 (acquire). A shared handle (environment) admits any number of users; an
 *      exclusive one (transaction, cursor) admits one: the CAS is only tried from users == 0, so the
 *      second caller gets KV_E_BUSY and never reaches the engine;
 *   4. the call runs; then an atomic decrement (release) leaves.
 *   The CAS compares the whole word, generation included, so it cannot succeed on a slot that was
 *   destroyed (and perhaps reused) after step 1: generations only grow, and a slot whose generation
 *   would wrap is retired, so a state word never takes the same value twice across reuse (no ABA).
 *
 * CREATION AND DESTRUCTION
 *   Creating reserves a slot under kvh__lock first (so a full table fails with KV_E_HANDLE_FULL before
 *   anything is created), creates the engine object outside the lock, then publishes it; if the engine
 *   fails, the slot goes back unpublished, its generation untouched. Destroying bumps the generation
 *   and pushes the slot on a LIFO free list (recently used slots are warm in cache). The calibration
 *   calls only validate their environment handle (one load, no entry): they never touch the object.
 *
 * MEMORY ORDERING
 *   - Publication: the creator writes slot->obj (and the per-type fields), then stores the LIVE state
 *     with release. A caller's acquire CAS (step 3) reads that store or a later read-modify-write of
 *     the word (other callers' increments and decrements, which continue the release sequence), so the
 *     object pointer and everything the engine wrote into the object happen-before its use.
 *   - Calls on one exclusive object: each caller leaves with a release decrement and the next one
 *     enters with an acquire CAS that reads it, so successive calls on a transaction or cursor — even
 *     from different threads, which the engine then rejects with KV_E_WRONG_THREAD — are ordered, and
 *     the engine's plain fields need no atomics of their own.
 *   - Destruction: the destroyer holds the object exclusively (transaction, cursor: users == 1, its own
 *     entry; environment: the CAS users == 0 -> LOCKED, acquire, which reads every earlier caller's
 *     release decrement). It frees the object, then stores the next generation without LIVE (release)
 *     under the table mutex. A later caller that observes the dead state with an acquire load knows the
 *     engine's work on the old object is complete (the cursor code relies on this, below).
 *   - Slot reuse: the free list and the per-slot bookkeeping (next_free, taken, retired) are touched
 *     only under kvh__lock, which orders a destroyer's last writes before the next creator's first.
 *
 * CURSORS
 *   The engine's cursor is zero-copy; kvh_cursor_next copies into the caller's buffers. A record that
 *   does not fit stays pending in the cursor's wrapper (its map pointers, plus a copy of its key), so
 *   the retry returns it without advancing. kv.h keeps those pointers valid only until the next cursor
 *   call, the end of the transaction, or a write in it, so the wrapper also records the transaction's
 *   write and end counters (kept in the transaction's slot): after a write the cursor re-seeks to the
 *   saved key, after an end the pending record is dropped (the engine then reports
 *   KV_E_CURSOR_ENDED). A cursor call also enters its transaction's handle (exclusively), so a cursor
 *   and its transaction are never inside the engine at the same time, from any threads; when that
 *   handle is dead (committed or aborted), the engine has detached the cursor and answers
 *   KV_E_CURSOR_ENDED by itself.
 */
#define _POSIX_C_SOURCE 200809L
#include "kv_handle.h"

#include "kv_internal.h"
#include "kv_handle_debug.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- Handle and state layout ------------------------------------------------------------------ */
#define KVH__INDEX_MASK UINT64_C(0xffffff) /* handle bits 0..23: index + 1 */
#define KVH__TYPE_SHIFT 24                 /* handle and state bits 24..31: type */
#define KVH__GEN_SHIFT 32                  /* handle and state bits 32..63: generation */
#define KVH__GEN_MAX UINT32_MAX            /* a slot that reaches it is retired after this use */

#define KVH__LIVE (UINT64_C(1) << 23)          /* the slot holds a published object */
#define KVH__LOCKED (UINT64_C(1) << 22)        /* kvh_env_close owns the environment */
#define KVH__USERS ((UINT64_C(1) << 22) - 1u)  /* calls inside the object: 4M - 1 at most */
#define KVH__NAME_MASK (~KVH__INDEX_MASK)      /* generation and type: what a handle must match */

_Static_assert(KVH_CAPACITY <= KVH__INDEX_MASK, "index + 1 must fit the handle's index bits");
_Static_assert(KVH_TYPE_ENV == 1 && KVH_TYPE_TXN == 2 && KVH_TYPE_CURSOR == 3, "type codes");

static inline uint32_t kvh__gen(uint64_t word) { return (uint32_t)(word >> KVH__GEN_SHIFT); }
static inline unsigned kvh__type_of(uint64_t word) {
  return (unsigned)(word >> KVH__TYPE_SHIFT) & 0xffu;
}

/* ---- The table --------------------------------------------------------------------------------- */

/* One slot per cache line: transactions and cursors of different threads live in neighbouring slots,
 * and each call writes its slot's state twice, so sharing lines would make independent threads
 * contend. 64 B x 65535 = 4 MiB of zero-initialised static storage; only slots ever handed out are
 * touched (slots are handed out from the bottom, and freed ones are reused first), so the resident
 * cost grows with the number of live objects, not with the capacity. */
typedef struct kvh__slot {
  _Alignas(64) _Atomic uint64_t state;
  /* The object: kv_env *, kv_txn *, or kvh__cursor *. Written before the LIVE store (release), read
   * only by a caller that entered (acquire), or by the creator or destroyer. */
  void *obj;
  /* Transaction slots: counters of the kvh_put/kvh_del calls and of the ends (reset, renew) of the
   * transaction, read by its cursors to decide whether a pending record's pointers still hold.
   * Accessed only by a caller inside the (exclusive) transaction. */
  uint64_t writes;
  uint64_t ends;
  /* Under kvh__lock only. */
  uint32_t next_free; /* index + 1 of the next free slot; 0 ends the list */
  uint8_t taken;      /* reserved or live: not on the free list */
  uint8_t retired;    /* generation exhausted: never handed out again */
} kvh__slot;

_Static_assert(sizeof(kvh__slot) == 64, "one slot per cache line");

static kvh__slot kvh__slots[KVH_CAPACITY];
static pthread_mutex_t kvh__lock = PTHREAD_MUTEX_INITIALIZER;
/* Under kvh__lock. */
static uint32_t kvh__free_head; /* index + 1 of the first free slot (LIFO), 0 when empty */
static uint32_t kvh__touched;   /* slots [0, touched) have been handed out at least once */
static uint32_t kvh__live;      /* taken slots */
static uint32_t kvh__nretired;  /* retired slots */

/* The cursor wrapper: the engine's cursor, the transaction it belongs to, and a pending record. */
typedef struct kvh__cursor {
  kv_cursor *cur;
  kvh_handle txn; /* the parent transaction's handle; dead once it is committed or aborted */
  /* A record fetched from the engine but not delivered (buffers too small). */
  bool pending;
  const void *pk, *pv; /* engine pointers; valid while the transaction's counters are unchanged */
  size_t pklen, pvlen;
  uint64_t pwrites, pends; /* the transaction's counters when the record was fetched */
  unsigned char pkey[KV_KEY_MAX]; /* the key, to re-seek after a write moved the data */
} kvh__cursor;

static const char *kvh__type_name(unsigned type) {
  switch (type) {
  case KVH_TYPE_ENV: return "an environment";
  case KVH_TYPE_TXN: return "a transaction";
  case KVH_TYPE_CURSOR: return "a cursor";
  default: return "an unknown type";
  }
}

/* ---- Rejection (cold): why a handle did not pass the fast path --------------------------------- */

/* Classifies handle h, expected to be of type `want`, given `st`: the slot state that the fast path
 * saw (or 0 when it did not get as far as loading it). `exclusive` tells whether the caller needed the
 * object to itself (users == 0). Records the error and returns its code. */
KV__COLD static int kvh__reject(kvh_handle h, unsigned want, bool exclusive, uint64_t st,
                                const char *fn) {
  const uint32_t idx1 = (uint32_t)(h & KVH__INDEX_MASK);
  const unsigned htype = kvh__type_of(h);
  if (h == KVH_NULL) return kv__fail(KV_E_BAD_HANDLE, "%s: handle is 0 (KVH_NULL)", fn);
  if (idx1 == 0 || idx1 > KVH_CAPACITY)
    return kv__fail(KV_E_BAD_HANDLE, "%s: handle 0x%016" PRIx64 " is forged (slot index out of range)",
                    fn, h);
  if (htype < KVH_TYPE_ENV || htype > KVH_TYPE_CURSOR)
    return kv__fail(KV_E_BAD_HANDLE, "%s: handle 0x%016" PRIx64 " is forged (type bits %u)", fn, h,
                    htype);
  /* The fast path folds the type test into its index test, so for a handle of another type it never
   * loaded the slot: do it now. */
  if (htype != want) st = atomic_load_explicit(&kvh__slots[idx1 - 1].state, memory_order_acquire);
  if (!(st & KVH__LIVE) || (st & KVH__NAME_MASK) != (h & KVH__NAME_MASK)) {
    if ((st & KVH__LIVE) && kvh__gen(st) == kvh__gen(h))
      return kv__fail(KV_E_BAD_HANDLE, "%s: handle 0x%016" PRIx64 " is forged (its slot holds %s)",
                      fn, h, kvh__type_name(kvh__type_of(st)));
    return kv__fail(KV_E_BAD_HANDLE,
                    "%s: handle 0x%016" PRIx64 " is stale: its object was closed or freed (slot %" PRIu32
                    " is at generation %" PRIu32 ")",
                    fn, h, idx1 - 1, kvh__gen(st));
  }
  if (htype != want)
    return kv__fail(KV_E_HANDLE_TYPE, "%s: handle 0x%016" PRIx64 " is %s, not %s", fn, h,
                    kvh__type_name(htype), kvh__type_name(want));
  if (st & KVH__LOCKED)
    return kv__fail(KV_E_BUSY, "%s: the environment is being closed by another call", fn);
  const uint64_t users = st & KVH__USERS;
  if (exclusive && users && htype == KVH_TYPE_ENV)
    return kv__fail(KV_E_BUSY, "%s: the environment is in use by %" PRIu64 " call(s)", fn, users);
  if (exclusive && users)
    return kv__fail(KV_E_BUSY, "%s: %s is in use by another call (one call at a time)", fn,
                    kvh__type_name(htype));
  if (users == KVH__USERS)
    return kv__fail(KV_E_BUSY, "%s: too many calls inside this environment at once", fn);
  return kv__fail(KV_E_INTERNAL, "%s: handle 0x%016" PRIx64 " rejected in state 0x%016" PRIx64, fn, h,
                  st);
}

/* ---- Fast path -------------------------------------------------------------------------------- */

/* The slot that h names if h's type bits are `type` and its index is in range, else NULL. The type
 * test is folded into the index test: the xor clears the type byte only when it equals `type`;
 * otherwise the result is >= 1 << 24 > KVH_CAPACITY. An index of 0 wraps to UINT32_MAX. */
static inline kvh__slot *kvh__slot_of(kvh_handle h, unsigned type) {
  uint32_t idx = ((uint32_t)h ^ ((uint32_t)type << KVH__TYPE_SHIFT)) - 1u;
  return KV__LIKELY(idx < KVH_CAPACITY) ? &kvh__slots[idx] : NULL;
}

/* The state a slot holding h's object has, users and LOCKED aside. */
static inline uint64_t kvh__want(kvh_handle h, unsigned type) {
  return (h & ~UINT64_C(0xffffffff)) | ((uint64_t)type << KVH__TYPE_SHIFT) | KVH__LIVE;
}

/* Enters h, of type `type`, as one more user: returns its slot, which the caller must kvh__leave, or
 * NULL with *err set (and the error recorded). Shared (environment) or exclusive (transaction, cursor)
 * follows from the type; always inlined with a constant type, so the choice costs nothing. */
static inline kvh__slot *kvh__enter(kvh_handle h, unsigned type, int *err, const char *fn) {
  const bool exclusive = type != KVH_TYPE_ENV;
  kvh__slot *s = kvh__slot_of(h, type);
  if (KV__UNLIKELY(!s)) {
    *err = kvh__reject(h, type, exclusive, 0, fn);
    return NULL;
  }
  const uint64_t want = kvh__want(h, type);
  uint64_t st = atomic_load_explicit(&s->state, memory_order_acquire);
  for (;;) {
    /* LOCKED lies outside the users mask: a closing environment fails this compare. */
    const uint64_t users = st & KVH__USERS;
    if (KV__UNLIKELY((st & ~KVH__USERS) != want ||
                     (exclusive ? users != 0 : users == KVH__USERS))) {
      *err = kvh__reject(h, type, exclusive, st, fn);
      return NULL;
    }
    /* Acquire on success: pairs with the publication and with the previous users' release decrements.
     * Acquire on failure too, since a failure may end in a rejection whose callers (the cursor code)
     * rely on a dead state being ordered after the destroyer's work. The loop only repeats when
     * another shared user came or went (or spuriously: the weak form). */
    if (KV__LIKELY(atomic_compare_exchange_weak_explicit(&s->state, &st, st + 1, memory_order_acquire,
                                                         memory_order_acquire)))
      return s;
  }
}

/* Leaves a slot entered with kvh__enter: release, so this call's effects on the object happen-before
 * the next user's entry and before the destroyer's. */
static inline void kvh__leave(kvh__slot *s) {
  atomic_fetch_sub_explicit(&s->state, 1, memory_order_release);
}

/* Validates an environment handle without entering it: for the calibration calls, which do not touch
 * the environment and so need not keep it from being closed. One relaxed load and one compare: nothing
 * is read through the slot, so there is nothing to order. A closing environment still validates. */
static inline int kvh__check_env(kvh_handle h, const char *fn) {
  kvh__slot *s = kvh__slot_of(h, KVH_TYPE_ENV);
  if (KV__UNLIKELY(!s)) return kvh__reject(h, KVH_TYPE_ENV, false, 0, fn);
  uint64_t st = atomic_load_explicit(&s->state, memory_order_relaxed);
  if (KV__UNLIKELY((st & ~(KVH__USERS | KVH__LOCKED)) != kvh__want(h, KVH_TYPE_ENV)))
    return kvh__reject(h, KVH_TYPE_ENV, false, st, fn);
  return KV_OK;
}

/* ---- Creation and destruction (under kvh__lock) ------------------------------------------------ */

/* Takes a slot for an object about to be created. The slot is not LIVE, so no handle validates
 * against it until kvh__publish. Nothing the engine does happens under the lock. */
static int kvh__reserve(uint32_t *index, const char *fn) {
  pthread_mutex_lock(&kvh__lock);
  uint32_t idx;
  if (kvh__free_head) {
    idx = kvh__free_head - 1;
    kvh__free_head = kvh__slots[idx].next_free;
  } else if (kvh__touched < KVH_CAPACITY) {
    idx = kvh__touched++;
  } else {
    uint32_t live = kvh__live, retired = kvh__nretired;
    pthread_mutex_unlock(&kvh__lock);
    return kv__fail(KV_E_HANDLE_FULL, "%s: all %u handle slots are taken (%" PRIu32 " live, %" PRIu32
                    " retired)", fn, KVH_CAPACITY, live, retired);
  }
  kvh__slots[idx].taken = 1;
  kvh__slots[idx].next_free = 0;
  kvh__live++;
  pthread_mutex_unlock(&kvh__lock);
  *index = idx;
  return KV_OK;
}

/* Returns a reserved slot that was never published (its object could not be created). Its generation
 * is unchanged: no handle carrying it was ever issued. */
static void kvh__unreserve(uint32_t idx) {
  kvh__slot *s = &kvh__slots[idx];
  pthread_mutex_lock(&kvh__lock);
  s->taken = 0;
  s->next_free = kvh__free_head;
  kvh__free_head = idx + 1;
  kvh__live--;
  pthread_mutex_unlock(&kvh__lock);
}

/* Publishes obj in reserved slot idx and returns its handle. The slot's generation was set when it was
 * last destroyed (0 for a slot never used: generations start at 1, so the high half of a handle is
 * never 0). The release store makes obj and the counters visible to whoever validates the handle. */
static kvh_handle kvh__publish(uint32_t idx, unsigned type, void *obj) {
  kvh__slot *s = &kvh__slots[idx];
  /* Relaxed: the last store to this word was made under kvh__lock, which kvh__reserve took since. */
  uint64_t gen = kvh__gen(atomic_load_explicit(&s->state, memory_order_relaxed));
  if (gen == 0) gen = 1;
  s->obj = obj;
  s->writes = 0;
  s->ends = 0;
  const uint64_t name = gen << KVH__GEN_SHIFT | (uint64_t)type << KVH__TYPE_SHIFT;
  atomic_store_explicit(&s->state, name | KVH__LIVE, memory_order_release);
  return name | (idx + 1);
}

/* Destroys the object's slot after the object was freed: the caller holds it exclusively (users == 1
 * for a transaction or cursor, LOCKED for an environment), so no one else writes the state word.
 * Bumps the generation — every handle to the slot dies at once — or, when the generation would wrap,
 * retires the slot for good. */
static void kvh__destroy(kvh__slot *s, kvh_handle h) {
  const uint32_t gen = kvh__gen(h);
  const uint32_t idx = (uint32_t)(h & KVH__INDEX_MASK) - 1;
  pthread_mutex_lock(&kvh__lock);
  s->obj = NULL;
  s->taken = 0;
  kvh__live--;
  if (gen == KVH__GEN_MAX) {
    s->retired = 1;
    kvh__nretired++;
    atomic_store_explicit(&s->state, (uint64_t)gen << KVH__GEN_SHIFT, memory_order_release);
  } else {
    atomic_store_explicit(&s->state, (uint64_t)(gen + 1) << KVH__GEN_SHIFT, memory_order_release);
    s->next_free = kvh__free_head;
    kvh__free_head = idx + 1;
  }
  pthread_mutex_unlock(&kvh__lock);
}

/* ---- Test hooks (kv_handle_debug.h) ------------------------------------------------------------ */
void kv__handle_debug_stats(kv__handle_stats *out) {
  pthread_mutex_lock(&kvh__lock);
  out->live = kvh__live;
  out->retired = kvh__nretired;
  out->touched = kvh__touched;
  out->free = kvh__touched - kvh__live - kvh__nretired;
  pthread_mutex_unlock(&kvh__lock);
}

int kv__handle_debug_set_generation(uint32_t index, uint32_t generation) {
  if (index >= KVH_CAPACITY || generation == 0)
    return kv__fail(KV_E_INVALID, "kv__handle_debug_set_generation: index %" PRIu32
                    " or generation %" PRIu32 " out of range", index, generation);
  kvh__slot *s = &kvh__slots[index];
  int rc = KV_OK;
  pthread_mutex_lock(&kvh__lock);
  if (s->taken) rc = kv__fail(KV_E_BUSY, "kv__handle_debug_set_generation: slot is in use");
  else if (s->retired) rc = kv__fail(KV_E_HANDLE_FULL, "kv__handle_debug_set_generation: retired");
  else atomic_store_explicit(&s->state, (uint64_t)generation << KVH__GEN_SHIFT, memory_order_release);
  pthread_mutex_unlock(&kvh__lock);
  return rc;
}

/* ---- Introspection and calibration ------------------------------------------------------------- */
int kvh_type(kvh_handle h) {
  const unsigned htype = kvh__type_of(h);
  const uint32_t idx1 = (uint32_t)(h & KVH__INDEX_MASK);
  if (idx1 == 0 || idx1 > KVH_CAPACITY || htype < KVH_TYPE_ENV || htype > KVH_TYPE_CURSOR)
    return kvh__reject(h, htype, false, 0, "kvh_type");
  uint64_t st = atomic_load_explicit(&kvh__slots[idx1 - 1].state, memory_order_relaxed);
  if ((st & ~(KVH__USERS | KVH__LOCKED)) != ((h & KVH__NAME_MASK) | KVH__LIVE))
    return kvh__reject(h, htype, false, st, "kvh_type");
  return (int)htype;
}

int kvh_noop(kvh_handle env) { return kvh__check_env(env, "kvh_noop"); }

int kvh_add(kvh_handle env, int a, int b, int *sum) {
  int rc = kvh__check_env(env, "kvh_add");
  if (KV__UNLIKELY(rc)) return rc;
  if (KV__UNLIKELY(!sum)) return kv__fail(KV_E_INVALID, "kvh_add: sum is NULL");
  *sum = kv_add(a, b);
  return KV_OK;
}

int kvh_spin(kvh_handle env, uint64_t n, uint64_t *out) {
  int rc = kvh__check_env(env, "kvh_spin");
  if (KV__UNLIKELY(rc)) return rc;
  if (KV__UNLIKELY(!out)) return kv__fail(KV_E_INVALID, "kvh_spin: out is NULL");
  *out = kv_spin(n);
  return KV_OK;
}

/* ---- Environment ------------------------------------------------------------------------------- */
int kvh_env_open(kvh_handle *env, const char *path, const kv_options *opts) {
  if (!env) return kv__fail(KV_E_INVALID, "kvh_env_open: env is NULL");
  uint32_t idx = 0; /* (gcc -O3 cannot see that kvh__reserve sets it whenever it returns 0) */
  int rc = kvh__reserve(&idx, "kvh_env_open");
  if (rc) return rc;
  kv_env *e;
  rc = kv_env_open(&e, path, opts);
  if (rc) {
    kvh__unreserve(idx);
    return rc;
  }
  *env = kvh__publish(idx, KVH_TYPE_ENV, e);
  return KV_OK;
}

/* kvh_env_close (defer false: KV_E_BUSY while transactions are open) and kvh_release (defer true:
 * the engine closes the environment when its last transaction goes). Either way the handle goes only
 * from users == 0: a call still inside the environment makes it KV_E_BUSY. */
static int kvh__env_close(kvh_handle env, bool defer, const char *fn) {
  kvh__slot *s = kvh__slot_of(env, KVH_TYPE_ENV);
  if (!s) return kvh__reject(env, KVH_TYPE_ENV, true, 0, fn);
  const uint64_t want = kvh__want(env, KVH_TYPE_ENV);
  uint64_t st = atomic_load_explicit(&s->state, memory_order_acquire);
  /* Lock the environment: only from users == 0, and LOCKED keeps new callers out (they get
   * KV_E_BUSY) while the engine decides. Acquire: every earlier caller's release decrement is read
   * here, so their calls are over before the close. */
  do {
    if (st != want) return kvh__reject(env, KVH_TYPE_ENV, true, st, fn);
  } while (!atomic_compare_exchange_weak_explicit(&s->state, &st, want | KVH__LOCKED,
                                                  memory_order_acquire, memory_order_acquire));
  int rc = defer ? kv_env_release((kv_env *)s->obj) : kv_env_close((kv_env *)s->obj);
  if (rc) {
    /* Transactions are still open (KV_E_BUSY): unlock. No one else wrote the word while LOCKED. */
    atomic_store_explicit(&s->state, want, memory_order_release);
    return rc;
  }
  kvh__destroy(s, env);
  return KV_OK;
}

int kvh_env_close(kvh_handle env) { return kvh__env_close(env, false, "kvh_env_close"); }

int kvh_env_set_map_size(kvh_handle env, uint64_t size) {
  int rc;
  kvh__slot *s = kvh__enter(env, KVH_TYPE_ENV, &rc, "kvh_env_set_map_size");
  if (KV__UNLIKELY(!s)) return rc;
  rc = kv_env_set_map_size((kv_env *)s->obj, size);
  kvh__leave(s);
  return rc;
}

int kvh_env_map_size(kvh_handle env, uint64_t *size) {
  int rc;
  kvh__slot *s = kvh__enter(env, KVH_TYPE_ENV, &rc, "kvh_env_map_size");
  if (KV__UNLIKELY(!s)) return rc;
  rc = kv_env_map_size((kv_env *)s->obj, size);
  kvh__leave(s);
  return rc;
}

int kvh_env_sync(kvh_handle env) {
  int rc;
  kvh__slot *s = kvh__enter(env, KVH_TYPE_ENV, &rc, "kvh_env_sync");
  if (KV__UNLIKELY(!s)) return rc;
  rc = kv_env_sync((kv_env *)s->obj);
  kvh__leave(s);
  return rc;
}

int kvh_env_put(kvh_handle env, const void *key, size_t key_len, const void *val, size_t val_len) {
  int rc;
  kvh__slot *s = kvh__enter(env, KVH_TYPE_ENV, &rc, "kvh_env_put");
  if (KV__UNLIKELY(!s)) return rc;
  rc = kv_env_put((kv_env *)s->obj, key, key_len, val, val_len);
  kvh__leave(s);
  return rc;
}

int kvh_env_get(kvh_handle env, const void *key, size_t key_len, void *buf, size_t cap, size_t *len) {
  int rc;
  kvh__slot *s = kvh__enter(env, KVH_TYPE_ENV, &rc, "kvh_env_get");
  if (KV__UNLIKELY(!s)) return rc;
  rc = kv_env_get((kv_env *)s->obj, key, key_len, buf, cap, len);
  kvh__leave(s);
  return rc;
}

int kvh_env_del(kvh_handle env, const void *key, size_t key_len) {
  int rc;
  kvh__slot *s = kvh__enter(env, KVH_TYPE_ENV, &rc, "kvh_env_del");
  if (KV__UNLIKELY(!s)) return rc;
  rc = kv_env_del((kv_env *)s->obj, key, key_len);
  kvh__leave(s);
  return rc;
}

/* ---- Transactions ------------------------------------------------------------------------------ */
int kvh_txn_begin(kvh_handle *txn, kvh_handle env, unsigned flags) {
  static const char fn[] = "kvh_txn_begin";
  if (!txn) return kv__fail(KV_E_INVALID, "%s: txn is NULL", fn);
  int rc;
  kvh__slot *es = kvh__enter(env, KVH_TYPE_ENV, &rc, fn);
  if (!es) return rc;
  uint32_t idx = 0; /* (gcc -O3 cannot see that kvh__reserve sets it whenever it returns 0) */
  if ((rc = kvh__reserve(&idx, fn)) == KV_OK) {
    kv_txn *t;
    rc = kv_txn_begin(&t, (kv_env *)es->obj, flags);
    if (rc) kvh__unreserve(idx);
    else *txn = kvh__publish(idx, KVH_TYPE_TXN, t);
  }
  /* The environment is left only now: the new transaction already counts in the engine, so a
   * concurrent kvh_env_close cannot slip in between and close the environment under it. */
  kvh__leave(es);
  return rc;
}

/* Commit or abort, then release: the handle goes whatever the result — except for a commit from a
 * thread that is not the owner, in which case the engine did nothing and the handle stays. An abort
 * works from any thread (kv_txn_release: a write transaction of another living thread is ended by
 * that thread later). The caller holds the transaction exclusively, so no call of its owner (or on
 * one of its cursors) is running: kv_txn_release's one condition. */
static int kvh__txn_end(kvh_handle txn, bool commit, const char *fn) {
  int rc;
  kvh__slot *s = kvh__enter(txn, KVH_TYPE_TXN, &rc, fn);
  if (KV__UNLIKELY(!s)) return rc;
  kv_txn *t = s->obj;
  rc = KV_OK;
  if (commit) {
    rc = kv_txn_commit(t);
    if (rc == KV_E_WRONG_THREAD) {
      kvh__leave(s);
      return rc;
    }
  } else if (!kv__txn_active(t)) {
    rc = kv__fail(KV_E_TXN_ENDED, "%s: the transaction had ended (its handle is released now)", fn);
  }
  kv_txn_release(t);
  kvh__destroy(s, txn);
  return rc;
}

int kvh_txn_commit(kvh_handle txn) { return kvh__txn_end(txn, true, "kvh_txn_commit"); }

int kvh_txn_abort(kvh_handle txn) { return kvh__txn_end(txn, false, "kvh_txn_abort"); }

int kvh_txn_reset(kvh_handle txn) {
  int rc;
  kvh__slot *s = kvh__enter(txn, KVH_TYPE_TXN, &rc, "kvh_txn_reset");
  if (KV__UNLIKELY(!s)) return rc;
  rc = kv_txn_reset(s->obj);
  if (rc == KV_OK) s->ends++; /* its cursors ended: pending records are void */
  kvh__leave(s);
  return rc;
}

int kvh_txn_renew(kvh_handle txn) {
  int rc;
  kvh__slot *s = kvh__enter(txn, KVH_TYPE_TXN, &rc, "kvh_txn_renew");
  if (KV__UNLIKELY(!s)) return rc;
  rc = kv_txn_renew(s->obj);
  if (rc == KV_OK) s->ends++;
  kvh__leave(s);
  return rc;
}

int kvh_txn_is_write(kvh_handle txn) {
  int rc;
  kvh__slot *s = kvh__enter(txn, KVH_TYPE_TXN, &rc, "kvh_txn_is_write");
  if (KV__UNLIKELY(!s)) return rc;
  rc = kv_txn_is_write(s->obj);
  kvh__leave(s);
  return rc;
}

int kvh_put(kvh_handle txn, const void *key, size_t key_len, const void *val, size_t val_len) {
  int rc;
  kvh__slot *s = kvh__enter(txn, KVH_TYPE_TXN, &rc, "kvh_put");
  if (KV__UNLIKELY(!s)) return rc;
  s->writes++; /* counted even if the put fails: LMDB may have touched pages before failing */
  rc = kv_put(s->obj, key, key_len, val, val_len);
  kvh__leave(s);
  return rc;
}

int kvh_get(kvh_handle txn, const void *key, size_t key_len, void *buf, size_t cap, size_t *len) {
  int rc;
  kvh__slot *s = kvh__enter(txn, KVH_TYPE_TXN, &rc, "kvh_get");
  if (KV__UNLIKELY(!s)) return rc;
  rc = kv_get(s->obj, key, key_len, buf, cap, len);
  kvh__leave(s);
  return rc;
}

int kvh_del(kvh_handle txn, const void *key, size_t key_len) {
  int rc;
  kvh__slot *s = kvh__enter(txn, KVH_TYPE_TXN, &rc, "kvh_del");
  if (KV__UNLIKELY(!s)) return rc;
  s->writes++;
  rc = kv_del(s->obj, key, key_len);
  kvh__leave(s);
  return rc;
}

int kvh_get_batch(kvh_handle txn, size_t n, const void *keys, const size_t *key_lens, void *buf,
                  size_t cap, size_t *val_lens, size_t *found) {
  int rc;
  kvh__slot *s = kvh__enter(txn, KVH_TYPE_TXN, &rc, "kvh_get_batch");
  if (KV__UNLIKELY(!s)) return rc;
  rc = kv_get_batch(s->obj, n, keys, key_lens, buf, cap, val_lens, found);
  kvh__leave(s);
  return rc;
}

/* The transaction stays entered while fn runs: a callback that calls back into the same transaction
 * (or one of its cursors) gets KV_E_BUSY, like any second caller of an exclusive handle. */
int kvh_scan(kvh_handle txn, const void *lo, size_t lo_len, const void *hi, size_t hi_len,
             kv_scan_fn fn, void *payload, size_t *count) {
  int rc;
  kvh__slot *s = kvh__enter(txn, KVH_TYPE_TXN, &rc, "kvh_scan");
  if (KV__UNLIKELY(!s)) return rc;
  rc = kv_scan(s->obj, lo, lo_len, hi, hi_len, fn, payload, count);
  kvh__leave(s);
  return rc;
}

/* ---- Cursors ----------------------------------------------------------------------------------- */
int kvh_cursor_open(kvh_handle *cur, kvh_handle txn, const void *start, size_t start_len) {
  static const char fn[] = "kvh_cursor_open";
  if (!cur) return kv__fail(KV_E_INVALID, "%s: cur is NULL", fn);
  int rc;
  kvh__slot *ts = kvh__enter(txn, KVH_TYPE_TXN, &rc, fn);
  if (!ts) return rc;
  uint32_t idx = 0; /* (gcc -O3 cannot see that kvh__reserve sets it whenever it returns 0) */
  if ((rc = kvh__reserve(&idx, fn)) == KV_OK) {
    kvh__cursor *w = malloc(sizeof *w);
    if (!w) rc = kv__fail(KV_E_NO_MEMORY, "%s", fn);
    else if ((rc = kv_cursor_open(&w->cur, ts->obj, start, start_len)) != KV_OK) free(w);
    if (rc) {
      kvh__unreserve(idx);
    } else {
      w->txn = txn;
      w->pending = false;
      *cur = kvh__publish(idx, KVH_TYPE_CURSOR, w);
    }
  }
  kvh__leave(ts);
  return rc;
}

/* Enters a cursor's transaction: returns its slot, or NULL with *err = 1 when the transaction's handle
 * is dead — committed or aborted, so the engine has detached the cursor, and the acquire load orders
 * the engine's work before ours (no error is recorded) — or *err = KV_E_BUSY when the transaction is
 * inside another call. */
static kvh__slot *kvh__enter_parent(kvh_handle txn, int *err, const char *fn) {
  kvh__slot *s = &kvh__slots[(uint32_t)(txn & KVH__INDEX_MASK) - 1];
  const uint64_t want = kvh__want(txn, KVH_TYPE_TXN);
  uint64_t st = atomic_load_explicit(&s->state, memory_order_acquire);
  for (;;) {
    if ((st & ~KVH__USERS) != want) {
      *err = 1;
      return NULL;
    }
    if (st & KVH__USERS) {
      *err = kvh__reject(txn, KVH_TYPE_TXN, true, st, fn);
      return NULL;
    }
    if (atomic_compare_exchange_weak_explicit(&s->state, &st, st + 1, memory_order_acquire,
                                              memory_order_acquire))
      return s;
  }
}

/* Delivers record k/v into the caller's buffers, or keeps it pending when they are too small. */
static int kvh__deliver(kvh__cursor *w, const kvh__slot *ts, const void *k, size_t kl, const void *v,
                        size_t vl, void *kbuf, size_t kcap, size_t *klen, void *vbuf, size_t vcap,
                        size_t *vlen) {
  if (klen) *klen = kl;
  if (vlen) *vlen = vl;
  if (kl > kcap || vl > vcap) {
    if (!w->pending) {
      if (KV__UNLIKELY(kl > sizeof w->pkey))
        return kv__fail(KV_E_INTERNAL, "kvh_cursor_next: key of %zu bytes", kl);
      w->pending = true;
      w->pk = k;
      w->pv = v;
      w->pklen = kl;
      w->pvlen = vl;
      w->pwrites = ts->writes;
      w->pends = ts->ends;
      memcpy(w->pkey, k, kl);
    }
    return kv__fail(KV_E_BUFFER_TOO_SMALL,
                    "kvh_cursor_next: record needs %zu + %zu bytes, buffers hold %zu + %zu", kl, vl,
                    kcap, vcap);
  }
  if (kl) memcpy(kbuf, k, kl);
  if (vl) memcpy(vbuf, v, vl);
  w->pending = false;
  return KV_OK;
}

int kvh_cursor_next(kvh_handle cur, void *kbuf, size_t kcap, size_t *klen, void *vbuf, size_t vcap,
                    size_t *vlen) {
  static const char fn[] = "kvh_cursor_next";
  int rc;
  kvh__slot *cs = kvh__enter(cur, KVH_TYPE_CURSOR, &rc, fn);
  if (KV__UNLIKELY(!cs)) return rc;
  kvh__cursor *w = cs->obj;
  kvh__slot *ts = NULL;
  if (KV__UNLIKELY((!kbuf && kcap) || (!vbuf && vcap))) {
    rc = kv__fail(KV_E_INVALID, "%s: a NULL buffer with a non-zero capacity", fn);
    goto out;
  }
  ts = kvh__enter_parent(w->txn, &rc, fn);
  if (KV__UNLIKELY(!ts)) {
    if (rc == 1) { /* transaction gone: the detached cursor answers KV_E_CURSOR_ENDED */
      w->pending = false;
      rc = kv_cursor_next(w->cur, NULL, NULL, NULL, NULL);
    }
    goto out;
  }
  if (KV__UNLIKELY(w->pending)) {
    if (w->pends != ts->ends) {
      w->pending = false; /* the transaction ended (reset) since: the cursor ended with it */
    } else if (kv__txn_owner(ts->obj) != kv__thread_id()) {
      rc = kv__fail(KV_E_WRONG_THREAD, "%s: cursor belongs to another thread", fn);
      goto out; /* the record stays pending for its owner */
    } else if (w->pwrites != ts->writes) {
      /* A write may have moved or freed the record's pages: re-seek to its key with a fresh engine
       * cursor (the first key >= it: the same record, or its successor if it was deleted). */
      kv_cursor *nc;
      rc = kv_cursor_open(&nc, ts->obj, w->pkey, w->pklen);
      if (rc) goto out; /* still pending: the caller may retry */
      kv_cursor_close(w->cur);
      w->cur = nc;
      w->pending = false;
    } else {
      rc = kvh__deliver(w, ts, w->pk, w->pklen, w->pv, w->pvlen, kbuf, kcap, klen, vbuf, vcap, vlen);
      goto out;
    }
  }
  const void *k, *v;
  size_t kl, vl;
  rc = kv_cursor_next(w->cur, &k, &kl, &v, &vl);
  if (KV__LIKELY(rc == KV_OK))
    rc = kvh__deliver(w, ts, k, kl, v, vl, kbuf, kcap, klen, vbuf, vcap, vlen);
out:
  if (ts) kvh__leave(ts);
  kvh__leave(cs);
  return rc;
}

/* From any thread. The owner's close unlinks the cursor from its transaction, so it holds the
 * transaction meanwhile (KV_E_BUSY if the transaction is in another call — a kvh_scan callback's);
 * another thread's close only marks the engine's cursor released, touching nothing of the
 * transaction, which may be in use meanwhile. */
static int kvh__cursor_close(kvh_handle cur, const char *fn) {
  int rc;
  kvh__slot *cs = kvh__enter(cur, KVH_TYPE_CURSOR, &rc, fn);
  if (!cs) return rc;
  kvh__cursor *w = cs->obj;
  kvh__slot *ts = kvh__enter_parent(w->txn, &rc, fn);
  if (!ts && rc != 1 && kv__cursor_mine(w->cur)) { /* rc == 1: transaction gone, cursor detached */
    kvh__leave(cs);
    return rc;
  }
  kv_cursor_release(w->cur);
  if (ts) kvh__leave(ts);
  free(w);
  kvh__destroy(cs, cur);
  return KV_OK;
}

int kvh_cursor_close(kvh_handle cur) { return kvh__cursor_close(cur, "kvh_cursor_close"); }

/* ---- Release from any thread ------------------------------------------------------------------ */
int kvh_release(kvh_handle h) {
  static const char fn[] = "kvh_release";
  const unsigned type = kvh__type_of(h);
  if (type == KVH_TYPE_ENV) return kvh__env_close(h, true, fn);
  if (type == KVH_TYPE_CURSOR) return kvh__cursor_close(h, fn);
  int rc;
  kvh__slot *s = kvh__enter(h, KVH_TYPE_TXN, &rc, fn); /* a forged type is rejected here */
  if (!s) return rc;
  kv_txn_release(s->obj);
  kvh__destroy(s, h);
  return KV_OK;
}

uint32_t kvh_live_count(void) {
  pthread_mutex_lock(&kvh__lock);
  uint32_t live = kvh__live;
  pthread_mutex_unlock(&kvh__lock);
  return live;
}
