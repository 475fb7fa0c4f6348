/* test_release.c — releasing objects from threads that do not own them, as a garbage-collected
 * runtime's finalizer thread does (kv.h: RELEASING FROM ANY THREAD; kv_handle.h: kvh_release).
 * Every test ends with the environment closed — a reopen of its path succeeds only then — and, under
 * ASan, with a leak check: nothing is left behind.
 *
 *   test_release_reader_from_other_thread    kv_txn_release of an idle reader of a living thread
 *   test_release_writer_owner_alive          ... of a writer: aborted at the owner's next call
 *   test_release_writer_owner_exits          ... of a writer whose owner then exits
 *   test_owner_exit_then_release             an owner that exits first; release afterwards
 *   test_release_cursor_while_owner_works    kv_cursor_release while the owner still uses the txn
 *   test_env_release_deferred                kv_env_release with transactions open: a zombie that
 *                                            closes with the last of them
 *   test_handles_released_by_finalizer       kvh_release of every handle type by a "finalizer"
 *                                            thread, owners alive or gone
 *   test_finalizer_stress                    threads make objects, a finalizer releases them
 */
#define _GNU_SOURCE
#include "kv.h"
#include "kv_handle.h"
#include "testlib.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


/* ---- Helpers ------------------------------------------------------------------------------------ */
/* An owner is a t_worker (testlib.h): a thread that keeps its identity across the steps it runs;
 * t_in_thread is a finalizer thread, fresh each time. */
typedef void (*step_fn)(void *);

static kv_env *open_env(void) {
  kv_options o = KV_OPTIONS_INIT;
  o.durability = KV_DURABLE_NOSYNC;
  kv_env *env = NULL;
  if (kv_env_open(&env, t_path("db"), &o) != KV_OK) {
    t_fail(__FILE__, __LINE__, "kv_env_open: %s", kv_last_error());
    return NULL;
  }
  return env;
}

/* The environment at t_path("db") is closed: another open of it succeeds (and is closed again). */
static void expect_closed(void) {
  kv_env *env = NULL;
  int rc = kv_env_open(&env, t_path("db"), NULL);
  if (rc != KV_OK) T_FAIL_RETURN("the environment is still open: kv_env_open gave %s", kv_err_name(rc));
  T_OK(kv_env_close(env));
}

static void expect_still_open(void) {
  kv_env *env = NULL;
  T_KV(kv_env_open(&env, t_path("db"), NULL), KV_E_BUSY);
}

/* A write transaction can begin on env within a second (no one holds LMDB's write lock). */
typedef struct try_write {
  kv_env *env;
  atomic_int rc;
} try_write;

static void *try_write_main(void *p) {
  try_write *w = p;
  kv_txn *t = NULL;
  int rc = kv_txn_begin(&t, w->env, KV_TXN_WRITE);
  if (rc == KV_OK) rc = kv_put(t, "w", 1, "1", 1);
  if (rc == KV_OK) rc = kv_txn_commit(t);
  kv_txn_free(t);
  atomic_store(&w->rc, rc);
  return NULL;
}

static int writer_can_begin(kv_env *env) {
  static try_write w; /* outlives a hung thread */
  w.env = env;
  atomic_store(&w.rc, 12345);
  pthread_t t;
  if (pthread_create(&t, NULL, try_write_main, &w) != 0) return -1;
  for (int i = 0; i < 100 && atomic_load(&w.rc) == 12345; i++) {
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  if (atomic_load(&w.rc) == 12345) {
    pthread_detach(t);
    return 0;
  }
  pthread_join(t, NULL);
  return atomic_load(&w.rc) == KV_OK;
}

/* Steps run by owners. */
typedef struct objs {
  kv_env *env;
  kv_txn *r, *w;
  kv_cursor *c;
  int rc;
} objs;

static void begin_reader(void *p) {
  objs *o = p;
  o->rc = kv_txn_begin(&o->r, o->env, KV_TXN_READ);
  if (o->rc == KV_OK) o->rc = kv_cursor_open(&o->c, o->r, NULL, 0);
}

static void begin_writer(void *p) {
  objs *o = p;
  o->rc = kv_txn_begin(&o->w, o->env, KV_TXN_WRITE);
  if (o->rc == KV_OK) o->rc = kv_put(o->w, "uncommitted", 11, "x", 1);
}

static void release_reader(void *p) {
  objs *o = p;
  o->rc = kv_cursor_release(o->c);
  if (o->rc == KV_OK) o->rc = kv_txn_release(o->r);
}

static void release_writer(void *p) {
  objs *o = p;
  o->rc = kv_txn_release(o->w);
}

static void release_env(void *p) {
  objs *o = p;
  o->rc = kv_env_release(o->env);
}

static void reader_begin_and_free(void *p) { /* any call that reaps */
  objs *o = p;
  kv_txn *t = NULL;
  o->rc = kv_txn_begin(&t, o->env, KV_TXN_READ);
  kv_txn_free(t);
}

/* An environment holding k=v, and an owner thread that began a read transaction (with a cursor) and a
 * write transaction on it and is now idle. */
static void owner_with_reader_and_writer(objs *o, t_worker *a) {
  memset(o, 0, sizeof *o);
  o->env = open_env();
  T_CHECK();
  T_OK(kv_env_put(o->env, "k", 1, "v", 1));
  t_worker_start(a);
  t_worker_call(a, begin_reader, o);
  T_OK(o->rc);
  t_worker_call(a, begin_writer, o);
  T_OK(o->rc);
}

static void expect_uncommitted_gone(kv_env *env) {
  char buf[4];
  size_t len;
  T_KV(kv_env_get(env, "uncommitted", 11, buf, sizeof buf, &len), KV_E_NOT_FOUND);
}

/* ---- Plain API ---------------------------------------------------------------------------------- */
static void test_release_reader_from_other_thread(void) {
  objs o = {open_env(), NULL, NULL, NULL, 0};
  T_CHECK();
  T_OK(kv_env_put(o.env, "k", 1, "v", 1));
  t_worker a;
  t_worker_start(&a);
  t_worker_call(&a, begin_reader, &o);
  T_OK(o.rc);
  t_in_thread(release_reader, &o); /* the owner lives and is idle */
  T_OK(o.rc);
  T_OK(kv_env_close(o.env)); /* nothing is open any more */
  t_worker_stop(&a);
  expect_closed();
  t_leak_check();
}

static void test_release_writer_owner_alive(void) {
  objs o = {open_env(), NULL, NULL, NULL, 0};
  T_CHECK();
  t_worker a;
  t_worker_start(&a);
  t_worker_call(&a, begin_writer, &o);
  T_OK(o.rc);
  t_in_thread(release_writer, &o);
  T_OK(o.rc);
  /* Only the owner can end it; until it calls into the engine, writers wait. */
  T_KV(kv_env_close(o.env), KV_E_BUSY);
  t_worker_call(&a, reader_begin_and_free, &o); /* the owner's next begin ends it */
  T_OK(o.rc);
  T_EQ_INT(writer_can_begin(o.env), 1);
  expect_uncommitted_gone(o.env);
  T_CHECK();
  T_OK(kv_env_close(o.env));
  t_worker_stop(&a);
  expect_closed();
  t_leak_check();
}

static void test_release_writer_owner_exits(void) {
  objs o = {open_env(), NULL, NULL, NULL, 0};
  T_CHECK();
  t_worker a;
  t_worker_start(&a);
  t_worker_call(&a, begin_writer, &o);
  T_OK(o.rc);
  t_in_thread(release_writer, &o);
  T_OK(o.rc);
  t_worker_stop(&a); /* its exit ends and frees the released writer */
  T_EQ_INT(writer_can_begin(o.env), 1);
  expect_uncommitted_gone(o.env);
  T_CHECK();
  T_OK(kv_env_close(o.env));
  expect_closed();
  t_leak_check();
}

static void test_owner_exit_then_release(void) {
  objs o;
  t_worker a;
  owner_with_reader_and_writer(&o, &a);
  T_CHECK();
  t_worker_stop(&a); /* ends both; the objects stay */
  T_EQ_INT(writer_can_begin(o.env), 1); /* the dead thread holds no lock */
  const void *k;
  size_t kl;
  T_KV(kv_cursor_next(o.c, &k, &kl, NULL, NULL), KV_E_CURSOR_ENDED);
  T_KV(kv_put(o.w, "k", 1, "v", 1), KV_E_WRONG_THREAD);
  T_KV(kv_env_close(o.env), KV_E_BUSY); /* two kv_txn objects are alive */
  t_in_thread(release_reader, &o);
  T_OK(o.rc);
  T_OK(kv_txn_release(o.w));
  expect_uncommitted_gone(o.env);
  T_CHECK();
  T_OK(kv_env_close(o.env));
  expect_closed();
  t_leak_check();
}

/* The cursor is released by another thread while its owner keeps using the transaction: the
 * transaction's end frees it, in the owner's thread. */
typedef struct cursor_work {
  objs *o;
  int n;
} cursor_work;

static void owner_writes(void *p) {
  cursor_work *cw = p;
  for (int i = 0; i < 50 && cw->o->rc == KV_OK; i++) {
    char key[8];
    snprintf(key, sizeof key, "c%02d", i);
    cw->o->rc = kv_put(cw->o->w, key, strlen(key), "v", 1);
  }
  kv_cursor *c2 = NULL;
  if (cw->o->rc == KV_OK) cw->o->rc = kv_cursor_open(&c2, cw->o->w, NULL, 0);
  const void *k;
  size_t kl;
  while (cw->o->rc == KV_OK && kv_cursor_next(c2, &k, &kl, NULL, NULL) == KV_OK) cw->n++;
  kv_cursor_close(c2);
}

static void owner_commits(void *p) {
  objs *o = p;
  o->rc = kv_txn_commit(o->w);
  if (o->rc == KV_OK) o->rc = kv_txn_free(o->w);
}

static void release_cursor(void *p) {
  objs *o = p;
  o->rc = kv_cursor_release(o->c);
}

static void open_cursor_on_writer(void *p) {
  objs *o = p;
  o->rc = kv_cursor_open(&o->c, o->w, NULL, 0);
}

static void test_release_cursor_while_owner_works(void) {
  objs o = {open_env(), NULL, NULL, NULL, 0};
  T_CHECK();
  t_worker a;
  t_worker_start(&a);
  t_worker_call(&a, begin_writer, &o);
  T_OK(o.rc);
  t_worker_call(&a, open_cursor_on_writer, &o);
  T_OK(o.rc);
  t_in_thread(release_cursor, &o);
  T_OK(o.rc);
  cursor_work cw = {&o, 0};
  t_worker_call(&a, owner_writes, &cw);
  T_OK(o.rc);
  T_EQ_INT(cw.n, 51);
  t_worker_call(&a, owner_commits, &o);
  T_OK(o.rc);
  t_worker_stop(&a);
  T_OK(kv_env_close(o.env));
  expect_closed();
  t_leak_check();
}

static void test_env_release_deferred(void) {
  objs o;
  t_worker a;
  owner_with_reader_and_writer(&o, &a);
  T_CHECK();
  t_in_thread(release_env, &o); /* a zombie: both transactions still work */
  T_OK(o.rc);
  expect_still_open();
  T_CHECK();
  t_in_thread(release_reader, &o);
  T_OK(o.rc);
  expect_still_open(); /* the writer is left */
  T_CHECK();
  t_in_thread(release_writer, &o); /* owner alive: it ends the writer at its next call... */
  T_OK(o.rc);
  expect_still_open();
  T_CHECK();
  t_worker_stop(&a); /* ...or, here, at its exit: the last object goes, and the environment with it */
  expect_closed();
  t_leak_check();
}

/* ---- Handle ABI: a finalizer thread releases handles, owners alive or gone ------------------------ */
typedef struct hobjs {
  kvh_handle env, r, w, c, rc2;
  int rc;
} hobjs;

static void h_begin(void *p) {
  hobjs *h = p;
  h->rc = kvh_txn_begin(&h->r, h->env, KV_TXN_READ);
  if (h->rc == KV_OK) h->rc = kvh_cursor_open(&h->c, h->r, NULL, 0);
  if (h->rc == KV_OK) h->rc = kvh_txn_begin(&h->w, h->env, KV_TXN_WRITE);
  if (h->rc == KV_OK) h->rc = kvh_put(h->w, "uncommitted", 11, "x", 1);
}

static void h_finalize(void *p) { /* in any order, as a finalizer thread would */
  hobjs *h = p;
  const kvh_handle order[] = {h->env, h->w, h->r, h->c};
  h->rc = KV_OK;
  for (size_t i = 0; i < T_COUNT(order) && h->rc == KV_OK; i++) h->rc = kvh_release(order[i]);
}

static void test_handles_released_by_finalizer(void) {
  for (int owner_gone = 0; owner_gone < 2; owner_gone++) {
    hobjs h;
    memset(&h, 0, sizeof h);
    kv_options o = KV_OPTIONS_INIT;
    o.durability = KV_DURABLE_NOSYNC;
    T_OK(kvh_env_open(&h.env, t_path("db"), &o));
    t_worker a;
    t_worker_start(&a);
    t_worker_call(&a, h_begin, &h);
    T_OK(h.rc);
    if (owner_gone) t_worker_stop(&a);
    t_in_thread(h_finalize, &h);
    T_OK(h.rc);
    T_EQ_INT(kvh_live_count(), 0); /* every handle is dead at once */
    T_KV(kvh_release(h.env), KV_E_BAD_HANDLE);
    T_KV(kvh_release(h.w), KV_E_BAD_HANDLE);
    if (!owner_gone) {
      expect_still_open(); /* the living owner has not yet ended its released writer... */
      T_CHECK();
      t_worker_stop(&a); /* ...until it exits */
    }
    expect_closed();
    T_CHECK();
  }
  /* Misuse stays an error: a forged handle, and a handle in use by another call. */
  T_KV(kvh_release(KVH_NULL), KV_E_BAD_HANDLE);
  T_KV(kvh_release(0x123456789ull), KV_E_BAD_HANDLE);
  t_leak_check();
}

/* ---- Stress (also under TSan): owners make objects, a finalizer releases them -------------------- */
#define STRESS_OWNERS 3
#define STRESS_ROUNDS 150

typedef struct stress_item {
  kvh_handle h;
  int owner, writer;
} stress_item;

typedef struct stress {
  kvh_handle env;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  stress_item queue[STRESS_OWNERS * STRESS_ROUNDS * 2];
  size_t head, tail;
  int released_writers[STRESS_OWNERS];
  int owners_done, errors;
} stress;

typedef struct stress_arg {
  stress *s;
  int id;
} stress_arg;

static void stress_push(stress *s, kvh_handle h, int owner_id, int writer) {
  pthread_mutex_lock(&s->mu);
  s->queue[s->tail++] = (stress_item){h, owner_id, writer};
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

static void *stress_owner(void *p) {
  stress_arg *a = p;
  stress *s = a->s;
  int writers = 0;
  for (int i = 0; i < STRESS_ROUNDS; i++) {
    const int write = i % 3 == 0;
    kvh_handle t = 0, c = 0;
    int rc = kvh_txn_begin(&t, s->env, write ? KV_TXN_WRITE : KV_TXN_READ);
    if (rc == KV_OK) rc = kvh_cursor_open(&c, t, NULL, 0);
    if (rc == KV_OK && write) rc = kvh_put(t, "k", 1, "v", 1);
    if (rc != KV_OK) {
      __atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
      continue;
    }
    stress_push(s, c, a->id, 0); /* dropped: the finalizer gets them, in whatever order */
    stress_push(s, t, a->id, write);
    if (write) {
      /* This thread still holds LMDB's write lock: other writers wait until the finalizer has
       * released the handle and this thread's next begin has ended the transaction. */
      writers++;
      pthread_mutex_lock(&s->mu);
      while (s->released_writers[a->id] < writers) pthread_cond_wait(&s->cv, &s->mu);
      pthread_mutex_unlock(&s->mu);
    }
  }
  pthread_mutex_lock(&s->mu);
  s->owners_done++;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  return NULL; /* its exit ends whatever it still owns */
}

static void *stress_finalizer(void *p) {
  stress *s = p;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    while (s->head == s->tail && s->owners_done < STRESS_OWNERS) pthread_cond_wait(&s->cv, &s->mu);
    if (s->head == s->tail) break;
    stress_item it = s->queue[s->head++];
    pthread_mutex_unlock(&s->mu);
    if (kvh_release(it.h) != KV_OK) __atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
    pthread_mutex_lock(&s->mu);
    if (it.writer) {
      s->released_writers[it.owner]++;
      pthread_cond_broadcast(&s->cv);
    }
  }
  pthread_mutex_unlock(&s->mu);
  if (kvh_release(s->env) != KV_OK) __atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
  return NULL;
}

static void test_finalizer_stress(void) {
  static stress s;
  memset(&s, 0, sizeof s);
  pthread_mutex_init(&s.mu, NULL);
  pthread_cond_init(&s.cv, NULL);
  kv_options o = KV_OPTIONS_INIT;
  o.durability = KV_DURABLE_NOSYNC;
  T_OK(kvh_env_open(&s.env, t_path("db"), &o));
  pthread_t owners[STRESS_OWNERS], fin;
  T_EQ_INT(pthread_create(&fin, NULL, stress_finalizer, &s), 0);
  stress_arg args[STRESS_OWNERS];
  for (int i = 0; i < STRESS_OWNERS; i++) {
    args[i] = (stress_arg){&s, i};
    T_EQ_INT(pthread_create(&owners[i], NULL, stress_owner, &args[i]), 0);
  }
  for (int i = 0; i < STRESS_OWNERS; i++) pthread_join(owners[i], NULL);
  pthread_join(fin, NULL);
  T_EQ_INT(s.errors, 0);
  T_EQ_INT(kvh_live_count(), 0);
  expect_closed();
  T_CHECK();
  pthread_cond_destroy(&s.cv);
  pthread_mutex_destroy(&s.mu);
  t_leak_check();
}

static const t_case cases[] = {
    T_CASE(test_release_reader_from_other_thread),
    T_CASE(test_release_writer_owner_alive),
    T_CASE(test_release_writer_owner_exits),
    T_CASE(test_owner_exit_then_release),
    T_CASE(test_release_cursor_while_owner_works),
    T_CASE(test_env_release_deferred),
    T_CASE(test_handles_released_by_finalizer),
    T_CASE(test_finalizer_stress),
};

int main(int argc, char **argv) { return t_main(argc, argv, cases, T_COUNT(cases)); }
