/* kv.c — the engine: kv.h over LMDB.
 *
 * One LMDB environment per kv_env, one unnamed database in it, opened MDB_NOSUBDIR (a file, not a
 * folder) and MDB_NOTLS (read transactions are tied to their object, not to a thread's TLS slot, so a
 * thread may hold several, and the engine's own owner check enforces the thread rule instead).
 *
 * The checks on the hot paths (get, put, cursor next) are a handful of compares on fields already
 * in cache; every failure goes through kv__fail, which is cold.
 */
#define _GNU_SOURCE /* for vsnprintf under -std=c11, fstat/stat's st_ino */
#include "kv_internal.h"

#include <errno.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* ---- Version ----------------------------------------------------------------------------------- */
#define KV__STR2(x) #x
#define KV__STR(x) KV__STR2(x)

unsigned kv_version(void) { return KV_VERSION_HEX; }

const char *kv_version_string(void) {
  return KV__STR(KV_VERSION_MAJOR) "." KV__STR(KV_VERSION_MINOR) "." KV__STR(KV_VERSION_PATCH);
}

/* ---- Errors ------------------------------------------------------------------------------------ */
const char *kv_strerror(int err) {
  switch (err) {
  case KV_OK: return "success";
#define KV__ERRNO_MSG(name, code, msg) \
  case code: return msg;
    KV_ERRNO_MAP(KV__ERRNO_MSG)
#undef KV__ERRNO_MSG
  default: return "unknown error";
  }
}

const char *kv_err_name(int err) {
  switch (err) {
  case KV_OK: return "KV_OK";
#define KV__ERRNO_NAME(name, code, msg) \
  case code: return "KV_E_" #name;
    KV_ERRNO_MAP(KV__ERRNO_NAME)
#undef KV__ERRNO_NAME
  default: return "KV_E_UNKNOWN";
  }
}

/* The last error of each thread: kv__errp points at a formatted message in kv__errbuf, or at a
 * static one for the outcomes a caller meets in normal use (not found, done), which must stay cheap:
 * no formatting on those paths. Default TLS model on purpose: only failing paths touch it. */
#define KV__ERRMAX 1024
static _Thread_local char kv__errbuf[KV__ERRMAX];
static _Thread_local const char *kv__errp;

int kv__fail(int code, const char *fmt, ...) {
  int n = snprintf(kv__errbuf, sizeof kv__errbuf, "%s: ", kv_err_name(code));
  size_t used = n > 0 ? (size_t)n : 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(kv__errbuf + used, sizeof kv__errbuf - used, fmt, ap);
  va_end(ap);
  kv__errp = kv__errbuf;
  return code;
}

int kv__fail_static(int code, const char *msg) {
  kv__errp = msg;
  return code;
}

const char *kv_last_error(void) { return kv__errp ? kv__errp : ""; }

size_t kv_last_error_r(char *buf, size_t cap) {
  const char *msg = kv_last_error();
  size_t len = strlen(msg);
  if (buf && cap > 0) {
    size_t n = len < cap - 1 ? len : cap - 1;
    memcpy(buf, msg, n);
    buf[n] = '\0';
  }
  return len;
}

/* Maps an LMDB or errno code to a kv code, recording what LMDB said. */
KV__COLD static int kv__lmdb_fail(int rc, const char *what) {
  int code;
  switch (rc) {
  case MDB_NOTFOUND: return kv__fail_static(KV_E_NOT_FOUND, "KV_E_NOT_FOUND: key not found");
  case MDB_MAP_FULL: code = KV_E_MAP_FULL; break;
  case MDB_TXN_FULL: code = KV_E_TXN_FULL; break;
  case MDB_READERS_FULL: code = KV_E_READERS_FULL; break;
  case MDB_BAD_TXN: code = KV_E_TXN_FAILED; break; /* an earlier error in this write transaction */
  case MDB_PANIC: code = KV_E_IO; break;           /* a failed meta-page write: close and reopen */
  case MDB_INVALID:
  case MDB_VERSION_MISMATCH:
  case MDB_CORRUPTED:
  case MDB_PAGE_NOTFOUND: code = KV_E_CORRUPT; break;
  case EACCES: code = KV_E_READ_ONLY; break;
  case ENOMEM: code = KV_E_NO_MEMORY; break;
  case EBUSY: code = KV_E_BUSY; break;
  default: code = rc > 0 ? KV_E_IO : KV_E_INTERNAL; break;
  }
  return kv__fail(code, "%s: %s", what, mdb_strerror(rc));
}

/* ---- Calibration ------------------------------------------------------------------------------- */
void kv_noop(void) {}

int kv_add(int a, int b) { return (int)((unsigned)a + (unsigned)b); }

uint64_t kv_spin(uint64_t n) {
  uint64_t x = n;
  for (uint64_t i = 0; i < n; i++) {
    x = x * 6364136223846793005u + 1442695040888963407u;
#if defined(__GNUC__)
    __asm__ volatile("" : "+r"(x)); /* an opaque step: no closed form, no vectorising */
#endif
  }
  return x;
}

/* ---- Objects ----------------------------------------------------------------------------------- */
/* Who guards what:
 *   kv__open_lock  the list of open environments (kv__open_envs), and every environment's closing:
 *                  LMDB's close runs under it, so a concurrent open of the same path waits for it.
 *   env->lock      the environment's counters (active, ntxns, closing), its list of kv_txn objects,
 *                  and each of those objects' owner, thr, abandoned and orphaned fields.
 *   the owner      everything else of a transaction and its cursors: they belong to one thread.
 * Lock order: kv__open_lock, then env->lock. */
struct kv_env {
  MDB_env *mdb;
  MDB_dbi dbi;
  int read_only;
  dev_t dev; /* identity of the data file, for the one-open-per-process rule */
  ino_t ino;
  atomic_uintptr_t writer; /* thread holding LMDB's write lock through this environment, 0 if none */
  pthread_mutex_t lock;
  /* LMDB may remap (a new map size) only while no transaction of this process is active: `active`
   * counts them — kv_txn objects and one-shot calls alike — and `lock` makes the check and the
   * remap one step against a transaction starting meanwhile. */
  long active;
  long ntxns;        /* kv_txn objects alive on this environment (active or not) */
  kv_txn *txns;      /* those objects, for the walks of kv__own_walk */
  int closing;       /* kv_env_release was called: closes once ntxns and active are 0 */
  struct kv_env *next_open; /* under kv__open_lock */
};

enum { KV__TXN_ACTIVE = 0, KV__TXN_ENDED = 1 };

/* A thread's record, reached by the transactions it owns: another thread that releases one of this
 * thread's write transactions (which only this thread can end: LMDB's write lock is held by it)
 * counts it in `abandoned`, and this thread ends it at its next kv_txn_begin, one-shot call,
 * environment open or close, or when it exits (kv__thread_exit, a pthread key destructor). */
typedef struct kv__thread {
  atomic_uint abandoned;
  int registered; /* the exit hook is armed for this thread */
} kv__thread;

static _Thread_local kv__thread kv__me;

struct kv_txn {
  kv_env *env;
  MDB_txn *mdb;     /* write: NULL once ended; read: kept (reset) for kv_txn_renew */
  uintptr_t owner;  /* thread that began (or renewed) it; written under env->lock */
  int state;        /* written by the owner (under env->lock when it begins or renews) */
  int write;
  unsigned epoch;   /* counts the transaction's ends: kv_scan sees an end and renew in its callback */
  kv_cursor *cursors; /* open cursors, to end with the transaction */
  /* Under env->lock. */
  kv__thread *thr;  /* the owner's record */
  int abandoned;    /* released by another thread while active: its owner ends and frees it */
  int orphaned;     /* ended because its owner thread exited */
  kv_txn *prev, *next; /* env->txns */
};

/* A cursor's link to its transaction, the one field two threads may race on: kv_cursor_release from
 * any thread and the transaction's end or free in its owner's thread each swap it atomically, and
 * whichever comes second frees the cursor. */
enum { KV__CUR_ATTACHED = 0, KV__CUR_DETACHED = 1, KV__CUR_RELEASED = 2 };

struct kv_cursor {
  kv_txn *txn;       /* meaningful while link is ATTACHED */
  MDB_cursor *mdb;   /* NULL once the transaction ended */
  uintptr_t owner;
  int started, done;
  atomic_int link;
  size_t start_len;
  kv_cursor *prev, *next;
  unsigned char start[KV_KEY_MAX];
};

uintptr_t kv__txn_owner(const kv_txn *txn) {
  return txn && txn->state == KV__TXN_ACTIVE ? txn->owner : 0;
}

/* The owner first: it never changes, while another thread's commit may be clearing mdb. */
int kv__cursor_mine(const kv_cursor *cur) { return cur->owner == kv__thread_id() && cur->mdb; }

/* ---- Argument checks shared by every data call ------------------------------------------------- */
static inline int kv__key_ok(const void *key, size_t len) {
  return len >= 1 && len <= KV_KEY_MAX && key != NULL;
}

KV__COLD static int kv__key_fail(const char *fn, const void *key, size_t len) {
  if (!key && len) return kv__fail(KV_E_INVALID, "%s: key is NULL with length %zu", fn, len);
  return kv__fail(KV_E_KEY_SIZE, "%s: key length %zu is outside 1..%u", fn, len, KV_KEY_MAX);
}

/* Why an ended transaction cannot be used: it ended (TXN_ENDED), or its owner thread exited and
 * ended it — no thread is its owner any more (WRONG_THREAD). */
KV__COLD static int kv__txn_inactive(const kv_txn *txn, const char *fn) {
  if (txn->orphaned)
    return kv__fail(KV_E_WRONG_THREAD, "%s: the thread that owned the transaction exited (which "
                                       "aborted it); only kv_txn_free or kv_txn_renew remain", fn);
  return kv__fail(KV_E_TXN_ENDED, "%s: transaction has ended", fn);
}

/* Checks that txn is usable by this thread; returns 0 or the error. */
static inline int kv__txn_check(const kv_txn *txn, const char *fn) {
  if (KV__UNLIKELY(!txn)) return kv__fail(KV_E_INVALID, "%s: transaction is NULL", fn);
  if (KV__UNLIKELY(txn->state != KV__TXN_ACTIVE)) return kv__txn_inactive(txn, fn);
  if (KV__UNLIKELY(txn->owner != kv__thread_id()))
    return kv__fail(KV_E_WRONG_THREAD, "%s: transaction belongs to another thread", fn);
  return 0;
}

/* ---- Environment ------------------------------------------------------------------------------- */
static pthread_mutex_t kv__open_lock = PTHREAD_MUTEX_INITIALIZER;
static kv_env *kv__open_envs; /* every open environment of this copy of libkv */

static void kv__reap(void);

static kv_env *kv__find_open(dev_t dev, ino_t ino) {
  for (kv_env *e = kv__open_envs; e; e = e->next_open)
    if (e->dev == dev && e->ino == ino) return e;
  return NULL;
}

int kv_options_init(kv_options *opts) {
  if (!opts) return kv__fail(KV_E_INVALID, "kv_options_init: opts is NULL");
  const kv_options def = KV_OPTIONS_INIT;
  *opts = def;
  return KV_OK;
}

size_t kv_options_size(void) { return sizeof(kv_options); }

static int kv__options_check(const kv_options *o) {
  if (o->version != KV_OPTIONS_VERSION)
    return kv__fail(KV_E_VERSION, "kv_env_open: options version %u, this library knows %u",
                    o->version, KV_OPTIONS_VERSION);
  if (o->flags & ~KV_ENV_READ_ONLY)
    return kv__fail(KV_E_INVALID, "kv_env_open: unknown flags 0x%x", o->flags);
  if (o->durability != KV_DURABLE_SYNC && o->durability != KV_DURABLE_NOSYNC)
    return kv__fail(KV_E_INVALID, "kv_env_open: unknown durability %u", o->durability);
  if (o->reserved != 0) return kv__fail(KV_E_INVALID, "kv_env_open: reserved field is not 0");
  return 0;
}

/* Opens the LMDB side of e (mdb, dbi); on failure everything it made is undone. */
static int kv__env_open_mdb(kv_env *e, const char *path, const kv_options *o) {
  unsigned flags = MDB_NOSUBDIR | MDB_NOTLS;
  if (o->flags & KV_ENV_READ_ONLY) flags |= MDB_RDONLY;
  if (o->durability == KV_DURABLE_NOSYNC) flags |= MDB_NOSYNC | MDB_NOMETASYNC;
  int rc = mdb_env_create(&e->mdb);
  if (rc) return kv__lmdb_fail(rc, "kv_env_open: mdb_env_create");
  uint64_t map = o->map_size ? o->map_size : KV_MAP_SIZE_DEFAULT;
  if ((rc = mdb_env_set_mapsize(e->mdb, (size_t)map)) != 0 ||
      (rc = mdb_env_open(e->mdb, path, flags, 0644)) != 0) {
    mdb_env_close(e->mdb);
    int code = kv__lmdb_fail(rc, "kv_env_open: mdb_env_open");
    if (rc == ENOENT || rc == EACCES) /* a missing file or a forbidden folder: an I/O error here */
      code = kv__fail(KV_E_IO, "kv_env_open: cannot open %s: %s", path, mdb_strerror(rc));
    return code;
  }
  MDB_txn *t;
  rc = mdb_txn_begin(e->mdb, NULL, MDB_RDONLY, &t);
  if (rc == 0) {
    rc = mdb_dbi_open(t, NULL, 0, &e->dbi);
    mdb_txn_abort(t); /* the unnamed database's handle is valid without a commit */
  }
  if (rc) {
    mdb_env_close(e->mdb);
    return kv__lmdb_fail(rc, "kv_env_open: opening the database");
  }
  return 0;
}

int kv_env_open(kv_env **env, const char *path, const kv_options *opts) {
  if (!env || !path) return kv__fail(KV_E_INVALID, "kv_env_open: env or path is NULL");
  if (!*path) return kv__fail(KV_E_INVALID, "kv_env_open: path is empty");
  const kv_options def = KV_OPTIONS_INIT;
  const kv_options *o = opts ? opts : &def;
  int rc = kv__options_check(o);
  if (rc) return rc;
  kv__reap(); /* a released environment of this path may be waiting for this thread */
  kv_env *e = calloc(1, sizeof *e);
  if (!e) return kv__fail(KV_E_NO_MEMORY, "kv_env_open: %s", path);
  pthread_mutex_init(&e->lock, NULL);
  e->read_only = (o->flags & KV_ENV_READ_ONLY) != 0;

  /* Opening one file twice in a process breaks LMDB's locks; refuse it. Opens and closes are
   * serialised, so the check and the open are one step, and a close in progress finishes first. */
  pthread_mutex_lock(&kv__open_lock);
  struct stat st;
  if (stat(path, &st) == 0 && kv__find_open(st.st_dev, st.st_ino)) {
    rc = kv__fail(KV_E_BUSY, "kv_env_open: %s is already open in this process", path);
  } else if ((rc = kv__env_open_mdb(e, path, o)) == 0) {
    if (stat(path, &st) == 0) {
      e->dev = st.st_dev;
      e->ino = st.st_ino;
    }
    e->next_open = kv__open_envs;
    kv__open_envs = e;
  }
  pthread_mutex_unlock(&kv__open_lock);
  if (rc) {
    pthread_mutex_destroy(&e->lock);
    free(e);
    return rc;
  }
  *env = e;
  return KV_OK;
}

/* Closes env for good: nothing refers to it any more. Under kv__open_lock, so that another open of
 * its path waits until LMDB has let go of the file (and of the process's locks on it). */
static void kv__env_destroy(kv_env *env) {
  for (kv_env **p = &kv__open_envs; *p; p = &(*p)->next_open)
    if (*p == env) {
      *p = env->next_open;
      break;
    }
  mdb_env_close(env->mdb);
  pthread_mutex_destroy(&env->lock);
  free(env);
}

/* Called with env->lock held, after a count went down; releases it, and closes a released
 * environment that nothing uses any more. open_locked: the caller holds kv__open_lock. */
static void kv__env_unlock(kv_env *env, int open_locked) {
  int last = env->closing && env->ntxns == 0 && env->active == 0;
  pthread_mutex_unlock(&env->lock);
  if (!last) return;
  if (!open_locked) pthread_mutex_lock(&kv__open_lock);
  kv__env_destroy(env);
  if (!open_locked) pthread_mutex_unlock(&kv__open_lock);
}

/* The two closes: kv_env_close refuses while anything is open, kv_env_release defers. */
static int kv__env_close(kv_env *env, int defer) {
  if (!env) return KV_OK;
  kv__reap();
  pthread_mutex_lock(&kv__open_lock);
  pthread_mutex_lock(&env->lock);
  long txns = env->ntxns, active = env->active;
  if (txns || active) {
    if (defer) env->closing = 1;
    pthread_mutex_unlock(&env->lock);
    pthread_mutex_unlock(&kv__open_lock);
    if (defer) return KV_OK;
    if (txns) return kv__fail(KV_E_BUSY, "kv_env_close: %ld transaction(s) still open", txns);
    return kv__fail(KV_E_BUSY, "kv_env_close: %ld call(s) of other threads still running", active);
  }
  pthread_mutex_unlock(&env->lock);
  kv__env_destroy(env);
  pthread_mutex_unlock(&kv__open_lock);
  return KV_OK;
}

int kv_env_close(kv_env *env) { return kv__env_close(env, 0); }

int kv_env_release(kv_env *env) { return kv__env_close(env, 1); }

int kv_env_set_map_size(kv_env *env, uint64_t size) {
  if (!env || size == 0) return kv__fail(KV_E_INVALID, "kv_env_set_map_size: env NULL or size 0");
  if (env->read_only) return kv__fail(KV_E_READ_ONLY, "kv_env_set_map_size: read-only environment");
  /* LMDB unmaps the old map before mapping the new one, and a failed mapping leaves the environment
   * without one (the next transaction would crash): so first make sure the address space for the
   * new size can be had, and if LMDB fails anyway, go back to the size that worked. */
  void *probe = mmap(NULL, (size_t)size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (probe == MAP_FAILED)
    return kv__fail(KV_E_NO_MEMORY, "kv_env_set_map_size: cannot map %" PRIu64 " bytes", size);
  munmap(probe, (size_t)size);
  pthread_mutex_lock(&env->lock);
  long active = env->active;
  uint64_t old = 0;
  int rc = active ? 0 : kv_env_map_size(env, &old);
  if (!active && rc == 0 && (rc = mdb_env_set_mapsize(env->mdb, (size_t)size)) != 0)
    mdb_env_set_mapsize(env->mdb, (size_t)old);
  pthread_mutex_unlock(&env->lock);
  if (active)
    return kv__fail(KV_E_BUSY, "kv_env_set_map_size: %ld transaction(s) active in this process", active);
  return rc ? kv__lmdb_fail(rc, "kv_env_set_map_size") : KV_OK;
}

int kv_env_map_size(const kv_env *env, uint64_t *size) {
  if (!env || !size) return kv__fail(KV_E_INVALID, "kv_env_map_size: env or size is NULL");
  MDB_envinfo info;
  int rc = mdb_env_info(env->mdb, &info);
  if (rc) return kv__lmdb_fail(rc, "kv_env_map_size");
  *size = info.me_mapsize;
  return KV_OK;
}

int kv_env_sync(kv_env *env) {
  if (!env) return kv__fail(KV_E_INVALID, "kv_env_sync: env is NULL");
  if (env->read_only) return kv__fail(KV_E_READ_ONLY, "kv_env_sync: read-only environment");
  int rc = mdb_env_sync(env->mdb, 1);
  return rc ? kv__lmdb_fail(rc, "kv_env_sync") : KV_OK;
}

/* ---- Threads ----------------------------------------------------------------------------------- */
/* Every thread that begins or renews a transaction arms a pthread key whose destructor ends, in that
 * thread, the transactions it still owns when it exits: write transactions must be ended by the
 * thread that holds LMDB's write lock, and a transaction left to a dead thread's identity would
 * pass the owner check of whatever new thread glibc gives the same thread pointer. libkv.so is
 * linked -z nodelete, so the destructor never outlives the code. */
static pthread_key_t kv__exit_key;
static pthread_once_t kv__exit_once = PTHREAD_ONCE_INIT;
static int kv__exit_key_rc;

static void kv__thread_exit(void *unused);

static void kv__exit_key_create(void) {
  kv__exit_key_rc = pthread_key_create(&kv__exit_key, kv__thread_exit);
}

/* Arms the exit hook for the calling thread; returns its record, or NULL (out of memory). */
static kv__thread *kv__thread_self(void) {
  kv__thread *me = &kv__me;
  if (KV__LIKELY(me->registered)) return me;
  pthread_once(&kv__exit_once, kv__exit_key_create);
  if (kv__exit_key_rc != 0 || pthread_setspecific(kv__exit_key, me) != 0) return NULL;
  me->registered = 1;
  return me;
}

static void kv__end_cursors(kv_txn *txn);
static void kv__txn_destroy_locked(kv_txn *txn);

/* Ends, in the calling thread, the active transactions it owns in every open environment — all of
 * them (the thread is exiting: they become orphaned) or only those another thread released
 * (abandoned) — and closes the released environments that this leaves unused. */
static void kv__own_walk(int abandoned_only) {
  const uintptr_t self = kv__thread_id();
  pthread_mutex_lock(&kv__open_lock);
  for (kv_env *e = kv__open_envs, *en; e; e = en) {
    en = e->next_open;
    pthread_mutex_lock(&e->lock);
    for (kv_txn *t = e->txns, *tn; t; t = tn) {
      tn = t->next;
      if (t->owner != self || t->state != KV__TXN_ACTIVE || (abandoned_only && !t->abandoned))
        continue;
      kv__end_cursors(t);
      t->epoch++;
      t->state = KV__TXN_ENDED;
      t->orphaned = !t->abandoned;
      e->active--;
      if (t->write) {
        atomic_store_explicit(&e->writer, 0, memory_order_relaxed);
        mdb_txn_abort(t->mdb);
        t->mdb = NULL;
      } else {
        mdb_txn_reset(t->mdb);
      }
      if (t->abandoned) {
        atomic_fetch_sub_explicit(&kv__me.abandoned, 1, memory_order_relaxed);
        kv__txn_destroy_locked(t);
      }
    }
    kv__env_unlock(e, 1);
  }
  pthread_mutex_unlock(&kv__open_lock);
}

static void kv__thread_exit(void *unused) {
  (void)unused;
  kv__own_walk(0);
}

/* Ends the write transactions of this thread that other threads released. Costs one thread-local
 * load when there are none. */
static void kv__reap(void) {
  if (KV__UNLIKELY(atomic_load_explicit(&kv__me.abandoned, memory_order_relaxed) != 0)) kv__own_walk(1);
}

/* ---- Transactions ------------------------------------------------------------------------------ */

static void kv__active_add(kv_env *env, long delta) {
  pthread_mutex_lock(&env->lock);
  env->active += delta;
  kv__env_unlock(env, 0);
}

/* After MDB_MAP_RESIZED (another process grew the map): adopts the new size if the caller's is the
 * only transaction of this process being started, which LMDB requires; returns 0 or the error. */
static int kv__adopt_map(kv_env *env, const char *fn) {
  pthread_mutex_lock(&env->lock);
  long active = env->active;
  int rc = active == 1 ? mdb_env_set_mapsize(env->mdb, 0) : 0;
  pthread_mutex_unlock(&env->lock);
  if (active != 1)
    return kv__fail(KV_E_BUSY, "%s: another process grew the map; end this process's %ld other "
                    "transaction(s) and retry", fn, active - 1);
  return rc ? kv__lmdb_fail(rc, fn) : 0;
}

/* Begins an LMDB transaction on env for this thread, enforcing the one-writer-per-thread rule and
 * following a map grown by another process. Shared by kv_txn_begin and the one-shot calls; the
 * transaction counts as active until kv__mdb_end (or kv__active_add(env, -1) for a reader).
 * env->writer is this thread's exactly while it holds LMDB's write lock: set after mdb_txn_begin
 * took the lock, cleared before the commit or abort releases it (kv__mdb_end). */
static int kv__mdb_begin(kv_env *env, int write, MDB_txn **out, const char *fn) {
  uintptr_t self = kv__thread_id();
  kv__reap();
  if (write) {
    if (env->read_only) return kv__fail(KV_E_READ_ONLY, "%s: read-only environment", fn);
    if (atomic_load_explicit(&env->writer, memory_order_relaxed) == self)
      return kv__fail(KV_E_BUSY, "%s: this thread already has a write transaction", fn);
  }
  kv__active_add(env, 1);
  int rc = mdb_txn_begin(env->mdb, NULL, write ? 0 : MDB_RDONLY, out);
  if (rc == MDB_MAP_RESIZED) {
    int adopted = kv__adopt_map(env, fn);
    if (adopted) {
      kv__active_add(env, -1);
      return adopted;
    }
    rc = mdb_txn_begin(env->mdb, NULL, write ? 0 : MDB_RDONLY, out);
  }
  if (rc) {
    kv__active_add(env, -1);
    return kv__lmdb_fail(rc, fn);
  }
  if (write) atomic_store_explicit(&env->writer, self, memory_order_relaxed);
  return 0;
}

/* Ends an LMDB transaction begun by kv__mdb_begin: commit or abort. */
static int kv__mdb_end(kv_env *env, MDB_txn *t, int write, int commit, const char *fn) {
  /* Before LMDB releases the write lock: a writer waiting for it records itself right after. */
  if (write) atomic_store_explicit(&env->writer, 0, memory_order_relaxed);
  int rc = commit ? mdb_txn_commit(t) : (mdb_txn_abort(t), 0);
  kv__active_add(env, -1);
  return rc ? kv__lmdb_fail(rc, fn) : 0;
}

int kv_txn_begin(kv_txn **txn, kv_env *env, unsigned flags) {
  if (!txn || !env) return kv__fail(KV_E_INVALID, "kv_txn_begin: txn or env is NULL");
  if (flags & ~KV_TXN_WRITE) return kv__fail(KV_E_INVALID, "kv_txn_begin: unknown flags 0x%x", flags);
  kv__thread *me = kv__thread_self();
  kv_txn *t = me ? calloc(1, sizeof *t) : NULL;
  if (!t) return kv__fail(KV_E_NO_MEMORY, "kv_txn_begin");
  t->write = (flags & KV_TXN_WRITE) != 0;
  int rc = kv__mdb_begin(env, t->write, &t->mdb, "kv_txn_begin");
  if (rc) {
    free(t);
    return rc;
  }
  t->env = env;
  pthread_mutex_lock(&env->lock);
  t->owner = kv__thread_id();
  t->thr = me;
  t->state = KV__TXN_ACTIVE;
  t->next = env->txns;
  if (env->txns) env->txns->prev = t;
  env->txns = t;
  env->ntxns++;
  pthread_mutex_unlock(&env->lock);
  *txn = t;
  return KV_OK;
}

/* Ends every cursor of txn: their LMDB cursors go (LMDB frees a write transaction's cursors with it,
 * and a read transaction's must be closed by hand); the kv_cursor objects stay until closed, except
 * those already released (kv_cursor_release from another thread), which go now. */
static void kv__end_cursors(kv_txn *txn) {
  for (kv_cursor *c = txn->cursors, *cn; c; c = cn) {
    cn = c->next;
    if (c->mdb) {
      mdb_cursor_close(c->mdb);
      c->mdb = NULL;
    }
    if (atomic_load_explicit(&c->link, memory_order_acquire) == KV__CUR_RELEASED) {
      if (c->prev) c->prev->next = c->next;
      else txn->cursors = c->next;
      if (c->next) c->next->prev = c->prev;
      free(c);
    }
  }
}

/* Ends an active transaction: commit or abort for a writer, reset (keeping the slot) for a reader. */
static int kv__txn_end(kv_txn *txn, int commit, const char *fn) {
  int rc = kv__txn_check(txn, fn);
  if (rc) return rc;
  kv__end_cursors(txn);
  txn->epoch++;
  txn->state = KV__TXN_ENDED;
  if (!txn->write) {
    mdb_txn_reset(txn->mdb); /* keeps the reader slot for kv_txn_renew */
    kv__active_add(txn->env, -1);
    return KV_OK;
  }
  MDB_txn *t = txn->mdb;
  txn->mdb = NULL;
  return kv__mdb_end(txn->env, t, 1, commit, fn);
}

int kv_txn_commit(kv_txn *txn) { return kv__txn_end(txn, 1, "kv_txn_commit"); }

int kv_txn_abort(kv_txn *txn) { return kv__txn_end(txn, 0, "kv_txn_abort"); }

int kv_txn_reset(kv_txn *txn) {
  if (txn && txn->write) return kv__fail(KV_E_INVALID, "kv_txn_reset: a write transaction");
  return kv__txn_end(txn, 0, "kv_txn_reset");
}

int kv_txn_renew(kv_txn *txn) {
  if (!txn || txn->write)
    return kv__fail(KV_E_INVALID, "kv_txn_renew: NULL or a write transaction");
  if (txn->state == KV__TXN_ACTIVE) return kv__fail(KV_E_BUSY, "kv_txn_renew: still active");
  kv__thread *me = kv__thread_self();
  if (!me) return kv__fail(KV_E_NO_MEMORY, "kv_txn_renew");
  kv__reap();
  kv__active_add(txn->env, 1);
  int rc = mdb_txn_renew(txn->mdb);
  if (rc == MDB_MAP_RESIZED) {
    int adopted = kv__adopt_map(txn->env, "kv_txn_renew");
    if (adopted) {
      kv__active_add(txn->env, -1);
      return adopted;
    }
    rc = mdb_txn_renew(txn->mdb);
  }
  if (rc) {
    kv__active_add(txn->env, -1);
    return kv__lmdb_fail(rc, "kv_txn_renew");
  }
  pthread_mutex_lock(&txn->env->lock);
  txn->owner = kv__thread_id();
  txn->thr = me;
  txn->orphaned = 0;
  txn->state = KV__TXN_ACTIVE;
  pthread_mutex_unlock(&txn->env->lock);
  return KV_OK;
}

/* Frees an ended transaction, with env->lock held: its reader slot, its cursors (detached, or freed
 * if they were released), its place in the environment. */
static void kv__txn_destroy_locked(kv_txn *txn) {
  kv_env *env = txn->env;
  if (txn->mdb) mdb_txn_abort(txn->mdb); /* a reset reader's slot */
  for (kv_cursor *c = txn->cursors, *cn; c; c = cn) {
    cn = c->next;
    int link = KV__CUR_ATTACHED;
    if (!atomic_compare_exchange_strong_explicit(&c->link, &link, KV__CUR_DETACHED,
                                                 memory_order_acq_rel, memory_order_acquire))
      free(c); /* released by another thread before: the last reference was ours */
  }
  if (txn->prev) txn->prev->next = txn->next;
  else env->txns = txn->next;
  if (txn->next) txn->next->prev = txn->prev;
  env->ntxns--;
  free(txn);
}

static void kv__txn_destroy(kv_txn *txn) {
  kv_env *env = txn->env;
  pthread_mutex_lock(&env->lock);
  kv__txn_destroy_locked(txn);
  kv__env_unlock(env, 0);
}

int kv_txn_free(kv_txn *txn) {
  if (!txn) return KV_OK;
  if (txn->state == KV__TXN_ACTIVE) {
    if (txn->owner != kv__thread_id())
      return kv__fail(KV_E_WRONG_THREAD, "kv_txn_free: active transaction of another thread");
    kv__txn_end(txn, 0, "kv_txn_free");
  }
  kv__txn_destroy(txn);
  return KV_OK;
}

int kv_txn_release(kv_txn *txn) {
  if (!txn) return KV_OK;
  kv_env *env = txn->env;
  pthread_mutex_lock(&env->lock);
  if (txn->state == KV__TXN_ACTIVE && txn->owner != kv__thread_id()) {
    if (txn->write) {
      /* Only the owner can end it (it holds LMDB's write lock): it will, at its next call that
       * reaps (kv__reap) or when it exits. The object is the engine's from now on. */
      if (!txn->abandoned) {
        txn->abandoned = 1;
        atomic_fetch_add_explicit(&txn->thr->abandoned, 1, memory_order_relaxed);
      }
      pthread_mutex_unlock(&env->lock);
      return KV_OK;
    }
    /* A reader: MDB_NOTLS lets any thread end it. Its owner is not using it (the caller's word). */
    kv__end_cursors(txn);
    txn->epoch++;
    txn->state = KV__TXN_ENDED;
    mdb_txn_reset(txn->mdb);
    env->active--;
  }
  pthread_mutex_unlock(&env->lock);
  if (txn->state == KV__TXN_ACTIVE) kv__txn_end(txn, 0, "kv_txn_release"); /* this thread's own */
  kv__txn_destroy(txn);
  return KV_OK;
}

int kv__txn_active(const kv_txn *txn) { return txn->state == KV__TXN_ACTIVE; }

int kv_txn_is_write(const kv_txn *txn) {
  if (!txn) return kv__fail(KV_E_INVALID, "kv_txn_is_write: txn is NULL");
  return txn->write;
}

/* ---- Reads and writes -------------------------------------------------------------------------- */
static inline MDB_val kv__val(const void *p, size_t n) {
  MDB_val v = {n, (void *)(uintptr_t)p};
  return v;
}

/* Copies v into buf after the size check every copying get shares. */
static inline int kv__copy_out(const MDB_val *v, void *buf, size_t cap, size_t *len, const char *fn) {
  if (len) *len = v->mv_size;
  if (KV__UNLIKELY(v->mv_size > cap))
    return kv__fail(KV_E_BUFFER_TOO_SMALL, "%s: value is %zu bytes, buffer %zu", fn, v->mv_size, cap);
  if (v->mv_size) memcpy(buf, v->mv_data, v->mv_size); /* buf may be NULL for an empty value */
  return KV_OK;
}

int kv_get(kv_txn *txn, const void *key, size_t key_len, void *buf, size_t cap, size_t *len) {
  int rc = kv__txn_check(txn, "kv_get");
  if (KV__UNLIKELY(rc)) return rc;
  if (KV__UNLIKELY(!kv__key_ok(key, key_len))) return kv__key_fail("kv_get", key, key_len);
  if (KV__UNLIKELY(!buf && cap)) return kv__fail(KV_E_INVALID, "kv_get: buf NULL with cap %zu", cap);
  MDB_val k = kv__val(key, key_len), v;
  rc = mdb_get(txn->mdb, txn->env->dbi, &k, &v);
  if (KV__UNLIKELY(rc)) return kv__lmdb_fail(rc, "kv_get");
  return kv__copy_out(&v, buf, cap, len, "kv_get");
}

int kv_get_ref(kv_txn *txn, const void *key, size_t key_len, const void **val, size_t *val_len) {
  int rc = kv__txn_check(txn, "kv_get_ref");
  if (KV__UNLIKELY(rc)) return rc;
  if (KV__UNLIKELY(!kv__key_ok(key, key_len))) return kv__key_fail("kv_get_ref", key, key_len);
  if (KV__UNLIKELY(!val || !val_len))
    return kv__fail(KV_E_INVALID, "kv_get_ref: val or val_len is NULL");
  MDB_val k = kv__val(key, key_len), v;
  rc = mdb_get(txn->mdb, txn->env->dbi, &k, &v);
  if (KV__UNLIKELY(rc)) return kv__lmdb_fail(rc, "kv_get_ref");
  *val = v.mv_data;
  *val_len = v.mv_size;
  return KV_OK;
}

/* The checks put and del share beyond kv__txn_check. */
static inline int kv__write_check(kv_txn *txn, const void *key, size_t key_len, const char *fn) {
  int rc = kv__txn_check(txn, fn);
  if (KV__UNLIKELY(rc)) return rc;
  if (KV__UNLIKELY(!kv__key_ok(key, key_len))) return kv__key_fail(fn, key, key_len);
  if (KV__UNLIKELY(!txn->write)) return kv__fail(KV_E_READ_ONLY, "%s: read transaction", fn);
  return 0;
}

static int kv__val_check(const void *val, size_t val_len, const char *fn) {
  if (KV__UNLIKELY(!val && val_len))
    return kv__fail(KV_E_INVALID, "%s: val NULL with length %zu", fn, val_len);
  if (KV__UNLIKELY(val_len > KV_VALUE_MAX))
    return kv__fail(KV_E_VALUE_SIZE, "%s: value length %zu > %zu", fn, val_len, KV_VALUE_MAX);
  return 0;
}

int kv_put(kv_txn *txn, const void *key, size_t key_len, const void *val, size_t val_len) {
  int rc = kv__write_check(txn, key, key_len, "kv_put");
  if (!rc) rc = kv__val_check(val, val_len, "kv_put");
  if (KV__UNLIKELY(rc)) return rc;
  MDB_val k = kv__val(key, key_len), v = kv__val(val_len ? val : "", val_len);
  rc = mdb_put(txn->mdb, txn->env->dbi, &k, &v, 0);
  return KV__UNLIKELY(rc) ? kv__lmdb_fail(rc, "kv_put") : KV_OK;
}

int kv_del(kv_txn *txn, const void *key, size_t key_len) {
  int rc = kv__write_check(txn, key, key_len, "kv_del");
  if (KV__UNLIKELY(rc)) return rc;
  MDB_val k = kv__val(key, key_len);
  rc = mdb_del(txn->mdb, txn->env->dbi, &k, NULL);
  return KV__UNLIKELY(rc) ? kv__lmdb_fail(rc, "kv_del") : KV_OK;
}

int kv_get_batch(kv_txn *txn, size_t n, const void *keys, const size_t *key_lens, void *buf,
                 size_t cap, size_t *val_lens, size_t *found) {
  int rc = kv__txn_check(txn, "kv_get_batch");
  if (KV__UNLIKELY(rc)) return rc;
  if (n && (!keys || !key_lens || !val_lens))
    return kv__fail(KV_E_INVALID, "kv_get_batch: keys, key_lens or val_lens is NULL");
  if (!buf && cap) return kv__fail(KV_E_INVALID, "kv_get_batch: buf NULL with cap %zu", cap);
  const unsigned char *kp = keys;
  unsigned char *out = buf;
  size_t used = 0, hits = 0, need = 0;
  for (size_t i = 0; i < n; i++) {
    if (!kv__key_ok(kp, key_lens[i])) return kv__key_fail("kv_get_batch", kp, key_lens[i]);
    MDB_val k = kv__val(kp, key_lens[i]), v;
    kp += key_lens[i];
    rc = mdb_get(txn->mdb, txn->env->dbi, &k, &v);
    if (rc == MDB_NOTFOUND) {
      val_lens[i] = SIZE_MAX;
      continue;
    }
    if (rc) return kv__lmdb_fail(rc, "kv_get_batch");
    val_lens[i] = v.mv_size;
    hits++;
    need += v.mv_size;
    if (v.mv_size && v.mv_size <= cap - used && need == used + v.mv_size) { /* while all fit */
      memcpy(out + used, v.mv_data, v.mv_size);
      used += v.mv_size;
    }
  }
  if (found) *found = hits;
  if (need > cap)
    return kv__fail(KV_E_BUFFER_TOO_SMALL, "kv_get_batch: values need %zu bytes, buffer %zu", need,
                    cap);
  return KV_OK;
}

/* ---- One-shot calls ---------------------------------------------------------------------------- */
int kv_env_put(kv_env *env, const void *key, size_t key_len, const void *val, size_t val_len) {
  if (!env) return kv__fail(KV_E_INVALID, "kv_env_put: env is NULL");
  if (!kv__key_ok(key, key_len)) return kv__key_fail("kv_env_put", key, key_len);
  int rc = kv__val_check(val, val_len, "kv_env_put");
  MDB_txn *t;
  if (rc || (rc = kv__mdb_begin(env, 1, &t, "kv_env_put")) != 0) return rc;
  MDB_val k = kv__val(key, key_len), v = kv__val(val_len ? val : "", val_len);
  rc = mdb_put(t, env->dbi, &k, &v, 0);
  if (rc) {
    kv__mdb_end(env, t, 1, 0, "kv_env_put");
    return kv__lmdb_fail(rc, "kv_env_put");
  }
  return kv__mdb_end(env, t, 1, 1, "kv_env_put");
}

int kv_env_del(kv_env *env, const void *key, size_t key_len) {
  if (!env) return kv__fail(KV_E_INVALID, "kv_env_del: env is NULL");
  if (!kv__key_ok(key, key_len)) return kv__key_fail("kv_env_del", key, key_len);
  MDB_txn *t;
  int rc = kv__mdb_begin(env, 1, &t, "kv_env_del");
  if (rc) return rc;
  MDB_val k = kv__val(key, key_len);
  rc = mdb_del(t, env->dbi, &k, NULL);
  if (rc) {
    kv__mdb_end(env, t, 1, 0, "kv_env_del");
    return kv__lmdb_fail(rc, "kv_env_del");
  }
  return kv__mdb_end(env, t, 1, 1, "kv_env_del");
}

int kv_env_get(kv_env *env, const void *key, size_t key_len, void *buf, size_t cap, size_t *len) {
  if (!env) return kv__fail(KV_E_INVALID, "kv_env_get: env is NULL");
  if (!kv__key_ok(key, key_len)) return kv__key_fail("kv_env_get", key, key_len);
  if (!buf && cap) return kv__fail(KV_E_INVALID, "kv_env_get: buf NULL with cap %zu", cap);
  MDB_txn *t;
  int rc = kv__mdb_begin(env, 0, &t, "kv_env_get");
  if (rc) return rc;
  MDB_val k = kv__val(key, key_len), v;
  rc = mdb_get(t, env->dbi, &k, &v);
  rc = rc ? kv__lmdb_fail(rc, "kv_env_get") : kv__copy_out(&v, buf, cap, len, "kv_env_get");
  kv__mdb_end(env, t, 0, 0, "kv_env_get");
  return rc;
}

/* ---- Iteration --------------------------------------------------------------------------------- */
/* LMDB's default order: bytewise, a prefix before its extensions. */
static int kv__keycmp(const void *a, size_t alen, const void *b, size_t blen) {
  int c = memcmp(a, b, alen < blen ? alen : blen);
  return c ? c : (alen > blen) - (alen < blen);
}

int kv_cursor_open(kv_cursor **cur, kv_txn *txn, const void *start, size_t start_len) {
  if (!cur) return kv__fail(KV_E_INVALID, "kv_cursor_open: cur is NULL");
  int rc = kv__txn_check(txn, "kv_cursor_open");
  if (rc) return rc;
  if ((start || start_len) && !kv__key_ok(start, start_len))
    return kv__key_fail("kv_cursor_open", start, start_len);
  kv_cursor *c = calloc(1, sizeof *c);
  if (!c) return kv__fail(KV_E_NO_MEMORY, "kv_cursor_open");
  rc = mdb_cursor_open(txn->mdb, txn->env->dbi, &c->mdb);
  if (rc) {
    free(c);
    return kv__lmdb_fail(rc, "kv_cursor_open");
  }
  c->txn = txn;
  c->owner = txn->owner;
  c->start_len = start ? start_len : 0;
  if (c->start_len) memcpy(c->start, start, start_len);
  c->next = txn->cursors;
  if (txn->cursors) txn->cursors->prev = c;
  txn->cursors = c;
  *cur = c;
  return KV_OK;
}

int kv_cursor_next(kv_cursor *cur, const void **key, size_t *key_len, const void **val,
                   size_t *val_len) {
  if (KV__UNLIKELY(!cur)) return kv__fail(KV_E_INVALID, "kv_cursor_next: cur is NULL");
  if (KV__UNLIKELY(!cur->mdb))
    return kv__fail(KV_E_CURSOR_ENDED, "kv_cursor_next: the cursor's transaction has ended");
  if (KV__UNLIKELY(cur->owner != kv__thread_id()))
    return kv__fail(KV_E_WRONG_THREAD, "kv_cursor_next: cursor belongs to another thread");
  if (cur->done) return kv__fail_static(KV_E_DONE, "KV_E_DONE: no more records");
  MDB_val k, v;
  MDB_cursor_op op = MDB_NEXT;
  if (!cur->started) {
    cur->started = 1;
    op = cur->start_len ? MDB_SET_RANGE : MDB_FIRST;
    k = kv__val(cur->start, cur->start_len);
  }
  int rc = mdb_cursor_get(cur->mdb, &k, &v, op);
  if (rc == MDB_NOTFOUND) {
    cur->done = 1;
    return kv__fail_static(KV_E_DONE, "KV_E_DONE: no more records");
  }
  if (KV__UNLIKELY(rc)) return kv__lmdb_fail(rc, "kv_cursor_next");
  if (key) *key = k.mv_data;
  if (key_len) *key_len = k.mv_size;
  if (val) *val = v.mv_data;
  if (val_len) *val_len = v.mv_size;
  return KV_OK;
}

static void kv__cursor_unlink_free(kv_cursor *cur) {
  kv_txn *txn = cur->txn;
  if (cur->mdb) mdb_cursor_close(cur->mdb);
  if (cur->prev) cur->prev->next = cur->next;
  else txn->cursors = cur->next;
  if (cur->next) cur->next->prev = cur->prev;
  free(cur);
}

int kv_cursor_close(kv_cursor *cur) {
  if (!cur) return KV_OK;
  if (atomic_load_explicit(&cur->link, memory_order_acquire) == KV__CUR_DETACHED) {
    free(cur); /* its transaction was freed */
    return KV_OK;
  }
  if (cur->mdb && cur->owner != kv__thread_id())
    return kv__fail(KV_E_WRONG_THREAD, "kv_cursor_close: cursor belongs to another thread");
  kv__cursor_unlink_free(cur);
  return KV_OK;
}

int kv_cursor_release(kv_cursor *cur) {
  if (!cur) return KV_OK;
  if (kv__cursor_mine(cur)) { /* the owner, its transaction active: an ordinary close */
    kv__cursor_unlink_free(cur);
    return KV_OK;
  }
  /* Another thread's cursor: touch nothing but the link. The transaction's end or free, in its
   * owner's thread, frees a released cursor; if the transaction was freed already, free it here. */
  int link = KV__CUR_ATTACHED;
  if (!atomic_compare_exchange_strong_explicit(&cur->link, &link, KV__CUR_RELEASED,
                                               memory_order_acq_rel, memory_order_acquire))
    free(cur);
  return KV_OK;
}

int kv_scan(kv_txn *txn, const void *lo, size_t lo_len, const void *hi, size_t hi_len,
            kv_scan_fn fn, void *payload, size_t *count) {
  int rc = kv__txn_check(txn, "kv_scan");
  if (rc) return rc;
  if (!fn) return kv__fail(KV_E_INVALID, "kv_scan: fn is NULL");
  if ((lo || lo_len) && !kv__key_ok(lo, lo_len)) return kv__key_fail("kv_scan", lo, lo_len);
  if ((hi || hi_len) && !kv__key_ok(hi, hi_len)) return kv__key_fail("kv_scan", hi, hi_len);
  MDB_cursor *mc;
  rc = mdb_cursor_open(txn->mdb, txn->env->dbi, &mc);
  if (rc) return kv__lmdb_fail(rc, "kv_scan");
  MDB_val k = kv__val(lo, lo_len), v;
  size_t n = 0;
  int stop = 0;
  const unsigned epoch = txn->epoch;
  for (rc = mdb_cursor_get(mc, &k, &v, lo_len ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(mc, &k, &v, MDB_NEXT)) {
    if (hi_len && kv__keycmp(k.mv_data, k.mv_size, hi, hi_len) >= 0) break;
    n++;
    stop = fn(k.mv_data, k.mv_size, v.mv_data, v.mv_size, payload);
    if (KV__UNLIKELY(txn->epoch != epoch)) { /* the callback ended the transaction (and perhaps
                                                 renewed it: mc is the old snapshot's) */
      if (!txn->write) mdb_cursor_close(mc);          /* a writer's cursor went with it */
      if (count) *count = n;
      return kv__fail(KV_E_TXN_ENDED, "kv_scan: the callback ended the transaction");
    }
    if (stop) break;
  }
  mdb_cursor_close(mc);
  if (count) *count = n;
  if (stop) return stop;
  if (rc && rc != MDB_NOTFOUND) return kv__lmdb_fail(rc, "kv_scan");
  return KV_OK;
}
