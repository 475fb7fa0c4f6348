/* test_durability.c — commits survive a writer killed at a random moment.
 *
 * Each round forks a writer child that opens the database (default options: KV_DURABLE_SYNC) and
 * commits transactions 1, 2, 3, ... one after another. Transaction i applies the operations that
 * commit_ops(i) lists — puts of fresh keys, overwrites, deletes of earlier keys, values up to ~650 KB —
 * and after kv_txn_commit(i) returned KV_OK the child reports i to the parent over a pipe. The parent
 * kills the child with SIGKILL after a random delay (microseconds to tens of milliseconds, sometimes
 * before the child has even opened the database), then opens the database itself and checks:
 *
 *   - V, the last commit visible (key "last"), satisfies R <= V <= R + 1, where R is the last commit
 *     reported: every reported commit is there, and at most the one in flight beyond it;
 *   - the whole database is exactly the state after commit V (replaying commit_ops(1..V) into a
 *     model): a full cursor walk reads every record back whole, with exactly the expected bytes, no
 *     record missing, none extra, none written by a commit after V; kv_scan counts the same;
 *   - a write transaction can begin (the writer lock held by the dead child was recovered).
 *
 * The next round continues from V. Every process opens and closes its own environment; the parent
 * never holds one open across a fork.
 *
 * Environment: DURABILITY_ROUNDS (default 200), DURABILITY_SEED (default: time and pid; printed),
 * DURABILITY_BUDGET_S (default 40: rounds stop early past this many seconds, and say so).
 */
#define _GNU_SOURCE
#include "kv.h"
#include "testlib.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define T_HAVE_LSAN 1
#endif

/* ---------------------------------------------------------------------------------------------- */
/* The schedule: what commit i does. The one source of truth for the writer and the checker.       */

typedef struct op {
  int del;           /* 1: delete key; 0: put key = value_bytes(key, seed, val_len) */
  char key[24];
  size_t key_len;
  uint64_t seed;     /* the commit that wrote the value */
  size_t val_len;
} op;

enum { MAX_OPS = 8, HOT_SLOTS = 16, BIG_SLOTS = 3 };

#define SET_KEY(o, ...) ((o)->key_len = (size_t)snprintf((o)->key, sizeof(o)->key, __VA_ARGS__))

/* The operations of commit i (i >= 1), in order. Every delete targets a key that exists at that
 * point (the writer treats KV_E_NOT_FOUND as a failure). */
static size_t commit_ops(uint64_t i, op *ops) {
  size_t n = 0;
  op *o;
  /* a fresh key per commit */
  o = &ops[n++];
  memset(o, 0, sizeof *o);
  SET_KEY(o, "k%08llu", (unsigned long long)(i));
  o->seed = i;
  o->val_len = (size_t)((i * 37) % 300); /* 0..299 bytes, some empty */
  /* overwrite one of 16 hot keys */
  o = &ops[n++];
  memset(o, 0, sizeof *o);
  SET_KEY(o, "hot%02llu", (unsigned long long)(i % HOT_SLOTS));
  o->seed = i;
  o->val_len = 8 + (size_t)((i * 101) % 3000); /* spans inline and overflow pages */
  /* every 4th commit overwrites the previous commit's fresh key */
  if (i % 4 == 0 && i > 1) {
    o = &ops[n++];
    memset(o, 0, sizeof *o);
    SET_KEY(o, "k%08llu", (unsigned long long)(i - 1));
    o->seed = i;
    o->val_len = 8 + (size_t)((i * 13) % 50);
  }
  /* every 3rd commit deletes the fresh key of commit i - 3 (only ever deleted here) */
  if (i % 3 == 0 && i > 3) {
    o = &ops[n++];
    memset(o, 0, sizeof *o);
    o->del = 1;
    SET_KEY(o, "k%08llu", (unsigned long long)(i - 3));
  }
  /* some commits delete hot slot (i + 8) % 16, last written by commit i - 8 */
  if (i % 10 == 5 && i >= 9) {
    o = &ops[n++];
    memset(o, 0, sizeof *o);
    o->del = 1;
    SET_KEY(o, "hot%02llu", (unsigned long long)((i + 8) % HOT_SLOTS));
  }
  /* every 7th commit rewrites a big value (50 KB .. 650 KB) */
  if (i % 7 == 0) {
    o = &ops[n++];
    memset(o, 0, sizeof *o);
    SET_KEY(o, "big%llu", (unsigned long long)((i / 7) % BIG_SLOTS));
    o->seed = i;
    o->val_len = 50000 + (size_t)((i * 7919) % 600000);
  }
  /* the commit's own number, last */
  o = &ops[n++];
  memset(o, 0, sizeof *o);
  SET_KEY(o, "last");
  o->seed = i;
  o->val_len = 8;
  return n;
}

static uint64_t fnv1a(const void *p, size_t n) {
  const unsigned char *b = p;
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

/* The bytes of a value: the writing commit's number (little-endian) in the first 8 bytes when there
 * is room, then a stream derived from key and commit. "last" is exactly its commit's number. */
static void value_bytes(const char *key, size_t key_len, uint64_t seed, size_t len, unsigned char *out) {
  size_t i = 0;
  if (len >= 8)
    for (; i < 8; i++) out[i] = (unsigned char)(seed >> (8 * i));
  uint64_t x = fnv1a(key, key_len) ^ (seed * 0x9E3779B97F4A7C15ull);
  for (; i < len; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    out[i] = (unsigned char)(x >> 32);
  }
}

static uint64_t le64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

enum { VAL_MAX = 650000 + 8 };

/* ---------------------------------------------------------------------------------------------- */
/* The writer (child process). Exits only by being killed, or with a code naming what failed.     */

enum { W_OPEN = 20, W_BEGIN, W_PUT, W_DEL, W_COMMIT, W_REPORT, W_FREE, W_MEM };

static void fail_child(int code, const char *what, uint64_t i, int rc) {
  fprintf(stderr, "  writer: %s in commit %llu: %s (%s)\n", what, (unsigned long long)i, kv_err_name(rc),
          kv_last_error());
  _exit(code);
}

static void writer(const char *path, uint64_t start, int report_fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  unsigned char *val = malloc(VAL_MAX);
  if (!val) _exit(W_MEM);
  kv_env *env = NULL;
  int rc = kv_env_open(&env, path, NULL);
  if (rc != KV_OK) fail_child(W_OPEN, "kv_env_open", start + 1, rc);
  uint64_t ready = 0; /* 0: opened, ready to commit */
  if (write(report_fd, &ready, sizeof ready) != (ssize_t)sizeof ready) _exit(W_REPORT);
  op ops[MAX_OPS];
  for (uint64_t i = start + 1;; i++) {
    kv_txn *t = NULL;
    rc = kv_txn_begin(&t, env, KV_TXN_WRITE);
    if (rc != KV_OK) fail_child(W_BEGIN, "kv_txn_begin", i, rc);
    size_t n = commit_ops(i, ops);
    for (size_t j = 0; j < n; j++) {
      if (ops[j].del) {
        rc = kv_del(t, ops[j].key, ops[j].key_len);
        if (rc != KV_OK) fail_child(W_DEL, "kv_del", i, rc);
      } else {
        value_bytes(ops[j].key, ops[j].key_len, ops[j].seed, ops[j].val_len, val);
        rc = kv_put(t, ops[j].key, ops[j].key_len, val, ops[j].val_len);
        if (rc != KV_OK) fail_child(W_PUT, "kv_put", i, rc);
      }
    }
    rc = kv_txn_commit(t);
    if (rc != KV_OK) fail_child(W_COMMIT, "kv_txn_commit", i, rc);
    if (write(report_fd, &i, sizeof i) != (ssize_t)sizeof i) _exit(W_REPORT);
    rc = kv_txn_free(t);
    if (rc != KV_OK) fail_child(W_FREE, "kv_txn_free", i, rc);
  }
}

/* ---------------------------------------------------------------------------------------------- */
/* The model: the expected state, as key -> (seed, length, live). Keys are never removed from the
 * table, a delete only clears live, so open addressing needs no tombstones.                      */

typedef struct entry {
  char key[24];
  uint8_t key_len;
  uint8_t used, live;
  uint64_t seed;
  size_t val_len;
} entry;

typedef struct model {
  entry *slots;
  size_t cap, used, live;
  uint64_t at; /* the commit the model is the state after */
} model;

static entry *model_find(model *m, const void *key, size_t key_len, int insert);

static int model_grow(model *m) {
  size_t ncap = m->cap ? m->cap * 2 : 1024;
  entry *old = m->slots;
  size_t ocap = m->cap;
  m->slots = calloc(ncap, sizeof *m->slots);
  if (!m->slots) return -1;
  m->cap = ncap;
  m->used = 0;
  for (size_t i = 0; i < ocap; i++)
    if (old[i].used) {
      entry *e = model_find(m, old[i].key, old[i].key_len, 1);
      *e = old[i];
    }
  free(old);
  return 0;
}

static entry *model_find(model *m, const void *key, size_t key_len, int insert) {
  if (key_len >= sizeof m->slots[0].key) return NULL;
  if (insert && (m->used + 1) * 10 >= m->cap * 7 && model_grow(m) != 0) return NULL;
  if (!m->cap) return NULL;
  size_t i = (size_t)fnv1a(key, key_len) & (m->cap - 1);
  for (;; i = (i + 1) & (m->cap - 1)) {
    entry *e = &m->slots[i];
    if (!e->used) {
      if (!insert) return NULL;
      memset(e, 0, sizeof *e);
      memcpy(e->key, key, key_len);
      e->key_len = (uint8_t)key_len;
      e->used = 1;
      m->used++;
      return e;
    }
    if (e->key_len == key_len && memcmp(e->key, key, key_len) == 0) return e;
  }
}

/* Applies commit_ops(from+1 .. to) to the model. */
static int model_advance(model *m, uint64_t to) {
  op ops[MAX_OPS];
  for (uint64_t i = m->at + 1; i <= to; i++) {
    size_t n = commit_ops(i, ops);
    for (size_t j = 0; j < n; j++) {
      entry *e = model_find(m, ops[j].key, ops[j].key_len, 1);
      if (!e) return -1;
      if (ops[j].del) {
        if (!e->live) return -2; /* the schedule deletes only live keys */
        e->live = 0;
        m->live--;
      } else {
        if (!e->live) m->live++;
        e->live = 1;
        e->seed = ops[j].seed;
        e->val_len = ops[j].val_len;
      }
    }
    m->at = i;
  }
  return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* The checker (parent). */

typedef struct stats {
  uint64_t commits_reported, rounds_with_commits, in_flight_visible, killed_before_ready, records_checked;
} stats;

static int count_cb(const void *k, size_t kl, const void *v, size_t vl, void *payload) {
  (void)k, (void)kl, (void)v, (void)vl;
  (*(size_t *)payload)++;
  return 0;
}

/* Opens the database, finds V, advances the model to V and compares the whole database with it.
 * R is the last reported commit (start when none). */
static void check_db(const char *path, model *m, uint64_t start, uint64_t reported, int round,
                     unsigned char *expect, stats *st) {
  kv_env *env = NULL;
  T_OK(kv_env_open(&env, path, NULL));
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  unsigned char lastbuf[16];
  size_t len = 0;
  uint64_t v = 0;
  int rc = kv_get(r, "last", 4, lastbuf, sizeof lastbuf, &len);
  if (rc == KV_OK) {
    T_EQ_INT(len, 8);
    v = le64(lastbuf);
  } else {
    T_KV(rc, KV_E_NOT_FOUND);
  }
  if (v < reported)
    T_FAIL_RETURN("round %d: commit %llu was reported committed, but the database holds commit %llu",
                  round, (unsigned long long)reported, (unsigned long long)v);
  if (v > reported + 1)
    T_FAIL_RETURN("round %d: database holds commit %llu, but only %llu was reported (at most one "
                  "commit may be in flight)",
                  round, (unsigned long long)v, (unsigned long long)reported);
  if (v < start)
    T_FAIL_RETURN("round %d: database went back from commit %llu to %llu", round,
                  (unsigned long long)start, (unsigned long long)v);
  if (v == reported + 1) st->in_flight_visible++;
  T_EQ_INT(model_advance(m, v), 0);

  /* every record: expected, whole, exact, and written by a commit <= v */
  kv_cursor *cur = NULL;
  T_OK(kv_cursor_open(&cur, r, NULL, 0));
  size_t n = 0;
  const void *k = NULL, *val = NULL;
  size_t kl = 0, vl = 0;
  while ((rc = kv_cursor_next(cur, &k, &kl, &val, &vl)) == KV_OK) {
    entry *e = model_find(m, k, kl, 0);
    if (!e || !e->live) {
      kv_cursor_close(cur);
      T_FAIL_RETURN("round %d (commit %llu): unexpected record \"%.*s\" (%zu-byte value, written by "
                    "commit %llu)",
                    round, (unsigned long long)v, (int)(kl < 24 ? kl : 24), (const char *)k, vl,
                    vl >= 8 ? (unsigned long long)le64(val) : 0ull);
    }
    value_bytes(e->key, e->key_len, e->seed, e->val_len, expect);
    if (vl != e->val_len || memcmp(val, expect, vl) != 0) {
      kv_cursor_close(cur);
      T_FAIL_RETURN("round %d (commit %llu): record \"%s\": %zu bytes%s (written by commit %llu), "
                    "want %zu bytes of commit %llu",
                    round, (unsigned long long)v, e->key, vl, vl == e->val_len ? " differing" : "",
                    vl >= 8 ? (unsigned long long)le64(val) : 0ull, e->val_len,
                    (unsigned long long)e->seed);
    }
    n++;
  }
  kv_cursor_close(cur);
  T_KV(rc, KV_E_DONE);
  if (n != m->live)
    T_FAIL_RETURN("round %d (commit %llu): %zu records, want %zu (records missing)", round,
                  (unsigned long long)v, n, m->live);
  size_t scanned = 0, count = 0;
  T_OK(kv_scan(r, NULL, 0, NULL, 0, count_cb, &scanned, &count));
  T_EQ_INT(scanned, n);
  T_EQ_INT(count, n);
  st->records_checked += n;
  T_OK(kv_txn_free(r));
  /* the dead writer's lock is recovered: a write transaction begins (a hang trips the alarm) */
  kv_txn *w = NULL;
  alarm(30);
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  alarm(0);
  T_OK(kv_txn_abort(w));
  T_OK(kv_txn_free(w));
  T_OK(kv_env_close(env));
}

static uint64_t rng_state;
static uint64_t rng_next(void) {
  rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
  return rng_state;
}
static double rng_unit(void) { return (double)(rng_next() >> 11) / 9007199254740992.0; }

/* log-uniform in [lo, hi] microseconds */
static long log_uniform_us(double lo, double hi) {
  return (long)exp(log(lo) + rng_unit() * (log(hi) - log(lo)));
}

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long long env_ull(const char *name, unsigned long long dflt) {
  const char *s = getenv(name);
  return s && *s ? strtoull(s, NULL, 0) : dflt;
}

static void test_durability_kill_rounds(void) {
  int rounds = (int)env_ull("DURABILITY_ROUNDS", 200);
  uint64_t seed = env_ull("DURABILITY_SEED", 0);
  if (!seed) seed = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
  double budget = (double)env_ull("DURABILITY_BUDGET_S", 40);
  printf("durability: seed %llu (DURABILITY_SEED=%llu reproduces), %d rounds\n",
         (unsigned long long)seed, (unsigned long long)seed, rounds);
  rng_state = seed * 2654435761u + 0x9E3779B97F4A7C15ull;

  char path[4200];
  snprintf(path, sizeof path, "%s", t_path("db"));
  /* create the database here, so no round kills a child halfway through creating the file */
  kv_env *env = NULL;
  T_OK(kv_env_open(&env, path, NULL));
  T_OK(kv_env_close(env));

  model m = {0};
  stats st = {0};
  unsigned char *expect = malloc(VAL_MAX);
  T_TRUE(expect != NULL);
  uint64_t start = 0;
  double t0 = now_s();
  int round = 0;
  for (; round < rounds; round++) {
    if (now_s() - t0 > budget) {
      printf("durability: time budget of %.0f s reached after %d rounds\n", budget, round);
      break;
    }
    int fds[2];
    T_EQ_INT(pipe(fds), 0);
    /* 1 round in 8: kill counted from the fork (may land in the child's open); otherwise counted from
     * the child's "ready": half of those soon (log-uniform 1 us .. 2 ms: within the first commits),
     * half later (uniform 2 .. 60 ms: tens of commits in) */
    int from_fork = rng_next() % 8 == 0;
    long delay = from_fork           ? log_uniform_us(1, 3000)
                 : rng_next() % 2 == 0 ? log_uniform_us(1, 2000)
                                       : 2000 + (long)(rng_unit() * 58000);
    fflush(NULL);
    pid_t pid = fork();
    T_TRUE(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      writer(path, start, fds[1]);
      _exit(99);
    }
    close(fds[1]);
    int ready = 0;
    if (!from_fork) {
      uint64_t first = 99;
      ssize_t got = read(fds[0], &first, sizeof first);
      if (got == (ssize_t)sizeof first && first == 0) ready = 1;
    }
    sleep_us(delay);
    kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    /* everything the child reported, in order: 0 (ready) then start+1, start+2, ... */
    uint64_t reported = start, x;
    ssize_t got;
    while ((got = read(fds[0], &x, sizeof x)) == (ssize_t)sizeof x) {
      if (x == 0 && !ready) {
        ready = 1;
        continue;
      }
      if (x != reported + 1) {
        close(fds[0]);
        T_FAIL_RETURN("round %d: child reported commit %llu after %llu", round, (unsigned long long)x,
                      (unsigned long long)reported);
      }
      reported = x;
    }
    close(fds[0]);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
      T_FAIL_RETURN("round %d: writer was not killed but %s %d (see its message above)", round,
                    WIFEXITED(status) ? "exited with" : "died of signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    if (!ready) st.killed_before_ready++;
    if (reported > start) st.rounds_with_commits++;
    st.commits_reported += reported - start;
    check_db(path, &m, start, reported, round, expect, &st);
    if (t_failed()) {
      printf("durability: failed in round %d (seed %llu, delay %ld us%s, start %llu, reported %llu)\n",
             round, (unsigned long long)seed, delay, from_fork ? " from fork" : "",
             (unsigned long long)start, (unsigned long long)reported);
      free(expect);
      free(m.slots);
      return;
    }
    start = m.at;
  }
  double elapsed = now_s() - t0;
  printf("durability: %d rounds in %.1f s: %llu commits reported, last commit %llu, %llu rounds with "
         "commits, %llu with the in-flight commit visible, %llu killed before open finished, %llu "
         "records checked, %zu live keys\n",
         round, elapsed, (unsigned long long)st.commits_reported, (unsigned long long)start,
         (unsigned long long)st.rounds_with_commits, (unsigned long long)st.in_flight_visible,
         (unsigned long long)st.killed_before_ready, (unsigned long long)st.records_checked, m.live);
  free(expect);
  free(m.slots);
  /* not vacuous: the writers got to commit, in more than a few rounds */
  T_TRUE(st.commits_reported > 0);
  T_TRUE(round < 10 || st.rounds_with_commits * 3 >= (uint64_t)round);
#ifdef T_HAVE_LSAN
  if (!t_failed() && __lsan_do_recoverable_leak_check() != 0)
    t_fail(__FILE__, __LINE__, "LeakSanitizer found leaks (see above)");
#endif
}

/* The schedule is self-consistent (the checker would otherwise blame the engine): deletes only hit
 * live keys, over more commits than any run makes. */
static void test_durability_schedule_consistent(void) {
  model m = {0};
  int rc = model_advance(&m, 200000);
  size_t live = m.live;
  free(m.slots);
  T_EQ_INT(rc, 0);
  T_TRUE(live > 1000);
}

static const t_case cases[] = {
    T_CASE(test_durability_schedule_consistent),
    T_CASE(test_durability_kill_rounds),
};

int main(int argc, char **argv) { return t_main(argc, argv, cases, T_COUNT(cases)); }
