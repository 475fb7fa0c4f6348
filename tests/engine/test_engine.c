/* test_engine.c — unit tests of libkv's public API, written from engine/include/kv.h alone.
 *
 * kv.h is the contract: every test asserts the exact code (and the exact bytes) the header promises.
 * Where the header leaves a choice open the test does not pin it (noted at the test). Each test runs
 * in its own process (tests/lib/testlib.h); under ASan each passing test ends with a leak check.
 *
 * CHECKLIST: kv.h function -> tests (every documented error code is listed with the test forcing it)
 *
 *  kv_version, kv_version_string ..... test_version
 *  kv_strerror, kv_err_name .......... test_error_table (every code: exact name/message, distinct,
 *                                      contiguous, KV_E_LAST_), test_error_unknown_codes (0, unknown),
 *                                      test_error_strings_any_thread
 *  kv_last_error ..................... test_last_error_empty_initially, test_last_error_set_and_kept,
 *                                      test_last_error_thread_local, test_last_error_has_details
 *  kv_last_error_r ................... test_last_error_r_truncation, test_last_error_r_no_error
 *  kv_options_init, kv_options_size .. test_options_init_size (INVALID on NULL, layout 24 bytes)
 *  kv_env_open ....................... test_open_defaults (NULL opts, "-lock" file),
 *                                      test_open_invalid_args (INVALID: env/path NULL, path ""),
 *                                      test_open_options_version (VERSION: 0, 2, UINT32_MAX),
 *                                      test_open_options_flags / _durability / _reserved (INVALID),
 *                                      test_open_options_nosync_ok,
 *                                      test_open_twice_busy, test_open_twice_other_spelling_busy (BUSY),
 *                                      test_open_readonly_missing_io, test_open_missing_dir_io,
 *                                      test_open_directory_io (IO),
 *                                      test_open_not_lmdb_corrupt, test_open_short_file_corrupt (CORRUPT)
 *                                      NO_MEMORY: engine.faults (test_alloc_env_open).
 *  kv_env_close ...................... test_close_null, test_close_busy_active_txn (BUSY),
 *                                      test_close_busy_ended_unfreed_txn (BUSY), test_close_other_thread
 *  kv_env_set_map_size ............... test_map_full_then_grow (MAP_FULL via kv_put, grow, retry),
 *                                      test_map_full_oneshot (MAP_FULL via kv_env_put/commit),
 *                                      test_set_map_size_errors (INVALID, BUSY read+write txn, READ_ONLY,
 *                                      NO_MEMORY for a size mmap refuses: the old map stays),
 *                                      test_set_map_size_vs_oneshot_in_other_thread (no remap under a
 *                                      one-shot call of another thread),
 *                                      test_get_ref_survives_map_growth_by_other_process (no remap under
 *                                      a live txn when another process grew the file).
 *                                      IO: not tested (needs a failing mmap/ftruncate).
 *  kv_env_map_size ................... test_map_size_getter (default, option, reopen, after set; INVALID)
 *  kv_env_sync ....................... test_sync (OK sync/nosync, INVALID, READ_ONLY); IO in
 *                                      engine.faults (test_io_env_sync).
 *  kv_txn_begin ...................... test_txn_begin_errors (INVALID: NULL txn/env, flags),
 *                                      test_readonly_env_writes (READ_ONLY), test_second_write_txn_busy
 *                                      (BUSY), test_readers_full (READERS_FULL),
 *                                      test_many_read_txns_one_thread, test_write_txn_other_thread_waits,
 *                                      test_write_txn_other_process_waits, test_read_txn_never_blocks,
 *                                      test_threads_share_env.
 *                                      NO_MEMORY: engine.faults (test_alloc_txn_begin). IO: not tested.
 *  kv_txn_commit ..................... test_commit_and_abort, test_txn_ended_everywhere (TXN_ENDED),
 *                                      test_wrong_thread_txn_calls (WRONG_THREAD), test_map_full_oneshot
 *                                      (MAP_FULL when the commit is where it happens), INVALID in
 *                                      test_null_objects. IO: engine.faults (test_io_commit_writes,
 *                                      test_io_commit_sync). TXN_FAILED: test_map_full_fails_txn.
 *  kv_txn_abort ...................... test_commit_and_abort, test_txn_ended_everywhere,
 *                                      test_wrong_thread_txn_calls, test_null_objects
 *  kv_txn_reset, kv_txn_renew ........ test_reset_renew, test_reset_renew_errors (INVALID write txn,
 *                                      TXN_ENDED, BUSY active), test_renew_in_other_thread (owner moves),
 *                                      test_reset_keeps_reader_slot. renew IO: not tested.
 *  kv_txn_free ....................... test_txn_free_aborts_active, test_txn_free_detaches_cursors
 *                                      (CURSOR_ENDED), test_txn_free_null, test_txn_free_other_thread
 *                                      (WRONG_THREAD while active; OK once ended)
 *  kv_txn_is_write ................... test_txn_is_write (1, 0, after end, INVALID)
 *  kv_put/kv_get/kv_get_ref/kv_del ... test_put_get_del_basic, test_key_sizes (0/1/511/512: KEY_SIZE),
 *                                      test_value_empty, test_value_16mib, test_value_max_boundary
 *                                      (VALUE_SIZE), test_null_buffers (INVALID), test_null_objects,
 *                                      test_get_small_buffer (BUFFER_TOO_SMALL + length, retry),
 *                                      test_get_length_query, test_get_not_found_keeps_outputs,
 *                                      test_get_ref_lifetime, test_write_in_read_txn (READ_ONLY),
 *                                      test_readonly_env_writes, test_txn_ended_everywhere,
 *                                      test_wrong_thread_txn_calls, test_model_random.
 *                                      TXN_FULL: not tested (LMDB spills dirty pages; reaching it needs
 *                                      hundreds of MiB of small writes in one transaction).
 *  kv_get_batch ...................... test_get_batch (hits, misses -> SIZE_MAX, found, NULL found,
 *                                      n = 0), test_get_batch_small_buffer (BUFFER_TOO_SMALL, lengths),
 *                                      test_get_batch_errors (INVALID, KEY_SIZE), ended/wrong thread.
 *  kv_env_put/kv_env_get/kv_env_del .. test_env_oneshot, test_env_oneshot_errors (INVALID, KEY_SIZE,
 *                                      VALUE_SIZE, NOT_FOUND, BUFFER_TOO_SMALL), test_env_oneshot_busy
 *                                      (BUSY while this thread holds a write txn), READ_ONLY in
 *                                      test_readonly_env_writes, MAP_FULL in test_map_full_oneshot.
 *  kv_cursor_open/next/close ......... test_cursor_order, test_cursor_start_key, test_cursor_done_repeats,
 *                                      test_cursor_errors (INVALID, KEY_SIZE, TXN_ENDED),
 *                                      test_cursor_ended_by_commit_abort_reset (CURSOR_ENDED),
 *                                      test_txn_free_detaches_cursors, test_cursor_sees_own_writes,
 *                                      test_wrong_thread_txn_calls (WRONG_THREAD incl. close).
 *                                      NO_MEMORY: engine.faults (test_alloc_cursor_open).
 *  kv_scan ........................... test_scan_ranges (NULL lo/hi, empty and inverted range, count,
 *                                      payload), test_scan_stop_value (positive and negative stop
 *                                      values returned), test_scan_errors (INVALID fn/bounds, KEY_SIZE,
 *                                      TXN_ENDED), test_wrong_thread_txn_calls,
 *                                      test_scan_callback_ends_read_txn / _write_txn (TXN_ENDED when
 *                                      the callback ends the transaction; kv.h is silent on this),
 *                                      test_scan_callback_resets_and_renews (TXN_ENDED after a reset
 *                                      and renew in the callback).
 *  KV_E_TXN_FAILED ................... test_map_full_fails_txn (every call after MAP_FULL; commit).
 *  kv_env_release, kv_txn_release,
 *  kv_cursor_release ................. engine.release (test_release.c), engine.races (thread exit)
 *  kv_noop, kv_add, kv_spin .......... test_calibration_noop, test_calibration_add (wrap),
 *                                      test_calibration_spin (LCG computed here)
 *  KV_DURABLE_SYNC / _NOSYNC ......... test_process_kill_keeps_commits (both), with a write txn open
 *                                      at the kill (its writes vanish, the writer lock recovers).
 */
#define _GNU_SOURCE
#include "kv.h"
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define T_HAVE_LSAN 1
#define LSAN_OFF() __lsan_disable()
#define LSAN_ON() __lsan_enable()
#else
#define LSAN_OFF() ((void)0)
#define LSAN_ON() ((void)0)
#endif

/* ---------------------------------------------------------------------------------------------- */
/* Test definition: the runner _exit()s each test's process, so LeakSanitizer never runs by itself;
 * under ASan every test that passed is followed by a leak check of the engine and the test. */

#define TEST(name)                                                                                 \
  static void name##_body(void);                                                                   \
  static void name(void) {                                                                         \
    name##_body();                                                                                 \
    t_leak_check();                                                                                \
  }                                                                                                \
  static void name##_body(void)

/* ---------------------------------------------------------------------------------------------- */
/* Helpers. Those that assert are void; their callers follow them with T_CHECK(). */

static kv_options opts_of(uint32_t flags, uint64_t map_size, uint32_t durability) {
  kv_options o = KV_OPTIONS_INIT;
  o.flags = flags;
  o.map_size = map_size;
  o.durability = durability;
  return o;
}

static void open_db(kv_env **env, const char *name, const kv_options *o) {
  T_OK(kv_env_open(env, t_path(name), o));
  T_TRUE(*env != NULL);
}

static void put_s(kv_txn *t, const char *k, const char *v) {
  T_OK(kv_put(t, k, strlen(k), v, strlen(v)));
}

/* The value under key must be exactly v (checked through kv_get and kv_get_ref). */
static void expect_val(kv_txn *t, const void *k, size_t kl, const void *v, size_t vl) {
  size_t cap = vl + 8;
  unsigned char *buf = malloc(cap);
  T_TRUE(buf != NULL);
  size_t len = 12345;
  int rc = kv_get(t, k, kl, buf, cap, &len);
  if (rc != KV_OK || len != vl || (vl && memcmp(buf, v, vl) != 0)) {
    free(buf);
    T_FAIL_RETURN("kv_get(key of %zu bytes): rc %s, len %zu, want %zu bytes%s", kl, kv_err_name(rc),
                  len, vl, rc == KV_OK && len == vl ? " (contents differ)" : "");
  }
  free(buf);
  const void *ref = NULL;
  size_t rl = 12345;
  T_OK(kv_get_ref(t, k, kl, &ref, &rl));
  T_EQ_MEM(ref, rl, v, vl);
}

static void expect_val_s(kv_txn *t, const char *k, const char *v) {
  expect_val(t, k, strlen(k), v, strlen(v));
}

static void expect_missing(kv_txn *t, const void *k, size_t kl) {
  char buf[4];
  size_t len = 777;
  T_KV(kv_get(t, k, kl, buf, sizeof buf, &len), KV_E_NOT_FOUND);
  T_EQ_INT(len, 777);
}

static void fill_pattern(unsigned char *p, size_t n, uint32_t seed) {
  uint32_t x = seed * 2654435761u + 1u;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    p[i] = (unsigned char)(x >> 24);
  }
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static void write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  T_TRUE(f != NULL);
  size_t w = fwrite(data, 1, n, f);
  int c = fclose(f);
  T_EQ_INT(w, n);
  T_EQ_INT(c, 0);
}

/* Reads a whole file into a malloc'ed buffer; *n receives its size. */
static unsigned char *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 4096;
      unsigned char *nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = nb;
    }
    size_t r = fread(buf + len, 1, cap - len, f);
    if (r == 0) break;
    len += r;
  }
  fclose(f);
  *n = len;
  return buf;
}

/* Recorded results of calls made where T_ macros cannot be used (another thread). */
typedef struct calls {
  int n;
  const char *what[40];
  int got[40];
} calls;

#define REC(c, expr)                                                                               \
  do {                                                                                             \
    (c)->what[(c)->n] = #expr;                                                                     \
    (c)->got[(c)->n] = (int)(expr);                                                                \
    (c)->n++;                                                                                      \
  } while (0)

static void expect_all(const calls *c, int want) {
  for (int i = 0; i < c->n; i++)
    if (c->got[i] != want)
      T_FAIL_RETURN("%s: got %d (%s), want %d (%s)", c->what[i], c->got[i], kv_err_name(c->got[i]),
                    want, kv_err_name(want));
}

static int count_cb(const void *k, size_t kl, const void *v, size_t vl, void *payload) {
  (void)k, (void)kl, (void)v, (void)vl;
  (*(int *)payload)++;
  return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Version */

TEST(test_version) {
  T_EQ_INT(KV_VERSION_HEX, (KV_VERSION_MAJOR << 16) | (KV_VERSION_MINOR << 8) | KV_VERSION_PATCH);
  T_EQ_INT(KV_VERSION_HEX, 0x000200);
  T_EQ_INT(kv_version(), KV_VERSION_HEX);
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", KV_VERSION_MAJOR, KV_VERSION_MINOR, KV_VERSION_PATCH);
  const char *s = kv_version_string();
  T_TRUE(s != NULL);
  T_EQ_STR(s, want);
  T_TRUE(kv_version_string() == s); /* static */
  unsigned ma = 99, mi = 99, pa = 99;
  T_EQ_INT(sscanf(s, "%u.%u.%u", &ma, &mi, &pa), 3);
  T_EQ_INT((ma << 16) | (mi << 8) | pa, kv_version());
}

/* ---------------------------------------------------------------------------------------------- */
/* Errors */

typedef struct err_row {
  int e, code;
  const char *name, *msg;
} err_row;
#define ERR_ROW(name, code, msg) {KV_E_##name, code, "KV_E_" #name, msg},
static const err_row err_rows[] = {KV_ERRNO_MAP(ERR_ROW)};
#undef ERR_ROW
#define N_ERR_ROWS ((int)T_COUNT(err_rows))

TEST(test_error_table) {
  T_EQ_INT(N_ERR_ROWS, 25);
  T_EQ_INT(KV_E_LAST_, -25);
  int lowest = 0;
  for (int i = 0; i < N_ERR_ROWS; i++) {
    const err_row *r = &err_rows[i];
    T_EQ_INT(r->e, r->code);
    T_EQ_INT(r->code, -(i + 1)); /* contiguous -1..-25, in table order */
    if (r->code < lowest) lowest = r->code;
    const char *name = kv_err_name(r->code), *msg = kv_strerror(r->code);
    T_TRUE(name != NULL);
    T_TRUE(msg != NULL);
    T_EQ_STR(name, r->name);
    T_EQ_STR(msg, r->msg);
    T_TRUE(kv_err_name(r->code) == name); /* static strings */
    T_TRUE(kv_strerror(r->code) == msg);
    T_TRUE(strcmp(msg, "unknown error") != 0);
    T_TRUE(strcmp(name, "KV_E_UNKNOWN") != 0);
    for (int j = 0; j < i; j++) {
      if (strcmp(kv_err_name(err_rows[j].code), name) == 0)
        T_FAIL_RETURN("codes %d and %d share the name %s", err_rows[j].code, r->code, name);
      if (strcmp(kv_strerror(err_rows[j].code), msg) == 0)
        T_FAIL_RETURN("codes %d and %d share the message \"%s\"", err_rows[j].code, r->code, msg);
    }
  }
  T_EQ_INT(lowest, KV_E_LAST_);
}

TEST(test_error_unknown_codes) {
  T_EQ_STR(kv_strerror(KV_OK), "success");
  T_EQ_STR(kv_err_name(KV_OK), "KV_OK");
  const int unknown[] = {KV_E_LAST_ - 1, -26, -100, -1000, 1, 2, 25, 100, INT_MAX, INT_MIN, INT_MIN + 1};
  for (size_t i = 0; i < T_COUNT(unknown); i++) {
    const char *m = kv_strerror(unknown[i]), *n = kv_err_name(unknown[i]);
    T_TRUE(m != NULL);
    T_TRUE(n != NULL);
    T_EQ_STR(m, "unknown error");
    T_EQ_STR(n, "KV_E_UNKNOWN");
  }
}

typedef struct strings_ctx {
  int mismatches;
} strings_ctx;

static void strings_in_thread(void *p) {
  strings_ctx *c = p;
  for (int i = 0; i < N_ERR_ROWS; i++) {
    if (strcmp(kv_strerror(err_rows[i].code), err_rows[i].msg) != 0) c->mismatches++;
    if (strcmp(kv_err_name(err_rows[i].code), err_rows[i].name) != 0) c->mismatches++;
  }
}

TEST(test_error_strings_any_thread) {
  strings_ctx c = {0};
  T_EQ_INT(t_in_thread(strings_in_thread, &c), 0);
  T_EQ_INT(c.mismatches, 0);
}

TEST(test_last_error_empty_initially) {
  const char *e = kv_last_error();
  T_TRUE(e != NULL);
  T_EQ_STR(e, "");
  char buf[8];
  memset(buf, 'x', sizeof buf);
  T_EQ_INT(kv_last_error_r(buf, sizeof buf), 0);
  T_EQ_INT(buf[0], '\0');
  T_EQ_INT(kv_last_error_r(NULL, 0), 0);
}

TEST(test_last_error_set_and_kept) {
  T_KV(kv_env_open(NULL, t_path("db"), NULL), KV_E_INVALID);
  const char *e = kv_last_error();
  T_TRUE(e != NULL);
  T_TRUE(e[0] != '\0');
  char first[512];
  snprintf(first, sizeof first, "%s", e);
  /* "the most recent failing kv_ call": successful calls do not replace it. */
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  T_OK(kv_env_put(env, "k", 1, "v", 1));
  kv_noop();
  T_EQ_STR(kv_last_error(), first);
  /* A new failure replaces it. */
  kv_txn *t = NULL;
  T_KV(kv_txn_begin(&t, env, 0x40u), KV_E_INVALID);
  T_TRUE(kv_last_error()[0] != '\0');
  T_OK(kv_env_close(env));
}

TEST(test_last_error_has_details) {
  /* "with details (a path, the LMDB message)": a failed open names the path. */
  char path[4200];
  snprintf(path, sizeof path, "%s/no-such-dir-q7/db", t_dir());
  kv_env *env = NULL;
  T_KV(kv_env_open(&env, path, NULL), KV_E_IO);
  const char *e = kv_last_error();
  T_TRUE(e != NULL);
  if (!strstr(e, "no-such-dir-q7"))
    T_FAIL_RETURN("kv_last_error() after a failed open does not name the path: \"%s\"", e);
}

typedef struct lasterr_ctx {
  char initially[256];
  char after[256];
  int rc;
} lasterr_ctx;

static void lasterr_in_thread(void *p) {
  lasterr_ctx *c = p;
  snprintf(c->initially, sizeof c->initially, "%s", kv_last_error());
  kv_options o = KV_OPTIONS_INIT;
  o.version = 77;
  kv_env *env = NULL;
  c->rc = kv_env_open(&env, t_path("db"), &o);
  snprintf(c->after, sizeof c->after, "%s", kv_last_error());
}

TEST(test_last_error_thread_local) {
  T_KV(kv_options_init(NULL), KV_E_INVALID);
  char mine[256];
  snprintf(mine, sizeof mine, "%s", kv_last_error());
  T_TRUE(mine[0] != '\0');
  lasterr_ctx c;
  memset(&c, 0, sizeof c);
  T_EQ_INT(t_in_thread(lasterr_in_thread, &c), 0);
  T_EQ_STR(c.initially, ""); /* the main thread's error is not visible in another thread */
  T_KV(c.rc, KV_E_VERSION);
  T_TRUE(c.after[0] != '\0');
  T_TRUE(strcmp(c.after, mine) != 0);
  T_EQ_STR(kv_last_error(), mine); /* the other thread's error did not replace this one */
}

TEST(test_last_error_r_truncation) {
  kv_env *env = NULL;
  char path[4200];
  snprintf(path, sizeof path, "%s/missing-directory/with-a-long-name/db", t_dir());
  T_KV(kv_env_open(&env, path, NULL), KV_E_IO);
  char full[4600];
  snprintf(full, sizeof full, "%s", kv_last_error());
  size_t n = strlen(full);
  T_TRUE(n >= 4);
  T_EQ_INT(kv_last_error_r(NULL, 0), n); /* length query */
  char buf[4700];
  /* cap 1: only the NUL */
  memset(buf, 'x', sizeof buf);
  T_EQ_INT(kv_last_error_r(buf, 1), n);
  T_EQ_INT(buf[0], '\0');
  T_EQ_INT(buf[1], 'x');
  /* cap 4: three characters and the NUL, nothing written past cap */
  memset(buf, 'x', sizeof buf);
  T_EQ_INT(kv_last_error_r(buf, 4), n);
  T_EQ_MEM(buf, 3, full, 3);
  T_EQ_INT(buf[3], '\0');
  T_EQ_INT(buf[4], 'x');
  /* cap n: truncated by one (return >= cap) */
  memset(buf, 'x', sizeof buf);
  T_EQ_INT(kv_last_error_r(buf, n), n);
  T_EQ_MEM(buf, n - 1, full, n - 1);
  T_EQ_INT(buf[n - 1], '\0');
  T_EQ_INT(buf[n], 'x');
  /* cap n + 1: whole */
  memset(buf, 'x', sizeof buf);
  T_EQ_INT(kv_last_error_r(buf, n + 1), n);
  T_EQ_STR(buf, full);
  T_EQ_INT(buf[n + 1], 'x');
  /* larger */
  memset(buf, 'x', sizeof buf);
  T_EQ_INT(kv_last_error_r(buf, sizeof buf), n);
  T_EQ_STR(buf, full);
  /* the message itself is unchanged by reading it */
  T_EQ_STR(kv_last_error(), full);
}

TEST(test_last_error_r_no_error) {
  char buf[4] = {'a', 'b', 'c', 'd'};
  T_EQ_INT(kv_last_error_r(buf, 2), 0);
  T_EQ_INT(buf[0], '\0');
  T_EQ_INT(buf[2], 'c');
}

/* ---------------------------------------------------------------------------------------------- */
/* Options */

TEST(test_options_init_size) {
  T_EQ_INT(sizeof(kv_options), 24);
  T_EQ_INT(kv_options_size(), sizeof(kv_options));
  T_EQ_INT(offsetof(kv_options, version), 0);
  T_EQ_INT(offsetof(kv_options, flags), 4);
  T_EQ_INT(offsetof(kv_options, map_size), 8);
  T_EQ_INT(offsetof(kv_options, durability), 16);
  T_EQ_INT(offsetof(kv_options, reserved), 20);
  kv_options o;
  memset(&o, 0xA5, sizeof o);
  T_OK(kv_options_init(&o));
  const kv_options want = KV_OPTIONS_INIT;
  T_EQ_INT(o.version, KV_OPTIONS_VERSION);
  T_EQ_INT(o.flags, 0);
  T_EQ_U64(o.map_size, 0);
  T_EQ_INT(o.durability, KV_DURABLE_SYNC);
  T_EQ_INT(o.reserved, 0);
  T_EQ_MEM(&o, sizeof o, &want, sizeof want);
  T_KV(kv_options_init(NULL), KV_E_INVALID);
}

/* ---------------------------------------------------------------------------------------------- */
/* kv_env_open / kv_env_close */

TEST(test_open_defaults) {
  kv_env *env = NULL;
  T_OK(kv_env_open(&env, t_path("db"), NULL));
  T_TRUE(env != NULL);
  T_TRUE(file_exists(t_path("db")));
  T_TRUE(file_exists(t_path("db-lock")));
  uint64_t sz = 0;
  T_OK(kv_env_map_size(env, &sz));
  T_EQ_U64(sz, KV_MAP_SIZE_DEFAULT);
  T_OK(kv_env_put(env, "a", 1, "b", 1));
  T_OK(kv_env_close(env));
  /* reopen: the data is there */
  env = NULL;
  kv_options o = KV_OPTIONS_INIT;
  T_OK(kv_env_open(&env, t_path("db"), &o));
  char buf[4];
  size_t len = 0;
  T_OK(kv_env_get(env, "a", 1, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "b", 1);
  T_OK(kv_env_close(env));
}

TEST(test_open_invalid_args) {
  kv_env *const marker = (kv_env *)(uintptr_t)0x1234;
  kv_env *env = marker;
  T_KV(kv_env_open(NULL, t_path("db"), NULL), KV_E_INVALID);
  T_KV(kv_env_open(&env, NULL, NULL), KV_E_INVALID);
  T_TRUE(env == marker);
  T_KV(kv_env_open(&env, "", NULL), KV_E_INVALID);
  T_TRUE(env == marker);
  /* none of the failures left the path busy */
  env = NULL;
  T_OK(kv_env_open(&env, t_path("db"), NULL));
  T_OK(kv_env_close(env));
}

static void open_with(const kv_options *o, int want) {
  kv_env *const marker = (kv_env *)(uintptr_t)0x1234;
  kv_env *env = marker;
  int rc = kv_env_open(&env, t_path("db"), o);
  if (rc != want)
    T_FAIL_RETURN("kv_env_open(version %u, flags %#x, map %" PRIu64 ", durability %u, reserved %u): "
                  "got %s, want %s",
                  o->version, o->flags, o->map_size, o->durability, o->reserved, kv_err_name(rc),
                  kv_err_name(want));
  if (want != KV_OK) {
    T_TRUE(env == marker); /* written only on success */
  } else {
    T_TRUE(env != NULL && env != marker);
    T_OK(kv_env_close(env));
  }
}

TEST(test_open_options_version) {
  const uint32_t bad[] = {0u, 2u, 3u, 0x100u, UINT32_MAX};
  for (size_t i = 0; i < T_COUNT(bad); i++) {
    kv_options o = KV_OPTIONS_INIT;
    o.version = bad[i];
    open_with(&o, KV_E_VERSION);
    T_CHECK();
  }
  kv_options ok = KV_OPTIONS_INIT;
  open_with(&ok, KV_OK);
}

TEST(test_open_options_flags) {
  const uint32_t bad[] = {0x2u, 0x4u, 0x3u, 0x80000000u, UINT32_MAX};
  for (size_t i = 0; i < T_COUNT(bad); i++) {
    kv_options o = opts_of(bad[i], 0, KV_DURABLE_SYNC);
    open_with(&o, KV_E_INVALID);
    T_CHECK();
  }
  kv_options ok = KV_OPTIONS_INIT;
  open_with(&ok, KV_OK); /* creates the file, so a read-only open can follow */
  T_CHECK();
  kv_options ro = opts_of(KV_ENV_READ_ONLY, 0, KV_DURABLE_SYNC);
  open_with(&ro, KV_OK);
}

TEST(test_open_options_durability) {
  const uint32_t bad[] = {2u, 3u, 0x100u, UINT32_MAX};
  for (size_t i = 0; i < T_COUNT(bad); i++) {
    kv_options o = opts_of(0, 0, bad[i]);
    open_with(&o, KV_E_INVALID);
    T_CHECK();
  }
}

TEST(test_open_options_reserved) {
  const uint32_t bad[] = {1u, 0x80000000u, UINT32_MAX};
  for (size_t i = 0; i < T_COUNT(bad); i++) {
    kv_options o = KV_OPTIONS_INIT;
    o.reserved = bad[i];
    open_with(&o, KV_E_INVALID);
    T_CHECK();
  }
}

TEST(test_open_options_nosync_ok) {
  kv_options o = opts_of(0, 8u << 20, KV_DURABLE_NOSYNC);
  kv_env *env = NULL;
  T_OK(kv_env_open(&env, t_path("db"), &o));
  T_OK(kv_env_put(env, "n", 1, "s", 1));
  T_OK(kv_env_sync(env));
  uint64_t sz = 0;
  T_OK(kv_env_map_size(env, &sz));
  T_EQ_U64(sz, 8u << 20);
  T_OK(kv_env_close(env));
}

TEST(test_open_twice_busy) {
  kv_env *a = NULL, *b = (kv_env *)(uintptr_t)0x99;
  T_OK(kv_env_open(&a, t_path("db"), NULL));
  T_KV(kv_env_open(&b, t_path("db"), NULL), KV_E_BUSY);
  T_TRUE(b == (kv_env *)(uintptr_t)0x99);
  kv_options ro = opts_of(KV_ENV_READ_ONLY, 0, KV_DURABLE_SYNC);
  T_KV(kv_env_open(&b, t_path("db"), &ro), KV_E_BUSY);
  /* the first environment is unaffected */
  T_OK(kv_env_put(a, "k", 1, "v", 1));
  T_OK(kv_env_close(a));
  /* once closed, the path may be opened again */
  b = NULL;
  T_OK(kv_env_open(&b, t_path("db"), NULL));
  char buf[2];
  size_t len = 0;
  T_OK(kv_env_get(b, "k", 1, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "v", 1);
  T_OK(kv_env_close(b));
}

/* LMDB's rule is about the file: the same file reached by another spelling of its path is the same
 * environment, and opening it twice in one process breaks LMDB's locks. */
TEST(test_open_twice_other_spelling_busy) {
  char alias[4200];
  snprintf(alias, sizeof alias, "%s/./db", t_dir());
  kv_env *a = NULL, *b = NULL;
  T_OK(kv_env_open(&a, t_path("db"), NULL));
  int rc = kv_env_open(&b, alias, NULL);
  if (rc == KV_OK) kv_env_close(b);
  T_KV(rc, KV_E_BUSY);
  T_OK(kv_env_close(a));
}

TEST(test_open_readonly_missing_io) {
  kv_options ro = opts_of(KV_ENV_READ_ONLY, 0, KV_DURABLE_SYNC);
  kv_env *env = NULL;
  T_KV(kv_env_open(&env, t_path("missing"), &ro), KV_E_IO);
  T_TRUE(env == NULL);
  T_TRUE(!file_exists(t_path("missing")));
}

TEST(test_open_missing_dir_io) {
  char path[4200];
  snprintf(path, sizeof path, "%s/no/such/dir/db", t_dir());
  kv_env *env = NULL;
  T_KV(kv_env_open(&env, path, NULL), KV_E_IO);
  T_TRUE(env == NULL);
}

/* The path names the database file itself (LMDB keeps path + "-lock" beside it), so a directory is
 * not a database file. */
TEST(test_open_directory_io) {
  char path[4200];
  snprintf(path, sizeof path, "%s/adir", t_dir());
  T_EQ_INT(mkdir(path, 0700), 0);
  kv_env *env = NULL;
  int rc = kv_env_open(&env, path, NULL);
  if (rc == KV_OK) kv_env_close(env);
  T_KV(rc, KV_E_IO);
}

static void expect_open_corrupt(const char *name, size_t size) {
  unsigned char *junk = malloc(size);
  T_TRUE(junk != NULL);
  const char *text = "this is not an LMDB file; it is text. ";
  for (size_t i = 0; i < size; i++) junk[i] = (unsigned char)text[i % strlen(text)];
  write_file(t_path(name), junk, size);
  if (t_failed()) {
    free(junk);
    return;
  }
  kv_env *env = NULL;
  int rc = kv_env_open(&env, t_path(name), NULL);
  if (rc == KV_OK) kv_env_close(env);
  kv_options ro = opts_of(KV_ENV_READ_ONLY, 0, KV_DURABLE_SYNC);
  int rc_ro = kv_env_open(&env, t_path(name), &ro);
  if (rc_ro == KV_OK) kv_env_close(env);
  size_t n = 0;
  unsigned char *after = read_file(t_path(name), &n);
  int same = after && n == size && memcmp(after, junk, size) == 0;
  free(after);
  free(junk);
  T_KV(rc, KV_E_CORRUPT);
  T_KV(rc_ro, KV_E_CORRUPT);
  T_TRUE(same); /* the engine did not write into a file that is not its own */
}

TEST(test_open_not_lmdb_corrupt) {
  expect_open_corrupt("text-16k", 16384);
  T_CHECK();
  /* the failure did not leave the path busy or the engine broken */
  kv_env *env = NULL;
  T_OK(kv_env_open(&env, t_path("good"), NULL));
  T_OK(kv_env_close(env));
}

TEST(test_open_short_file_corrupt) { expect_open_corrupt("text-100", 100); }

TEST(test_close_null) { T_OK(kv_env_close(NULL)); }

TEST(test_close_busy_active_txn) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  kv_txn *r = NULL, *w = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  T_KV(kv_env_close(env), KV_E_BUSY);
  T_KV(kv_env_get(env, "x", 1, NULL, 0, NULL), KV_E_NOT_FOUND); /* still open and usable */
  T_OK(kv_txn_free(r));
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  put_s(w, "x", "y");
  T_CHECK();
  T_KV(kv_env_close(env), KV_E_BUSY);
  T_OK(kv_txn_commit(w));
  T_OK(kv_txn_free(w));
  T_OK(kv_env_close(env));
}

/* "env stays open — end and free them first": an ended transaction that was not freed still holds
 * the environment (kv_txn_free on it needs the environment alive). */
TEST(test_close_busy_ended_unfreed_txn) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  T_OK(kv_txn_abort(r));
  int rc = kv_env_close(env);
  if (rc == KV_OK) T_FAIL_RETURN("kv_env_close with an ended, unfreed transaction: got KV_OK, want KV_E_BUSY");
  T_KV(rc, KV_E_BUSY);
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
}

typedef struct close_ctx {
  kv_env *env;
  int rc;
} close_ctx;

static void close_env_fn(void *p) {
  close_ctx *c = p;
  c->rc = kv_env_close(c->env);
}

TEST(test_close_other_thread) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  T_OK(kv_env_put(env, "a", 1, "1", 1));
  close_ctx c = {env, -999};
  T_EQ_INT(t_in_thread(close_env_fn, &c), 0);
  T_OK(c.rc);
  /* closed for real: the path can be opened again */
  T_OK(kv_env_open(&env, t_path("db"), NULL));
  T_OK(kv_env_close(env));
}

/* ---------------------------------------------------------------------------------------------- */
/* Map size */

/* Puts n values of 1 KiB under keys "m%05d" into t; returns the first failing code in *rc. */
static int put_kib_values(kv_txn *t, int from, int n) {
  unsigned char val[1024];
  char key[16];
  for (int i = from; i < from + n; i++) {
    snprintf(key, sizeof key, "m%05d", i);
    fill_pattern(val, sizeof val, (uint32_t)i);
    int rc = kv_put(t, key, strlen(key), val, sizeof val);
    if (rc != KV_OK) return rc;
  }
  return KV_OK;
}

static void check_kib_values(kv_txn *t, int n) {
  unsigned char val[1024];
  char key[16];
  for (int i = 0; i < n; i++) {
    snprintf(key, sizeof key, "m%05d", i);
    fill_pattern(val, sizeof val, (uint32_t)i);
    expect_val(t, key, strlen(key), val, sizeof val);
    T_CHECK();
  }
  int cnt = 0;
  T_OK(kv_scan(t, NULL, 0, NULL, 0, count_cb, &cnt, NULL));
  T_EQ_INT(cnt, n);
}

/* Puts 1 KiB values m00000, m00001, ... until a put fails; returns its code, *n the puts that
 * succeeded. */
static int fill_until_map_full(kv_txn *t, int *n) {
  unsigned char val[1024];
  char key[16];
  for (*n = 0; *n < 100000; ++*n) {
    snprintf(key, sizeof key, "m%05d", *n);
    fill_pattern(val, sizeof val, (uint32_t)*n);
    int rc = kv_put(t, key, strlen(key), val, sizeof val);
    if (rc != KV_OK) return rc;
  }
  return KV_OK;
}

TEST(test_map_full_then_grow) {
  kv_options o = opts_of(0, 256u << 10, KV_DURABLE_SYNC);
  kv_env *env = NULL;
  open_db(&env, "db", &o);
  T_CHECK();
  uint64_t sz = 0;
  T_OK(kv_env_map_size(env, &sz));
  T_EQ_U64(sz, 256u << 10);
  kv_txn *t = NULL;
  T_OK(kv_txn_begin(&t, env, KV_TXN_WRITE));
  int n = 0;
  T_KV(fill_until_map_full(t, &n), KV_E_MAP_FULL);
  T_TRUE(n > 10 && n < 256);
  /* "the transaction stays usable: abort it, grow, redo" */
  T_OK(kv_txn_abort(t));
  T_KV(kv_txn_abort(t), KV_E_TXN_ENDED);
  T_OK(kv_txn_free(t));
  T_OK(kv_env_set_map_size(env, 4u << 20));
  T_OK(kv_env_map_size(env, &sz));
  T_EQ_U64(sz, 4u << 20);
  T_OK(kv_txn_begin(&t, env, KV_TXN_WRITE));
  T_OK(put_kib_values(t, 0, n + 50));
  T_OK(kv_txn_commit(t));
  T_OK(kv_txn_free(t));
  T_OK(kv_txn_begin(&t, env, KV_TXN_READ));
  check_kib_values(t, n + 50);
  T_CHECK();
  T_OK(kv_txn_free(t));
  T_OK(kv_env_close(env));
  /* reopened with the grown size, the data is there */
  o.map_size = 4u << 20;
  T_OK(kv_env_open(&env, t_path("db"), &o));
  T_OK(kv_txn_begin(&t, env, KV_TXN_READ));
  check_kib_values(t, n + 50);
  T_CHECK();
  T_OK(kv_txn_free(t));
  T_OK(kv_env_close(env));
}

/* One-shot writes on a tiny map: MAP_FULL arrives either from the put or from the commit; either
 * way nothing of the failed write is visible, and after growing the same write succeeds. */
TEST(test_map_full_oneshot) {
  kv_options o = opts_of(0, 128u << 10, KV_DURABLE_NOSYNC);
  kv_env *env = NULL;
  open_db(&env, "db", &o);
  T_CHECK();
  unsigned char val[3000];
  char key[16];
  int n = 0, rc = KV_OK;
  for (; n < 100000; n++) {
    snprintf(key, sizeof key, "m%05d", n);
    fill_pattern(val, sizeof val, (uint32_t)n);
    rc = kv_env_put(env, key, strlen(key), val, sizeof val);
    if (rc != KV_OK) break;
  }
  T_KV(rc, KV_E_MAP_FULL);
  T_TRUE(n > 0);
  size_t len = 0;
  T_KV(kv_env_get(env, key, strlen(key), NULL, 0, &len), KV_E_NOT_FOUND);
  /* the explicit-transaction form, committed at the edge: MAP_FULL from put or commit */
  kv_txn *t = NULL;
  T_OK(kv_txn_begin(&t, env, KV_TXN_WRITE));
  rc = kv_put(t, key, strlen(key), val, sizeof val);
  if (rc == KV_OK) {
    rc = kv_txn_commit(t);
    T_KV(rc, KV_E_MAP_FULL);
    T_KV(kv_txn_commit(t), KV_E_TXN_ENDED); /* the transaction ends whatever the result */
  } else {
    T_KV(rc, KV_E_MAP_FULL);
    T_OK(kv_txn_abort(t));
  }
  T_OK(kv_txn_free(t));
  T_KV(kv_env_get(env, key, strlen(key), NULL, 0, &len), KV_E_NOT_FOUND);
  T_OK(kv_env_set_map_size(env, 2u << 20));
  T_OK(kv_env_put(env, key, strlen(key), val, sizeof val));
  unsigned char back[3000];
  T_OK(kv_env_get(env, key, strlen(key), back, sizeof back, &len));
  T_EQ_MEM(back, len, val, sizeof val);
  T_OK(kv_env_close(env));
}

TEST(test_map_size_getter) {
  kv_options o = opts_of(0, 4u << 20, KV_DURABLE_SYNC);
  kv_env *env = NULL;
  open_db(&env, "db", &o);
  T_CHECK();
  uint64_t sz = 0;
  T_OK(kv_env_map_size(env, &sz));
  T_EQ_U64(sz, 4u << 20);
  T_OK(kv_env_set_map_size(env, 8u << 20));
  T_OK(kv_env_map_size(env, &sz));
  T_EQ_U64(sz, 8u << 20);
  T_OK(kv_env_put(env, "k", 1, "v", 1));
  /* shrink, still above the data in use */
  T_OK(kv_env_set_map_size(env, 2u << 20));
  T_OK(kv_env_map_size(env, &sz));
  T_EQ_U64(sz, 2u << 20);
  T_KV(kv_env_map_size(NULL, &sz), KV_E_INVALID);
  T_KV(kv_env_map_size(env, NULL), KV_E_INVALID);
  T_OK(kv_env_close(env));
  /* reopened with map_size 0: "0 means KV_MAP_SIZE_DEFAULT" */
  T_OK(kv_env_open(&env, t_path("db"), NULL));
  T_OK(kv_env_map_size(env, &sz));
  T_EQ_U64(sz, KV_MAP_SIZE_DEFAULT);
  T_OK(kv_env_close(env));
}

TEST(test_set_map_size_errors) {
  kv_env *env = NULL;
  kv_options o = opts_of(0, 4u << 20, KV_DURABLE_SYNC);
  open_db(&env, "db", &o);
  T_CHECK();
  T_KV(kv_env_set_map_size(NULL, 1u << 20), KV_E_INVALID);
  T_KV(kv_env_set_map_size(env, 0), KV_E_INVALID);
  kv_txn *r = NULL, *w = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  T_KV(kv_env_set_map_size(env, 16u << 20), KV_E_BUSY); /* a read txn pins the map */
  T_OK(kv_txn_free(r));
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  T_KV(kv_env_set_map_size(env, 16u << 20), KV_E_BUSY);
  T_OK(kv_txn_abort(w));
  T_OK(kv_txn_free(w));
  uint64_t sz = 0;
  T_OK(kv_env_map_size(env, &sz));
  T_EQ_U64(sz, 4u << 20); /* the refused calls changed nothing */
  T_OK(kv_env_set_map_size(env, 16u << 20));
  /* An address space no machine has: refused, and the old map stays usable. */
  T_KV(kv_env_set_map_size(env, UINT64_C(1) << 60), KV_E_NO_MEMORY);
  T_OK(kv_env_map_size(env, &sz));
  T_EQ_U64(sz, 16u << 20);
  T_OK(kv_env_put(env, "after", 5, "ok", 2));
  char got[2];
  size_t gl = 0;
  T_OK(kv_env_get(env, "after", 5, got, sizeof got, &gl));
  T_EQ_MEM(got, gl, "ok", 2);
  T_OK(kv_env_close(env));
  kv_options ro = opts_of(KV_ENV_READ_ONLY, 0, KV_DURABLE_SYNC);
  T_OK(kv_env_open(&env, t_path("db"), &ro));
  T_KV(kv_env_set_map_size(env, 32u << 20), KV_E_READ_ONLY);
  T_OK(kv_env_close(env));
}

TEST(test_sync) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  T_OK(kv_env_put(env, "a", 1, "1", 1));
  T_OK(kv_env_sync(env));
  T_KV(kv_env_sync(NULL), KV_E_INVALID);
  T_OK(kv_env_close(env));
  kv_options ns = opts_of(0, 0, KV_DURABLE_NOSYNC);
  T_OK(kv_env_open(&env, t_path("db"), &ns));
  T_OK(kv_env_put(env, "b", 1, "2", 1));
  T_OK(kv_env_sync(env));
  T_OK(kv_env_close(env));
  kv_options ro = opts_of(KV_ENV_READ_ONLY, 0, KV_DURABLE_SYNC);
  T_OK(kv_env_open(&env, t_path("db"), &ro));
  T_KV(kv_env_sync(env), KV_E_READ_ONLY);
  char buf[2];
  size_t len = 0;
  T_OK(kv_env_get(env, "b", 1, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "2", 1);
  T_OK(kv_env_close(env));
}

/* Another process grows the map and fills it beyond this process's map. LMDB then refuses new
 * transactions here (MDB_MAP_RESIZED) until the map is remapped — but a remap moves the map, so it may
 * not happen under a live transaction of this process: kv_get_ref's pointer "stays valid until the
 * transaction ends" (and kv_env_set_map_size itself refuses with KV_E_BUSY in that state). Whatever
 * the new kv_txn_begin returns, the old snapshot's pointer must still read the same bytes. */
static void segv_explain(int sig) {
  (void)sig;
  static const char m[] = "  SIGSEGV: the kv_get_ref pointer of a live read transaction was unmapped "
                          "(the engine remapped the map under it)\n";
  if (write(2, m, sizeof m - 1) < 0) _exit(2);
  _exit(1);
}

TEST(test_get_ref_survives_map_growth_by_other_process) {
  int go[2];
  T_EQ_INT(pipe(go), 0);
  fflush(NULL);
  pid_t pid = fork();
  T_TRUE(pid >= 0);
  if (pid == 0) {
    close(go[1]);
    char b;
    if (read(go[0], &b, 1) != 1) _exit(10);
    kv_options big = opts_of(0, 64u << 20, KV_DURABLE_NOSYNC);
    kv_env *env = NULL;
    if (kv_env_open(&env, t_path("db"), &big) != KV_OK) _exit(11);
    kv_txn *t = NULL;
    if (kv_txn_begin(&t, env, KV_TXN_WRITE) != KV_OK) _exit(12);
    static unsigned char val[65536];
    for (int i = 0; i < 128; i++) { /* 8 MiB, far beyond a 1 MiB map */
      char key[16];
      snprintf(key, sizeof key, "grow%04d", i);
      fill_pattern(val, sizeof val, (uint32_t)i);
      if (kv_put(t, key, strlen(key), val, sizeof val) != KV_OK) _exit(13);
    }
    if (kv_txn_commit(t) != KV_OK) _exit(14);
    kv_txn_free(t);
    if (kv_env_close(env) != KV_OK) _exit(15);
    _exit(0);
  }
  close(go[0]);
  kv_options small = opts_of(0, 1u << 20, KV_DURABLE_NOSYNC);
  kv_env *env = NULL;
  T_OK(kv_env_open(&env, t_path("db"), &small));
  unsigned char v[3000];
  fill_pattern(v, sizeof v, 99);
  T_OK(kv_env_put(env, "k", 1, v, sizeof v));
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  const void *p = NULL;
  size_t pl = 0;
  T_OK(kv_get_ref(r, "k", 1, &p, &pl));
  T_EQ_MEM(p, pl, v, sizeof v);
  T_EQ_INT(write(go[1], "g", 1), 1);
  close(go[1]);
  int status = 0;
  T_EQ_INT(waitpid(pid, &status, 0), pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    T_FAIL_RETURN("growing child failed (step %d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  kv_txn *r2 = NULL;
  int rc_begin = kv_txn_begin(&r2, env, KV_TXN_READ); /* any result, but not at r's expense */
  signal(SIGSEGV, segv_explain);
  T_EQ_MEM(p, pl, v, sizeof v);
  signal(SIGSEGV, SIG_DFL);
  expect_val(r, "k", 1, v, sizeof v);
  T_CHECK();
  if (rc_begin == KV_OK) T_OK(kv_txn_free(r2));
  T_OK(kv_txn_free(r));
  /* with nothing open, this process catches up with the grown file */
  kv_txn *r3 = NULL;
  int rc3 = kv_txn_begin(&r3, env, KV_TXN_READ);
  if (rc3 != KV_OK) {
    uint64_t sz = 0;
    T_OK(kv_env_set_map_size(env, 64u << 20));
    T_OK(kv_env_map_size(env, &sz));
    T_OK(kv_txn_begin(&r3, env, KV_TXN_READ));
  }
  unsigned char want[65536];
  fill_pattern(want, sizeof want, 127);
  expect_val(r3, "grow0127", 8, want, sizeof want);
  T_CHECK();
  T_OK(kv_txn_free(r3));
  T_OK(kv_env_close(env));
}

/* "A kv_env may be shared by any number of threads" and the one-shot calls run transactions of their
 * own: kv_env_set_map_size in one thread must not remap under a kv_env_get running in another (it
 * may refuse with KV_E_BUSY, or wait). The reader checks every byte it copies. */
typedef struct remap_ctx {
  kv_env *env;
  atomic_int stop;
  long reads, bad_rc, bad_data;
  int first_bad_rc;
} remap_ctx;

static void *remap_reader(void *p) {
  remap_ctx *c = p;
  static unsigned char want[256 << 10], got[256 << 10];
  fill_pattern(want, sizeof want, 5);
  while (!atomic_load(&c->stop)) {
    size_t len = 0;
    int rc = kv_env_get(c->env, "big", 3, got, sizeof got, &len);
    c->reads++;
    if (rc != KV_OK) {
      if (!c->bad_rc++) c->first_bad_rc = rc;
    } else if (len != sizeof want || memcmp(got, want, len) != 0) {
      c->bad_data++;
    }
  }
  return NULL;
}

TEST(test_set_map_size_vs_oneshot_in_other_thread) {
  kv_options o = opts_of(0, 64u << 20, KV_DURABLE_NOSYNC);
  kv_env *env = NULL;
  open_db(&env, "db", &o);
  T_CHECK();
  static unsigned char val[256 << 10];
  fill_pattern(val, sizeof val, 5);
  T_OK(kv_env_put(env, "big", 3, val, sizeof val));
  remap_ctx c;
  memset(&c, 0, sizeof c);
  c.env = env;
  atomic_init(&c.stop, 0);
  pthread_t th;
  T_EQ_INT(pthread_create(&th, NULL, remap_reader, &c), 0);
  long ok = 0, busy = 0, other = 0;
  int first_other = 0;
  double end = now_s() + 1.5;
  for (int i = 0; now_s() < end; i++) {
    int rc = kv_env_set_map_size(env, (uint64_t)(64 + (i % 2) * 32) << 20);
    if (rc == KV_OK) ok++;
    else if (rc == KV_E_BUSY) busy++;
    else if (!other++) first_other = rc;
  }
  atomic_store(&c.stop, 1);
  pthread_join(th, NULL);
  printf("  set_map_size: %ld ok, %ld busy; reader: %ld reads\n", ok, busy, c.reads);
  if (other) T_FAIL_RETURN("%ld kv_env_set_map_size calls failed, first with %s", other, kv_err_name(first_other));
  if (c.bad_rc) T_FAIL_RETURN("%ld one-shot reads failed, first with %s", c.bad_rc, kv_err_name(c.first_bad_rc));
  T_EQ_INT(c.bad_data, 0);
  T_TRUE(c.reads > 0);
  T_OK(kv_env_close(env));
}

/* ---------------------------------------------------------------------------------------------- */
/* Transactions */

TEST(test_txn_begin_errors) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  kv_txn *const marker = (kv_txn *)(uintptr_t)0x4321;
  kv_txn *t = marker;
  T_KV(kv_txn_begin(NULL, env, KV_TXN_READ), KV_E_INVALID);
  T_KV(kv_txn_begin(&t, NULL, KV_TXN_READ), KV_E_INVALID);
  T_TRUE(t == marker);
  const unsigned bad[] = {0x2u, 0x3u, 0x10u, 0x80000000u, UINT_MAX};
  for (size_t i = 0; i < T_COUNT(bad); i++) {
    int rc = kv_txn_begin(&t, env, bad[i]);
    if (rc != KV_E_INVALID)
      T_FAIL_RETURN("kv_txn_begin(flags %#x): got %s, want KV_E_INVALID", bad[i], kv_err_name(rc));
    T_TRUE(t == marker);
  }
  T_OK(kv_txn_begin(&t, env, KV_TXN_READ));
  T_TRUE(t != NULL && t != marker);
  T_OK(kv_txn_free(t));
  T_OK(kv_env_close(env));
}

TEST(test_txn_is_write) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  kv_txn *r = NULL, *w = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  T_EQ_INT(kv_txn_is_write(r), 0);
  T_EQ_INT(kv_txn_is_write(w), 1);
  T_KV(kv_txn_is_write(NULL), KV_E_INVALID);
  T_OK(kv_txn_commit(w));
  T_OK(kv_txn_reset(r));
  /* the object outlives the end of the transaction */
  T_EQ_INT(kv_txn_is_write(r), 0);
  T_EQ_INT(kv_txn_is_write(w), 1);
  T_OK(kv_txn_free(r));
  T_OK(kv_txn_free(w));
  T_OK(kv_env_close(env));
}

TEST(test_commit_and_abort) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  kv_txn *w = NULL, *r = NULL;
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  put_s(w, "a", "1");
  put_s(w, "b", "2");
  T_CHECK();
  expect_val_s(w, "a", "1"); /* a write transaction reads its own writes */
  T_CHECK();
  /* not visible to a reader before the commit */
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  expect_missing(r, "a", 1);
  T_CHECK();
  T_OK(kv_txn_commit(w));
  expect_missing(r, "a", 1); /* snapshot */
  T_CHECK();
  T_OK(kv_txn_free(r));
  T_OK(kv_txn_free(w));
  /* abort discards */
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  put_s(w, "a", "changed");
  put_s(w, "c", "3");
  T_CHECK();
  T_OK(kv_del(w, "b", 1));
  T_OK(kv_txn_abort(w));
  T_OK(kv_txn_free(w));
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  expect_val_s(r, "a", "1");
  T_CHECK();
  expect_val_s(r, "b", "2");
  T_CHECK();
  expect_missing(r, "c", 1);
  T_CHECK();
  /* committing a read transaction just ends it */
  T_OK(kv_txn_commit(r));
  T_KV(kv_get(r, "a", 1, NULL, 0, NULL), KV_E_TXN_ENDED);
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
}

/* Every call on a transaction ended by commit, abort or reset returns KV_E_TXN_ENDED. */
static void expect_ended(kv_txn *t, int is_write) {
  calls c = {0};
  char buf[8];
  size_t len = 0, kl = 1, vlens[1] = {0}, found = 0;
  const void *ref = NULL;
  kv_cursor *cur = NULL;
  int cnt = 0;
  REC(&c, kv_get(t, "a", 1, buf, sizeof buf, &len));
  REC(&c, kv_get_ref(t, "a", 1, &ref, &len));
  REC(&c, kv_get_batch(t, 1, "a", &kl, buf, sizeof buf, vlens, &found));
  REC(&c, kv_scan(t, NULL, 0, NULL, 0, count_cb, &cnt, NULL));
  REC(&c, kv_cursor_open(&cur, t, NULL, 0));
  REC(&c, kv_txn_commit(t));
  REC(&c, kv_txn_abort(t));
  if (is_write) {
    REC(&c, kv_put(t, "a", 1, "x", 1));
    REC(&c, kv_del(t, "a", 1));
  } else {
    REC(&c, kv_txn_reset(t));
  }
  expect_all(&c, KV_E_TXN_ENDED);
  T_CHECK();
  T_EQ_INT(cnt, 0);
  T_TRUE(cur == NULL);
}

TEST(test_txn_ended_everywhere) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  T_OK(kv_env_put(env, "a", 1, "1", 1));
  for (int how = 0; how < 3; how++) { /* commit, abort, reset */
    for (int is_write = 0; is_write < 2; is_write++) {
      if (how == 2 && is_write) continue; /* reset is for read transactions */
      kv_txn *t = NULL;
      T_OK(kv_txn_begin(&t, env, is_write ? KV_TXN_WRITE : KV_TXN_READ));
      if (how == 0) T_OK(kv_txn_commit(t));
      if (how == 1) T_OK(kv_txn_abort(t));
      if (how == 2) T_OK(kv_txn_reset(t));
      expect_ended(t, is_write);
      if (t_failed()) T_FAIL_RETURN("... after %s of a %s transaction", how == 0 ? "commit" : how == 1 ? "abort" : "reset", is_write ? "write" : "read");
      T_OK(kv_txn_free(t));
    }
  }
  T_OK(kv_env_close(env));
}

TEST(test_reset_renew) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  T_OK(kv_env_put(env, "k", 1, "v1", 2));
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  expect_val_s(r, "k", "v1");
  T_CHECK();
  T_OK(kv_txn_reset(r));
  T_KV(kv_get(r, "k", 1, NULL, 0, NULL), KV_E_TXN_ENDED);
  T_OK(kv_env_put(env, "k", 1, "v2", 2));
  T_OK(kv_txn_renew(r));
  expect_val_s(r, "k", "v2"); /* a fresh snapshot */
  T_CHECK();
  /* renew after commit and after abort too */
  T_OK(kv_txn_commit(r));
  T_OK(kv_env_put(env, "k", 1, "v3", 2));
  T_OK(kv_txn_renew(r));
  expect_val_s(r, "k", "v3");
  T_CHECK();
  T_OK(kv_txn_abort(r));
  T_OK(kv_env_put(env, "k", 1, "v4", 2));
  T_OK(kv_txn_renew(r));
  expect_val_s(r, "k", "v4");
  T_CHECK();
  /* many cycles */
  for (int i = 0; i < 1000; i++) {
    T_OK(kv_txn_reset(r));
    T_OK(kv_txn_renew(r));
  }
  expect_val_s(r, "k", "v4");
  T_CHECK();
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
}

TEST(test_reset_renew_errors) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  kv_txn *r = NULL, *w = NULL;
  T_KV(kv_txn_reset(NULL), KV_E_INVALID);
  T_KV(kv_txn_renew(NULL), KV_E_INVALID);
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  T_KV(kv_txn_renew(r), KV_E_BUSY); /* still active */
  expect_missing(r, "k", 1);        /* and still usable */
  T_CHECK();
  T_OK(kv_txn_reset(r));
  T_KV(kv_txn_reset(r), KV_E_TXN_ENDED);
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  T_KV(kv_txn_reset(w), KV_E_INVALID);
  T_KV(kv_txn_renew(w), KV_E_INVALID);
  put_s(w, "k", "v"); /* the refused reset did not end it */
  T_CHECK();
  T_OK(kv_txn_commit(w));
  T_KV(kv_txn_renew(w), KV_E_INVALID); /* an ended write transaction cannot be renewed either */
  T_OK(kv_txn_free(w));
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
}

typedef struct renew_ctx {
  kv_txn *txn;
  int rc_renew, rc_get, rc_reset;
  char val[8];
  size_t len;
} renew_ctx;

static void renew_there(void *p) {
  renew_ctx *c = p;
  c->rc_renew = kv_txn_renew(c->txn);
  c->rc_get = kv_get(c->txn, "k", 1, c->val, sizeof c->val, &c->len);
}

static void reset_there(void *p) {
  renew_ctx *c = p;
  c->rc_reset = kv_txn_reset(c->txn);
}

TEST(test_renew_in_other_thread) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  T_OK(kv_env_put(env, "k", 1, "v", 1));
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  T_OK(kv_txn_reset(r));
  t_worker w;
  T_EQ_INT(t_worker_start(&w), 0);
  renew_ctx c;
  memset(&c, 0, sizeof c);
  c.txn = r;
  t_worker_call(&w, renew_there, &c);
  /* the worker is the owner now */
  char buf[4];
  size_t len = 0;
  int rc_main_get = kv_get(r, "k", 1, buf, sizeof buf, &len);
  int rc_main_free = kv_txn_free(r); /* active and owned by the worker: refused, not freed */
  t_worker_call(&w, reset_there, &c);
  t_worker_stop(&w);
  T_OK(c.rc_renew);
  T_OK(c.rc_get);
  T_EQ_MEM(c.val, c.len, "v", 1);
  T_KV(rc_main_get, KV_E_WRONG_THREAD);
  T_KV(rc_main_free, KV_E_WRONG_THREAD);
  T_OK(c.rc_reset);
  /* ended: this thread may renew it and own it again */
  T_OK(kv_txn_renew(r));
  expect_val_s(r, "k", "v");
  T_CHECK();
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
}

TEST(test_txn_free_null) { T_OK(kv_txn_free(NULL)); }

TEST(test_txn_free_aborts_active) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  kv_txn *w = NULL;
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  put_s(w, "gone", "x");
  T_CHECK();
  T_OK(kv_txn_free(w));
  /* aborted: nothing visible, and the write lock is released (a new write txn does not block) */
  size_t len = 0;
  T_KV(kv_env_get(env, "gone", 4, NULL, 0, &len), KV_E_NOT_FOUND);
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  put_s(w, "kept", "y");
  T_CHECK();
  T_OK(kv_txn_commit(w));
  T_OK(kv_txn_free(w));
  T_KV(kv_env_get(env, "kept", 4, NULL, 0, &len), KV_E_BUFFER_TOO_SMALL);
  T_EQ_INT(len, 1);
  /* an active read txn is freed too, and the env can close afterwards */
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
}

TEST(test_txn_free_detaches_cursors) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  T_OK(kv_env_put(env, "a", 1, "1", 1));
  T_OK(kv_env_put(env, "b", 1, "2", 1));
  for (int is_write = 0; is_write < 2; is_write++) {
    kv_txn *t = NULL;
    kv_cursor *c1 = NULL, *c2 = NULL;
    T_OK(kv_txn_begin(&t, env, is_write ? KV_TXN_WRITE : KV_TXN_READ));
    if (is_write) put_s(t, "c", "3");
    T_CHECK();
    T_OK(kv_cursor_open(&c1, t, NULL, 0));
    T_OK(kv_cursor_open(&c2, t, NULL, 0));
    const void *k = NULL;
    size_t kl = 0;
    T_OK(kv_cursor_next(c1, &k, &kl, NULL, NULL));
    T_EQ_MEM(k, kl, "a", 1);
    T_OK(kv_txn_free(t));
    T_KV(kv_cursor_next(c1, &k, &kl, NULL, NULL), KV_E_CURSOR_ENDED);
    T_KV(kv_cursor_next(c1, NULL, NULL, NULL, NULL), KV_E_CURSOR_ENDED);
    T_KV(kv_cursor_next(c2, NULL, NULL, NULL, NULL), KV_E_CURSOR_ENDED);
    T_OK(kv_cursor_close(c1));
    T_OK(kv_cursor_close(c2));
  }
  size_t len = 0;
  T_KV(kv_env_get(env, "c", 1, NULL, 0, &len), KV_E_NOT_FOUND); /* the write txn was aborted */
  T_OK(kv_env_close(env));
}

typedef struct free_ctx {
  kv_txn *txn;
  int rc;
} free_ctx;

static void free_there(void *p) {
  free_ctx *c = p;
  c->rc = kv_txn_free(c->txn);
}

TEST(test_txn_free_other_thread) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  kv_txn *w = NULL;
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  put_s(w, "a", "1");
  T_CHECK();
  free_ctx c = {w, 0};
  T_EQ_INT(t_in_thread(free_there, &c), 0);
  T_KV(c.rc, KV_E_WRONG_THREAD);
  /* not freed and not aborted */
  expect_val_s(w, "a", "1");
  T_CHECK();
  T_OK(kv_txn_commit(w));
  /* ended: any thread may free it */
  T_EQ_INT(t_in_thread(free_there, &c), 0);
  T_OK(c.rc);
  char buf[2];
  size_t len = 0;
  T_OK(kv_env_get(env, "a", 1, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "1", 1);
  T_OK(kv_env_close(env));
}

TEST(test_second_write_txn_busy) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  kv_txn *w1 = NULL, *w2 = (kv_txn *)(uintptr_t)0x77;
  T_OK(kv_txn_begin(&w1, env, KV_TXN_WRITE));
  T_KV(kv_txn_begin(&w2, env, KV_TXN_WRITE), KV_E_BUSY); /* no deadlock */
  T_TRUE(w2 == (kv_txn *)(uintptr_t)0x77);
  /* a read txn in the same thread is fine meanwhile */
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  put_s(w1, "a", "1");
  T_CHECK();
  T_OK(kv_txn_commit(w1));
  /* ended (even if not yet freed): a new write transaction may begin */
  w2 = NULL;
  T_OK(kv_txn_begin(&w2, env, KV_TXN_WRITE));
  put_s(w2, "b", "2");
  T_CHECK();
  T_OK(kv_txn_commit(w2));
  T_OK(kv_txn_free(w2));
  T_OK(kv_txn_free(w1));
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
}

typedef struct waiter {
  kv_env *env;
  atomic_int stage;
  int rc_begin, rc_get, rc_put, rc_commit;
  char seen[8];
  size_t seen_len;
} waiter;

static void *write_waiter_main(void *p) {
  waiter *w = p;
  kv_txn *t = NULL;
  atomic_store(&w->stage, 1);
  w->rc_begin = kv_txn_begin(&t, w->env, KV_TXN_WRITE);
  atomic_store(&w->stage, 2);
  if (w->rc_begin == KV_OK) {
    w->rc_get = kv_get(t, "x", 1, w->seen, sizeof w->seen, &w->seen_len);
    w->rc_put = kv_put(t, "x", 1, "2", 1);
    w->rc_commit = kv_txn_commit(t);
    kv_txn_free(t);
  }
  atomic_store(&w->stage, 3);
  return NULL;
}

TEST(test_write_txn_other_thread_waits) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  kv_txn *t = NULL;
  T_OK(kv_txn_begin(&t, env, KV_TXN_WRITE));
  put_s(t, "x", "1");
  T_CHECK();
  waiter w;
  memset(&w, 0, sizeof w);
  w.env = env;
  atomic_init(&w.stage, 0);
  pthread_t th;
  T_EQ_INT(pthread_create(&th, NULL, write_waiter_main, &w), 0);
  while (atomic_load(&w.stage) < 1) sleep_ms(1);
  sleep_ms(300);
  int stage_while_held = atomic_load(&w.stage);
  T_OK(kv_txn_commit(t));
  pthread_join(th, NULL);
  T_EQ_INT(stage_while_held, 1); /* waited for the first write txn to end */
  T_OK(w.rc_begin);
  T_OK(w.rc_get);
  T_EQ_MEM(w.seen, w.seen_len, "1", 1); /* and then saw its commit */
  T_OK(w.rc_put);
  T_OK(w.rc_commit);
  T_OK(kv_txn_free(t));
  char buf[2];
  size_t len = 0;
  T_OK(kv_env_get(env, "x", 1, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "2", 1);
  T_OK(kv_env_close(env));
}

static void *read_waiter_main(void *p) {
  waiter *w = p;
  kv_txn *t = NULL;
  w->rc_begin = kv_txn_begin(&t, w->env, KV_TXN_READ);
  if (w->rc_begin == KV_OK) {
    w->rc_get = kv_get(t, "x", 1, w->seen, sizeof w->seen, &w->seen_len);
    kv_txn_free(t);
  }
  w->rc_put = kv_env_get(w->env, "x", 1, NULL, 0, NULL);
  atomic_store(&w->stage, 3);
  return NULL;
}

TEST(test_read_txn_never_blocks) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  T_OK(kv_env_put(env, "x", 1, "0", 1));
  kv_txn *t = NULL;
  T_OK(kv_txn_begin(&t, env, KV_TXN_WRITE));
  put_s(t, "x", "1");
  T_CHECK();
  waiter w;
  memset(&w, 0, sizeof w);
  w.env = env;
  atomic_init(&w.stage, 0);
  pthread_t th;
  T_EQ_INT(pthread_create(&th, NULL, read_waiter_main, &w), 0);
  double deadline = now_s() + 10.0;
  while (atomic_load(&w.stage) < 3 && now_s() < deadline) sleep_ms(1);
  int done = atomic_load(&w.stage) == 3;
  T_OK(kv_txn_commit(t));
  pthread_join(th, NULL);
  T_TRUE(done); /* the reader finished while the write transaction was open */
  T_OK(w.rc_begin);
  T_OK(w.rc_get);
  T_EQ_MEM(w.seen, w.seen_len, "0", 1); /* the committed state, not the pending write */
  T_KV(w.rc_put, KV_E_BUFFER_TOO_SMALL); /* one-shot get: exists, length query */
  T_OK(kv_txn_free(t));
  T_OK(kv_env_close(env));
}

/* "Read transactions ... may be open in any number, in any thread": several in one thread, next to
 * a write transaction of the same thread. */
TEST(test_many_read_txns_one_thread) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  T_OK(kv_env_put(env, "k", 1, "0", 1));
  kv_txn *r[8] = {0};
  for (int i = 0; i < 4; i++) T_OK(kv_txn_begin(&r[i], env, KV_TXN_READ));
  kv_txn *w = NULL;
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  put_s(w, "k", "1");
  T_CHECK();
  T_OK(kv_txn_commit(w));
  T_OK(kv_txn_free(w));
  for (int i = 4; i < 8; i++) T_OK(kv_txn_begin(&r[i], env, KV_TXN_READ));
  for (int i = 0; i < 8; i++) {
    expect_val_s(r[i], "k", i < 4 ? "0" : "1"); /* each its own snapshot */
    T_CHECK();
  }
  for (int i = 0; i < 8; i++) T_OK(kv_txn_free(r[i]));
  T_OK(kv_env_close(env));
}

/* LMDB's reader table is finite: beginning read transactions until it is full must give
 * KV_E_INTERNAL (documented), never something else. A reset txn keeps its slot; freeing one gives a
 * slot back. */
TEST(test_readers_full) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  enum { MAXR = 20000 };
  kv_txn **r = calloc(MAXR, sizeof *r);
  T_TRUE(r != NULL);
  int n = 0, rc = KV_OK;
  for (; n < MAXR; n++) {
    rc = kv_txn_begin(&r[n], env, KV_TXN_READ);
    if (rc != KV_OK) break;
  }
  int n_open = n, rc_full = rc;
  int rc_after_reset = KV_OK, rc_renew = KV_OK, rc_after_free = KV_OK;
  kv_txn *extra = NULL;
  if (rc_full != KV_OK && n_open > 0) {
    kv_txn_reset(r[0]);
    rc_after_reset = kv_txn_begin(&extra, env, KV_TXN_READ); /* reset keeps its slot: still full */
    if (rc_after_reset == KV_OK) kv_txn_free(extra);
    rc_renew = kv_txn_renew(r[0]);
    kv_txn_free(r[n_open - 1]);
    r[n_open - 1] = NULL;
    rc_after_free = kv_txn_begin(&extra, env, KV_TXN_READ);
    if (rc_after_free == KV_OK) kv_txn_free(extra);
  }
  for (int i = 0; i < n_open; i++) kv_txn_free(r[i]);
  free(r);
  if (rc_full == KV_OK) T_FAIL_RETURN("%d read transactions began without filling the reader table", MAXR);
  T_KV(rc_full, KV_E_READERS_FULL);
  T_EQ_INT(n_open, KV_READERS_MAX); /* all of LMDB's default reader table */
  T_KV(rc_after_reset, KV_E_READERS_FULL);
  T_OK(rc_renew);
  T_OK(rc_after_free);
  T_OK(kv_env_close(env));
}

TEST(test_reset_keeps_reader_slot) {
  /* covered with the reader table full in test_readers_full; here: reset/renew cycles do
   * not leak slots (10000 cycles on 4 txns would overflow any table if each renew took a new slot). */
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  kv_txn *r[4] = {0};
  for (int i = 0; i < 4; i++) T_OK(kv_txn_begin(&r[i], env, KV_TXN_READ));
  for (int j = 0; j < 10000; j++)
    for (int i = 0; i < 4; i++) {
      T_OK(kv_txn_reset(r[i]));
      T_OK(kv_txn_renew(r[i]));
    }
  for (int j = 0; j < 2000; j++) { /* begin/free cycles do not leak slots either */
    kv_txn *t = NULL;
    T_OK(kv_txn_begin(&t, env, KV_TXN_READ));
    T_OK(kv_txn_free(t));
  }
  for (int i = 0; i < 4; i++) T_OK(kv_txn_free(r[i]));
  T_OK(kv_env_close(env));
}

/* A write transaction of another process waits for ours to end, then sees its commit. */
TEST(test_write_txn_other_process_waits) {
  int go[2];
  T_EQ_INT(pipe(go), 0);
  fflush(NULL);
  pid_t pid = fork();
  T_TRUE(pid >= 0);
  if (pid == 0) { /* child: no engine state inherited (fork happened before any open) */
    close(go[1]);
    char b;
    if (read(go[0], &b, 1) != 1) _exit(10);
    kv_env *env = NULL;
    if (kv_env_open(&env, t_path("db"), NULL) != KV_OK) _exit(11);
    kv_txn *t = NULL;
    if (kv_txn_begin(&t, env, KV_TXN_WRITE) != KV_OK) _exit(12);
    /* it began only once the parent committed: the parent's write is there (no timing needed) */
    char buf[16];
    size_t len = 0;
    if (kv_get(t, "x", 1, buf, sizeof buf, &len) != KV_OK) _exit(13);
    if (len != 6 || memcmp(buf, "parent", 6) != 0) _exit(14);
    if (kv_put(t, "x", 1, "child", 5) != KV_OK || kv_txn_commit(t) != KV_OK) _exit(15);
    kv_txn_free(t);
    if (kv_env_close(env) != KV_OK) _exit(16);
    _exit(0);
  }
  close(go[0]);
  kv_env *env = NULL;
  T_OK(kv_env_open(&env, t_path("db"), NULL));
  kv_txn *t = NULL;
  T_OK(kv_txn_begin(&t, env, KV_TXN_WRITE));
  put_s(t, "x", "parent");
  T_CHECK();
  T_EQ_INT(write(go[1], "g", 1), 1);
  close(go[1]);
  sleep_ms(500);
  T_OK(kv_txn_commit(t));
  T_OK(kv_txn_free(t));
  int status = 0;
  T_EQ_INT(waitpid(pid, &status, 0), pid);
  T_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) != 0)
    T_FAIL_RETURN("child failed with step %d (13/14: its write txn began before ours ended)",
                  WEXITSTATUS(status));
  char buf[8];
  size_t len = 0;
  T_OK(kv_env_get(env, "x", 1, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "child", 5);
  T_OK(kv_env_close(env));
}

/* Several threads share one environment: one-shot writes and reads, and explicit transactions,
 * at the same time. Every write lands, every read sees a whole value. */
typedef struct share_ctx {
  kv_env *env;
  int id;
  int bad;
  int first_rc;
} share_ctx;

static void *share_main(void *p) {
  share_ctx *c = p;
  unsigned char val[600], back[600];
  for (int i = 0; i < 150 && !c->bad; i++) {
    char key[32];
    snprintf(key, sizeof key, "t%d-%04d", c->id, i);
    size_t vl = (size_t)((i * 7 + c->id) % 600);
    fill_pattern(val, vl, (uint32_t)(c->id * 1000 + i));
    int rc;
    if (i % 3 == 0) {
      kv_txn *t = NULL;
      rc = kv_txn_begin(&t, c->env, KV_TXN_WRITE);
      if (rc == KV_OK) rc = kv_put(t, key, strlen(key), val, vl);
      if (rc == KV_OK) rc = kv_txn_commit(t);
      if (t) kv_txn_free(t);
    } else {
      rc = kv_env_put(c->env, key, strlen(key), val, vl);
    }
    size_t len = 0;
    if (rc == KV_OK) rc = kv_env_get(c->env, key, strlen(key), back, sizeof back, &len);
    if (rc == KV_OK && (len != vl || memcmp(back, val, vl) != 0)) rc = -1000;
    if (rc == KV_OK) { /* a read transaction sees this thread's earlier keys */
      kv_txn *r = NULL;
      rc = kv_txn_begin(&r, c->env, KV_TXN_READ);
      char k0[32];
      snprintf(k0, sizeof k0, "t%d-%04d", c->id, 0);
      if (rc == KV_OK) rc = kv_get(r, k0, strlen(k0), NULL, 0, NULL);
      /* key 0's value is c->id bytes long, so a length query says BUFFER_TOO_SMALL */
      if (rc == KV_OK) rc = -1001;
      else if (rc == KV_E_BUFFER_TOO_SMALL) rc = KV_OK;
      if (r) kv_txn_free(r);
    }
    if (rc != KV_OK) {
      c->bad = 1;
      c->first_rc = rc;
    }
  }
  return NULL;
}

TEST(test_threads_share_env) {
  kv_options o = opts_of(0, 0, KV_DURABLE_NOSYNC);
  kv_env *env = NULL;
  open_db(&env, "db", &o);
  T_CHECK();
  enum { NT = 4 };
  pthread_t th[NT];
  share_ctx c[NT];
  for (int i = 0; i < NT; i++) {
    c[i] = (share_ctx){env, i + 1, 0, 0};
    T_EQ_INT(pthread_create(&th[i], NULL, share_main, &c[i]), 0);
  }
  for (int i = 0; i < NT; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < NT; i++)
    if (c[i].bad) T_FAIL_RETURN("thread %d failed: %d (%s)", c[i].id, c[i].first_rc, kv_err_name(c[i].first_rc));
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  int cnt = 0;
  T_OK(kv_scan(r, NULL, 0, NULL, 0, count_cb, &cnt, NULL));
  T_EQ_INT(cnt, NT * 150);
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
}

/* ---------------------------------------------------------------------------------------------- */
/* Wrong thread */

typedef struct wt_ctx {
  kv_txn *txn;
  kv_cursor *cur;
  int is_write, cb_calls;
  calls c;
  kv_cursor *opened;
} wt_ctx;

static void wrong_thread_calls(void *p) {
  wt_ctx *x = p;
  kv_txn *t = x->txn;
  char buf[8];
  size_t len = 0, kl = 1, vlens[1] = {0}, found = 0;
  const void *ref = NULL, *k = NULL, *v = NULL;
  REC(&x->c, kv_put(t, "n", 1, "x", 1));
  REC(&x->c, kv_get(t, "a", 1, buf, sizeof buf, &len));
  REC(&x->c, kv_get_ref(t, "a", 1, &ref, &len));
  REC(&x->c, kv_del(t, "a", 1));
  REC(&x->c, kv_get_batch(t, 1, "a", &kl, buf, sizeof buf, vlens, &found));
  REC(&x->c, kv_scan(t, NULL, 0, NULL, 0, count_cb, &x->cb_calls, NULL));
  REC(&x->c, kv_cursor_open(&x->opened, t, NULL, 0));
  REC(&x->c, kv_cursor_next(x->cur, &k, &len, &v, &len));
  REC(&x->c, kv_cursor_close(x->cur));
  if (!x->is_write) REC(&x->c, kv_txn_reset(t));
  REC(&x->c, kv_txn_commit(t));
  REC(&x->c, kv_txn_abort(t));
  REC(&x->c, kv_txn_free(t));
}

TEST(test_wrong_thread_txn_calls) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  T_OK(kv_env_put(env, "a", 1, "1", 1));
  T_OK(kv_env_put(env, "b", 1, "2", 1));
  for (int is_write = 0; is_write < 2; is_write++) {
    kv_txn *t = NULL;
    kv_cursor *cur = NULL;
    T_OK(kv_txn_begin(&t, env, is_write ? KV_TXN_WRITE : KV_TXN_READ));
    T_OK(kv_cursor_open(&cur, t, NULL, 0));
    wt_ctx x;
    memset(&x, 0, sizeof x);
    x.txn = t;
    x.cur = cur;
    x.is_write = is_write;
    T_EQ_INT(t_in_thread(wrong_thread_calls, &x), 0);
    expect_all(&x.c, KV_E_WRONG_THREAD);
    T_CHECK();
    T_EQ_INT(x.cb_calls, 0);
    T_TRUE(x.opened == NULL);
    /* nothing happened to the transaction or the cursor: the owner carries on */
    expect_val_s(t, "a", "1");
    T_CHECK();
    expect_missing(t, "n", 1);
    T_CHECK();
    const void *k = NULL;
    size_t kl = 0;
    T_OK(kv_cursor_next(cur, &k, &kl, NULL, NULL));
    T_EQ_MEM(k, kl, "a", 1);
    T_OK(kv_cursor_close(cur));
    if (is_write) put_s(t, "w", "1");
    T_CHECK();
    T_OK(kv_txn_commit(t));
    T_OK(kv_txn_free(t));
  }
  char buf[2];
  size_t len = 0;
  T_OK(kv_env_get(env, "w", 1, buf, sizeof buf, &len));
  T_OK(kv_env_get(env, "a", 1, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "1", 1);
  T_OK(kv_env_close(env));
}

/* ---------------------------------------------------------------------------------------------- */
/* Reads and writes */

TEST(test_put_get_del_basic) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  kv_txn *w = NULL;
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  put_s(w, "alpha", "one");
  put_s(w, "beta", "two");
  T_CHECK();
  T_OK(kv_put(w, "alpha", 5, "uno", 3)); /* replaces */
  expect_val_s(w, "alpha", "uno");
  T_CHECK();
  T_OK(kv_del(w, "beta", 4));
  expect_missing(w, "beta", 4);
  T_CHECK();
  T_KV(kv_del(w, "beta", 4), KV_E_NOT_FOUND);
  T_KV(kv_del(w, "never", 5), KV_E_NOT_FOUND);
  /* binary keys and values, no terminator added or expected */
  const unsigned char bk[3] = {0, 0xff, 0};
  const unsigned char bv[4] = {0, 1, 0, 2};
  T_OK(kv_put(w, bk, 3, bv, 4));
  expect_val(w, bk, 3, bv, 4);
  T_CHECK();
  expect_missing(w, bk, 2); /* a prefix is another key */
  T_CHECK();
  T_OK(kv_txn_commit(w));
  T_OK(kv_txn_free(w));
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  expect_val_s(r, "alpha", "uno");
  T_CHECK();
  expect_missing(r, "beta", 4);
  T_CHECK();
  expect_val(r, bk, 3, bv, 4);
  T_CHECK();
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
}

TEST(test_key_sizes) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  unsigned char key[KV_KEY_MAX + 2];
  fill_pattern(key, sizeof key, 7);
  kv_txn *w = NULL;
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  const size_t bad[] = {0, KV_KEY_MAX + 1};
  for (size_t i = 0; i < T_COUNT(bad); i++) {
    size_t kl = bad[i], len = 0, klen1 = kl, vlens[1], found = 0;
    const void *ref = NULL;
    kv_cursor *cur = NULL;
    int cnt = 0;
    calls c = {0};
    char buf[4];
    REC(&c, kv_put(w, key, kl, "v", 1));
    REC(&c, kv_get(w, key, kl, buf, sizeof buf, &len));
    REC(&c, kv_get_ref(w, key, kl, &ref, &len));
    REC(&c, kv_del(w, key, kl));
    REC(&c, kv_get_batch(w, 1, key, &klen1, buf, sizeof buf, vlens, &found));
    REC(&c, kv_env_get(env, key, kl, buf, sizeof buf, &len));
    REC(&c, kv_cursor_open(&cur, w, key, kl));
    REC(&c, kv_scan(w, key, kl, NULL, 0, count_cb, &cnt, NULL));
    REC(&c, kv_scan(w, NULL, 0, key, kl, count_cb, &cnt, NULL));
    expect_all(&c, KV_E_KEY_SIZE);
    if (t_failed()) T_FAIL_RETURN("... with a key of %zu bytes", kl);
    T_EQ_INT(cnt, 0);
    T_TRUE(cur == NULL);
  }
  /* valid lengths round trip: 1 and KV_KEY_MAX */
  const size_t good[] = {1, 2, KV_KEY_MAX - 1, KV_KEY_MAX};
  for (size_t i = 0; i < T_COUNT(good); i++) {
    unsigned char val[8];
    fill_pattern(val, sizeof val, (uint32_t)good[i]);
    T_OK(kv_put(w, key, good[i], val, sizeof val));
  }
  T_OK(kv_txn_commit(w));
  T_OK(kv_txn_free(w));
  /* one-shot writes with bad keys (no write txn open in this thread now) */
  T_KV(kv_env_put(env, key, 0, "v", 1), KV_E_KEY_SIZE);
  T_KV(kv_env_put(env, key, KV_KEY_MAX + 1, "v", 1), KV_E_KEY_SIZE);
  T_KV(kv_env_del(env, key, 0), KV_E_KEY_SIZE);
  T_KV(kv_env_del(env, key, KV_KEY_MAX + 1), KV_E_KEY_SIZE);
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  for (size_t i = 0; i < T_COUNT(good); i++) {
    unsigned char val[8];
    fill_pattern(val, sizeof val, (uint32_t)good[i]);
    expect_val(r, key, good[i], val, sizeof val);
    T_CHECK();
  }
  /* the cursor returns them whole, shorter first (they share a prefix) */
  kv_cursor *cur = NULL;
  T_OK(kv_cursor_open(&cur, r, key, KV_KEY_MAX));
  const void *k = NULL;
  size_t kl = 0;
  T_OK(kv_cursor_next(cur, &k, &kl, NULL, NULL));
  T_EQ_MEM(k, kl, key, KV_KEY_MAX);
  T_KV(kv_cursor_next(cur, &k, &kl, NULL, NULL), KV_E_DONE);
  T_OK(kv_cursor_close(cur));
  T_OK(kv_cursor_open(&cur, r, NULL, 0));
  for (size_t i = 0; i < T_COUNT(good); i++) {
    T_OK(kv_cursor_next(cur, &k, &kl, NULL, NULL));
    T_EQ_MEM(k, kl, key, good[i]);
  }
  T_OK(kv_cursor_close(cur));
  T_OK(kv_txn_free(r));
  /* the one-shot forms accept 1 and 511 too, and delete */
  T_OK(kv_env_del(env, key, KV_KEY_MAX));
  T_OK(kv_env_del(env, key, 1));
  T_KV(kv_env_del(env, key, 1), KV_E_NOT_FOUND);
  size_t len = 0;
  T_KV(kv_env_get(env, key, KV_KEY_MAX, NULL, 0, &len), KV_E_NOT_FOUND);
  T_OK(kv_env_put(env, key, KV_KEY_MAX, "z", 1));
  char buf[2];
  T_OK(kv_env_get(env, key, KV_KEY_MAX, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "z", 1);
  T_OK(kv_env_close(env));
}

TEST(test_value_empty) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  kv_txn *w = NULL;
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  T_OK(kv_put(w, "null", 4, NULL, 0));
  T_OK(kv_put(w, "empty", 5, "ignored", 0));
  T_OK(kv_txn_commit(w));
  T_OK(kv_txn_free(w));
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  const char *keys[] = {"null", "empty"};
  for (int i = 0; i < 2; i++) {
    size_t len = 99;
    T_OK(kv_get(r, keys[i], strlen(keys[i]), NULL, 0, &len)); /* fits in a 0-byte buffer */
    T_EQ_INT(len, 0);
    char buf[4] = {'s', 's', 's', 's'};
    len = 99;
    T_OK(kv_get(r, keys[i], strlen(keys[i]), buf, sizeof buf, &len));
    T_EQ_INT(len, 0);
    T_EQ_INT(buf[0], 's');
    const void *ref = NULL;
    len = 99;
    T_OK(kv_get_ref(r, keys[i], strlen(keys[i]), &ref, &len));
    T_EQ_INT(len, 0);
    len = 99;
    T_OK(kv_env_get(env, keys[i], strlen(keys[i]), NULL, 0, &len));
    T_EQ_INT(len, 0);
  }
  kv_cursor *cur = NULL;
  T_OK(kv_cursor_open(&cur, r, NULL, 0));
  const void *k = NULL, *v = NULL;
  size_t kl = 0, vl = 99;
  T_OK(kv_cursor_next(cur, &k, &kl, &v, &vl));
  T_EQ_MEM(k, kl, "empty", 5);
  T_EQ_INT(vl, 0);
  vl = 99;
  T_OK(kv_cursor_next(cur, &k, &kl, &v, &vl));
  T_EQ_MEM(k, kl, "null", 4);
  T_EQ_INT(vl, 0);
  T_OK(kv_cursor_close(cur));
  T_OK(kv_txn_free(r));
  T_OK(kv_env_put(env, "e2", 2, NULL, 0));
  size_t len = 99;
  T_OK(kv_env_get(env, "e2", 2, NULL, 0, &len));
  T_EQ_INT(len, 0);
  T_OK(kv_env_close(env));
}

TEST(test_value_16mib) {
  const size_t big = (size_t)16 << 20;
  unsigned char *val = malloc(big), *back = malloc(big + 1);
  T_TRUE(val && back);
  fill_pattern(val, big, 16);
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  if (t_failed()) goto out;
  kv_txn *w = NULL;
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  T_OK(kv_put(w, "big", 3, val, big));
  T_OK(kv_put(w, "small", 5, "s", 1));
  T_OK(kv_txn_commit(w));
  T_OK(kv_txn_free(w));
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  size_t len = 0;
  memset(back, 0, big + 1);
  T_KV(kv_get(r, "big", 3, back, big - 1, &len), KV_E_BUFFER_TOO_SMALL);
  T_EQ_INT(len, big);
  T_EQ_INT(back[0], 0); /* nothing copied */
  len = 0;
  T_OK(kv_get(r, "big", 3, back, big + 1, &len));
  T_EQ_INT(len, big);
  if (memcmp(back, val, big) != 0) {
    free(val), free(back);
    T_FAIL_RETURN("16 MiB value read back differs");
  }
  const void *ref = NULL;
  T_OK(kv_get_ref(r, "big", 3, &ref, &len));
  T_EQ_MEM(ref, len, val, big);
  kv_cursor *cur = NULL;
  T_OK(kv_cursor_open(&cur, r, NULL, 0));
  const void *k = NULL, *v = NULL;
  size_t kl = 0, vl = 0;
  T_OK(kv_cursor_next(cur, &k, &kl, &v, &vl));
  T_EQ_MEM(k, kl, "big", 3);
  T_EQ_MEM(v, vl, val, big);
  T_OK(kv_cursor_close(cur));
  T_OK(kv_txn_free(r));
  memset(back, 0, big);
  T_OK(kv_env_get(env, "big", 3, back, big, &len));
  T_EQ_MEM(back, len, val, big);
  /* overwrite with a small value, then delete */
  T_OK(kv_env_put(env, "big", 3, "tiny", 4));
  T_OK(kv_env_get(env, "big", 3, back, big, &len));
  T_EQ_MEM(back, len, "tiny", 4);
  T_OK(kv_env_del(env, "big", 3));
  T_OK(kv_env_close(env));
out:
  free(val);
  free(back);
}

/* KV_VALUE_MAX is accepted (a 1 MiB map cannot hold it: KV_E_MAP_FULL, not KV_E_VALUE_SIZE); one byte
 * more is KV_E_VALUE_SIZE. The source is a read-only zero mapping, so nothing real is allocated. */
TEST(test_value_max_boundary) {
  size_t span = KV_VALUE_MAX + 4096;
  void *src = mmap(NULL, span, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  T_TRUE(src != MAP_FAILED);
  kv_options o = opts_of(0, 1u << 20, KV_DURABLE_SYNC);
  kv_env *env = NULL;
  open_db(&env, "db", &o);
  if (t_failed()) goto out;
  kv_txn *w = NULL;
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  T_KV(kv_put(w, "k", 1, src, KV_VALUE_MAX + 1), KV_E_VALUE_SIZE);
  T_KV(kv_put(w, "k", 1, src, SIZE_MAX), KV_E_VALUE_SIZE);
  put_s(w, "ok", "1"); /* VALUE_SIZE left the transaction usable */
  T_CHECK();
  T_OK(kv_txn_commit(w));
  T_OK(kv_txn_free(w));
  T_KV(kv_env_put(env, "k", 1, src, KV_VALUE_MAX + 1), KV_E_VALUE_SIZE);
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  /* LMDB 0.9.24 itself leaks its 1 MiB spill list when a put this large fails with MDB_MAP_FULL
   * (reproduced with LMDB alone): keep that allocation out of the leak check. */
  LSAN_OFF();
  int rc_max = kv_put(w, "k", 1, src, KV_VALUE_MAX);
  LSAN_ON();
  T_KV(rc_max, KV_E_MAP_FULL);
  T_OK(kv_txn_abort(w));
  T_OK(kv_txn_free(w));
  T_OK(kv_env_close(env));
out:
  munmap(src, span);
}

TEST(test_null_buffers) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  T_OK(kv_env_put(env, "a", 1, "1", 1));
  kv_txn *w = NULL;
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  calls c = {0};
  char buf[4];
  size_t len = 0, kl1 = 1, vlens[2], found = 0;
  const void *ref = NULL;
  kv_cursor *cur = NULL;
  int cnt = 0;
  REC(&c, kv_put(w, NULL, 1, "v", 1));
  REC(&c, kv_put(w, "a", 1, NULL, 1));
  REC(&c, kv_get(w, NULL, 1, buf, sizeof buf, &len));
  REC(&c, kv_get(w, "a", 1, NULL, 4, &len));
  REC(&c, kv_get_ref(w, NULL, 1, &ref, &len));
  REC(&c, kv_get_ref(w, "a", 1, NULL, &len));
  REC(&c, kv_get_ref(w, "a", 1, &ref, NULL));
  REC(&c, kv_del(w, NULL, 1));
  REC(&c, kv_get_batch(w, 1, NULL, &kl1, buf, sizeof buf, vlens, &found));
  REC(&c, kv_get_batch(w, 1, "a", NULL, buf, sizeof buf, vlens, &found));
  REC(&c, kv_get_batch(w, 1, "a", &kl1, NULL, 4, vlens, &found));
  REC(&c, kv_get_batch(w, 1, "a", &kl1, buf, sizeof buf, NULL, &found));
  REC(&c, kv_cursor_open(&cur, w, NULL, 1));
  REC(&c, kv_cursor_open(NULL, w, NULL, 0));
  REC(&c, kv_scan(w, NULL, 1, NULL, 0, count_cb, &cnt, NULL));
  REC(&c, kv_scan(w, NULL, 0, NULL, 1, count_cb, &cnt, NULL));
  REC(&c, kv_scan(w, NULL, 0, NULL, 0, NULL, &cnt, NULL));
  expect_all(&c, KV_E_INVALID);
  T_CHECK();
  T_TRUE(cur == NULL);
  T_EQ_INT(cnt, 0);
  /* the refused calls changed nothing, and the transaction goes on */
  expect_val_s(w, "a", "1");
  T_CHECK();
  T_OK(kv_txn_commit(w));
  T_OK(kv_txn_free(w));
  calls e = {0};
  REC(&e, kv_env_put(env, NULL, 1, "v", 1));
  REC(&e, kv_env_put(env, "a", 1, NULL, 1));
  REC(&e, kv_env_get(env, NULL, 1, buf, sizeof buf, &len));
  REC(&e, kv_env_get(env, "a", 1, NULL, 4, &len));
  REC(&e, kv_env_del(env, NULL, 1));
  expect_all(&e, KV_E_INVALID);
  T_CHECK();
  T_OK(kv_env_get(env, "a", 1, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "1", 1);
  T_OK(kv_env_close(env));
}

/* NULL where an object is required: KV_E_INVALID (or KV_OK for the documented no-op frees). */
TEST(test_null_objects) {
  calls c = {0};
  char buf[4];
  size_t len = 0, kl1 = 1, vlens[1], found = 0;
  const void *ref = NULL;
  kv_cursor *cur = NULL;
  uint64_t sz = 0;
  int cnt = 0;
  REC(&c, kv_env_set_map_size(NULL, 1u << 20));
  REC(&c, kv_env_map_size(NULL, &sz));
  REC(&c, kv_env_sync(NULL));
  REC(&c, kv_txn_commit(NULL));
  REC(&c, kv_txn_abort(NULL));
  REC(&c, kv_txn_reset(NULL));
  REC(&c, kv_txn_renew(NULL));
  REC(&c, kv_txn_is_write(NULL));
  REC(&c, kv_put(NULL, "a", 1, "v", 1));
  REC(&c, kv_get(NULL, "a", 1, buf, sizeof buf, &len));
  REC(&c, kv_get_ref(NULL, "a", 1, &ref, &len));
  REC(&c, kv_del(NULL, "a", 1));
  REC(&c, kv_get_batch(NULL, 1, "a", &kl1, buf, sizeof buf, vlens, &found));
  REC(&c, kv_env_put(NULL, "a", 1, "v", 1));
  REC(&c, kv_env_get(NULL, "a", 1, buf, sizeof buf, &len));
  REC(&c, kv_env_del(NULL, "a", 1));
  REC(&c, kv_cursor_open(&cur, NULL, NULL, 0));
  REC(&c, kv_cursor_next(NULL, NULL, NULL, NULL, NULL));
  REC(&c, kv_scan(NULL, NULL, 0, NULL, 0, count_cb, &cnt, NULL));
  expect_all(&c, KV_E_INVALID);
  T_CHECK();
  T_OK(kv_env_close(NULL));
  T_OK(kv_txn_free(NULL));
  T_OK(kv_cursor_close(NULL));
}

TEST(test_get_small_buffer) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  T_OK(kv_env_put(env, "k", 1, "0123456789", 10));
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  char buf[16];
  memset(buf, '#', sizeof buf);
  size_t len = 0;
  T_KV(kv_get(r, "k", 1, buf, 9, &len), KV_E_BUFFER_TOO_SMALL);
  T_EQ_INT(len, 10);
  for (size_t i = 0; i < sizeof buf; i++) T_EQ_INT(buf[i], '#'); /* nothing copied */
  /* len NULL: still the error, no length */
  T_KV(kv_get(r, "k", 1, buf, 1, NULL), KV_E_BUFFER_TOO_SMALL);
  T_EQ_INT(buf[0], '#');
  /* retry with exactly the length needed */
  char *exact = malloc(len);
  T_TRUE(exact != NULL);
  size_t len2 = 0;
  int rc = kv_get(r, "k", 1, exact, len, &len2);
  int same = rc == KV_OK && len2 == 10 && memcmp(exact, "0123456789", 10) == 0;
  free(exact);
  T_OK(rc);
  T_TRUE(same);
  /* len may be NULL on success */
  T_OK(kv_get(r, "k", 1, buf, sizeof buf, NULL));
  T_EQ_MEM(buf, 10, "0123456789", 10);
  T_EQ_INT(buf[10], '#'); /* no terminator added */
  T_OK(kv_txn_free(r));
  /* the one-shot form behaves the same */
  memset(buf, '#', sizeof buf);
  len = 0;
  T_KV(kv_env_get(env, "k", 1, buf, 5, &len), KV_E_BUFFER_TOO_SMALL);
  T_EQ_INT(len, 10);
  T_EQ_INT(buf[0], '#');
  T_OK(kv_env_get(env, "k", 1, buf, 10, &len));
  T_EQ_MEM(buf, len, "0123456789", 10);
  T_OK(kv_env_close(env));
}

TEST(test_get_length_query) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  unsigned char val[777];
  fill_pattern(val, sizeof val, 3);
  T_OK(kv_env_put(env, "k", 1, val, sizeof val));
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  size_t len = 0;
  T_KV(kv_get(r, "k", 1, NULL, 0, &len), KV_E_BUFFER_TOO_SMALL);
  T_EQ_INT(len, sizeof val);
  T_KV(kv_get(r, "k", 1, NULL, 0, NULL), KV_E_BUFFER_TOO_SMALL);
  len = 5;
  T_KV(kv_get(r, "nope", 4, NULL, 0, &len), KV_E_NOT_FOUND);
  T_EQ_INT(len, 5);
  T_OK(kv_txn_free(r));
  len = 0;
  T_KV(kv_env_get(env, "k", 1, NULL, 0, &len), KV_E_BUFFER_TOO_SMALL);
  T_EQ_INT(len, sizeof val);
  T_OK(kv_env_close(env));
}

TEST(test_get_not_found_keeps_outputs) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  char buf[4] = {'a', 'b', 'c', 'd'};
  size_t len = 42;
  T_KV(kv_get(r, "x", 1, buf, sizeof buf, &len), KV_E_NOT_FOUND);
  T_EQ_INT(len, 42);
  T_EQ_MEM(buf, 4, "abcd", 4);
  const void *const marker = (const void *)(uintptr_t)0x5555;
  const void *ref = marker;
  T_KV(kv_get_ref(r, "x", 1, &ref, &len), KV_E_NOT_FOUND);
  T_TRUE(ref == marker);
  T_EQ_INT(len, 42);
  T_OK(kv_txn_free(r));
  T_KV(kv_env_get(env, "x", 1, buf, sizeof buf, &len), KV_E_NOT_FOUND);
  T_EQ_INT(len, 42);
  T_KV(kv_env_del(env, "x", 1), KV_E_NOT_FOUND);
  T_OK(kv_env_close(env));
}

/* A zero-copy value stays valid and unchanged for the life of its read transaction, whatever other
 * transactions write meanwhile (the snapshot pins its pages). */
TEST(test_get_ref_lifetime) {
  kv_env *env = NULL;
  kv_options ns = opts_of(0, 0, KV_DURABLE_NOSYNC); /* many small commits: keep them fast */
  open_db(&env, "db", &ns);
  T_CHECK();
  unsigned char v1[3000], v2[3000];
  fill_pattern(v1, sizeof v1, 1);
  fill_pattern(v2, sizeof v2, 2);
  T_OK(kv_env_put(env, "k", 1, v1, sizeof v1));
  T_OK(kv_env_put(env, "s", 1, "small", 5));
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  const void *p = NULL, *ps = NULL;
  size_t pl = 0, psl = 0;
  T_OK(kv_get_ref(r, "k", 1, &p, &pl));
  T_OK(kv_get_ref(r, "s", 1, &ps, &psl));
  T_EQ_MEM(p, pl, v1, sizeof v1);
  /* other transactions overwrite, delete and churn pages meanwhile */
  for (int i = 0; i < 300; i++) {
    char key[16];
    snprintf(key, sizeof key, "churn%04d", i);
    T_OK(kv_env_put(env, key, strlen(key), v2, sizeof v2));
    T_OK(kv_env_put(env, "k", 1, v2, (size_t)(i % 7) * 400 + 1));
    T_OK(kv_env_put(env, "s", 1, "SMALL", 5));
  }
  T_OK(kv_env_del(env, "k", 1));
  for (int i = 0; i < 300; i++) {
    char key[16];
    snprintf(key, sizeof key, "churn%04d", i);
    T_OK(kv_env_del(env, key, strlen(key)));
  }
  T_EQ_MEM(p, pl, v1, sizeof v1);
  T_EQ_MEM(ps, psl, "small", 5);
  /* a second lookup in the same snapshot agrees */
  expect_val(r, "k", 1, v1, sizeof v1);
  T_CHECK();
  T_OK(kv_txn_free(r));
  /* in a write transaction: the pointer is good until its next put/del */
  kv_txn *w = NULL;
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  T_OK(kv_put(w, "k", 1, v2, sizeof v2));
  T_OK(kv_get_ref(w, "k", 1, &p, &pl));
  T_EQ_MEM(p, pl, v2, sizeof v2);
  char buf[8];
  size_t len = 0;
  T_OK(kv_get(w, "s", 1, buf, sizeof buf, &len)); /* reads do not invalidate it */
  T_EQ_MEM(p, pl, v2, sizeof v2);
  T_OK(kv_txn_commit(w));
  T_OK(kv_txn_free(w));
  T_OK(kv_env_close(env));
}

TEST(test_write_in_read_txn) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  T_OK(kv_env_put(env, "a", 1, "1", 1));
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  T_KV(kv_put(r, "b", 1, "2", 1), KV_E_READ_ONLY);
  T_KV(kv_del(r, "a", 1), KV_E_READ_ONLY);
  expect_val_s(r, "a", "1"); /* still usable */
  T_CHECK();
  expect_missing(r, "b", 1);
  T_CHECK();
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
}

TEST(test_readonly_env_writes) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  T_OK(kv_env_put(env, "a", 1, "1", 1));
  T_OK(kv_env_close(env));
  kv_options ro = opts_of(KV_ENV_READ_ONLY, 0, KV_DURABLE_SYNC);
  T_OK(kv_env_open(&env, t_path("db"), &ro));
  kv_txn *const marker = (kv_txn *)(uintptr_t)0x31;
  kv_txn *t = marker;
  T_KV(kv_txn_begin(&t, env, KV_TXN_WRITE), KV_E_READ_ONLY);
  T_TRUE(t == marker);
  T_KV(kv_env_put(env, "b", 1, "2", 1), KV_E_READ_ONLY);
  T_KV(kv_env_del(env, "a", 1), KV_E_READ_ONLY);
  T_KV(kv_env_sync(env), KV_E_READ_ONLY);
  T_KV(kv_env_set_map_size(env, 64u << 20), KV_E_READ_ONLY);
  T_OK(kv_txn_begin(&t, env, KV_TXN_READ));
  T_KV(kv_put(t, "b", 1, "2", 1), KV_E_READ_ONLY);
  T_KV(kv_del(t, "a", 1), KV_E_READ_ONLY);
  expect_val_s(t, "a", "1");
  T_CHECK();
  expect_missing(t, "b", 1);
  T_CHECK();
  T_OK(kv_txn_free(t));
  char buf[2];
  size_t len = 0;
  T_OK(kv_env_get(env, "a", 1, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "1", 1);
  T_OK(kv_env_close(env));
}

/* ---------------------------------------------------------------------------------------------- */
/* Batch get */

static void put_batch_fixture(kv_env *env, unsigned char *v3) {
  fill_pattern(v3, 1000, 33);
  kv_txn *w = NULL;
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  T_OK(kv_put(w, "k1", 2, "one", 3));
  T_OK(kv_put(w, "k2", 2, NULL, 0));
  T_OK(kv_put(w, "k3", 2, v3, 1000));
  T_OK(kv_txn_commit(w));
  T_OK(kv_txn_free(w));
}

TEST(test_get_batch) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  unsigned char v3[1000];
  put_batch_fixture(env, v3);
  T_CHECK();
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  /* k1, missing, k3, k2 (empty), k1 again */
  const char keys[] = "k1missingk3k2k1";
  const size_t klens[] = {2, 7, 2, 2, 2};
  size_t vlens[5] = {7, 7, 7, 7, 7}, found = 99;
  unsigned char buf[1100];
  memset(buf, '#', sizeof buf);
  T_OK(kv_get_batch(r, 5, keys, klens, buf, 1006, vlens, &found));
  T_EQ_INT(found, 4);
  T_EQ_U64(vlens[0], 3);
  T_EQ_U64(vlens[1], SIZE_MAX);
  T_EQ_U64(vlens[2], 1000);
  T_EQ_U64(vlens[3], 0);
  T_EQ_U64(vlens[4], 3);
  T_EQ_MEM(buf, 3, "one", 3);
  T_EQ_MEM(buf + 3, 1000, v3, 1000);
  T_EQ_MEM(buf + 1003, 3, "one", 3);
  T_EQ_INT(buf[1006], '#');
  /* found may be NULL */
  memset(buf, '#', sizeof buf);
  T_OK(kv_get_batch(r, 5, keys, klens, buf, sizeof buf, vlens, NULL));
  T_EQ_MEM(buf + 1003, 3, "one", 3);
  /* only misses: nothing to copy, a NULL buffer is fine */
  const size_t mlens[] = {7};
  found = 99;
  T_OK(kv_get_batch(r, 1, "missing", mlens, NULL, 0, vlens, &found));
  T_EQ_INT(found, 0);
  T_EQ_U64(vlens[0], SIZE_MAX);
  /* only an empty value: 0 bytes needed */
  const size_t elen[] = {2};
  found = 99;
  T_OK(kv_get_batch(r, 1, "k2", elen, NULL, 0, vlens, &found));
  T_EQ_INT(found, 1);
  T_EQ_U64(vlens[0], 0);
  /* n = 0 */
  found = 99;
  T_OK(kv_get_batch(r, 0, keys, klens, buf, sizeof buf, vlens, &found));
  T_EQ_INT(found, 0);
  T_OK(kv_txn_free(r));
  /* in a write transaction: sees its own writes and deletes */
  kv_txn *w = NULL;
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  T_OK(kv_put(w, "k2", 2, "two", 3));
  T_OK(kv_del(w, "k1", 2));
  found = 99;
  T_OK(kv_get_batch(w, 5, keys, klens, buf, sizeof buf, vlens, &found));
  T_EQ_INT(found, 2);
  T_EQ_U64(vlens[0], SIZE_MAX);
  T_EQ_U64(vlens[3], 3);
  T_EQ_U64(vlens[4], SIZE_MAX);
  T_EQ_MEM(buf, 1000, v3, 1000);
  T_EQ_MEM(buf + 1000, 3, "two", 3);
  T_OK(kv_txn_abort(w));
  T_OK(kv_txn_free(w));
  T_OK(kv_env_close(env));
}

TEST(test_get_batch_small_buffer) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  unsigned char v3[1000];
  put_batch_fixture(env, v3);
  T_CHECK();
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  const char keys[] = "k1missingk3k2k1";
  const size_t klens[] = {2, 7, 2, 2, 2};
  size_t vlens[5] = {7, 7, 7, 7, 7};
  unsigned char buf[1100];
  memset(buf, '#', sizeof buf);
  T_KV(kv_get_batch(r, 5, keys, klens, buf, 1005, vlens, NULL), KV_E_BUFFER_TOO_SMALL);
  T_EQ_U64(vlens[0], 3);
  T_EQ_U64(vlens[1], SIZE_MAX);
  T_EQ_U64(vlens[2], 1000);
  T_EQ_U64(vlens[3], 0);
  T_EQ_U64(vlens[4], 3);
  /* kv.h: the buffer's contents are unspecified on BUFFER_TOO_SMALL (the batch is one pass). */
  size_t need = 0;
  for (int i = 0; i < 5; i++)
    if (vlens[i] != SIZE_MAX) need += vlens[i];
  T_EQ_INT(need, 1006);
  /* length query with a NULL buffer */
  size_t found = 0;
  T_KV(kv_get_batch(r, 5, keys, klens, NULL, 0, vlens, &found), KV_E_BUFFER_TOO_SMALL);
  T_EQ_U64(vlens[2], 1000);
  /* retry with the size the lengths add up to */
  unsigned char *exact = malloc(need);
  T_TRUE(exact != NULL);
  found = 0;
  int rc = kv_get_batch(r, 5, keys, klens, exact, need, vlens, &found);
  int same = rc == KV_OK && memcmp(exact, "one", 3) == 0 && memcmp(exact + 3, v3, 1000) == 0 &&
             memcmp(exact + 1003, "one", 3) == 0;
  free(exact);
  T_OK(rc);
  T_EQ_INT(found, 4);
  T_TRUE(same);
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
}

TEST(test_get_batch_errors) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  T_OK(kv_env_put(env, "k1", 2, "one", 3));
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  unsigned char key[KV_KEY_MAX + 1];
  memset(key, 'k', sizeof key);
  char buf[16];
  size_t vlens[2], found = 0;
  const size_t l0[] = {2, 0}, lbig[] = {2, KV_KEY_MAX + 1};
  T_KV(kv_get_batch(r, 2, key, l0, buf, sizeof buf, vlens, &found), KV_E_KEY_SIZE);
  T_KV(kv_get_batch(r, 2, key, lbig, buf, sizeof buf, vlens, &found), KV_E_KEY_SIZE);
  const size_t l1[] = {2};
  T_KV(kv_get_batch(r, 1, NULL, l1, buf, sizeof buf, vlens, &found), KV_E_INVALID);
  T_KV(kv_get_batch(r, 1, "k1", NULL, buf, sizeof buf, vlens, &found), KV_E_INVALID);
  T_KV(kv_get_batch(r, 1, "k1", l1, NULL, 3, vlens, &found), KV_E_INVALID);
  T_KV(kv_get_batch(r, 1, "k1", l1, buf, sizeof buf, NULL, &found), KV_E_INVALID);
  T_OK(kv_get_batch(r, 1, "k1", l1, buf, sizeof buf, vlens, &found));
  T_EQ_INT(found, 1);
  T_EQ_MEM(buf, vlens[0], "one", 3);
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
}

/* ---------------------------------------------------------------------------------------------- */
/* One-shot forms */

TEST(test_env_oneshot) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  T_OK(kv_env_put(env, "a", 1, "apple", 5));
  T_OK(kv_env_put(env, "b", 1, "banana", 6));
  T_OK(kv_env_put(env, "a", 1, "avocado", 7));
  char buf[16];
  size_t len = 0;
  T_OK(kv_env_get(env, "a", 1, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "avocado", 7);
  T_OK(kv_env_del(env, "b", 1));
  T_KV(kv_env_get(env, "b", 1, buf, sizeof buf, &len), KV_E_NOT_FOUND);
  T_KV(kv_env_del(env, "b", 1), KV_E_NOT_FOUND);
  /* committed: a transaction sees them, and so does a reopened env */
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  expect_val_s(r, "a", "avocado");
  T_CHECK();
  expect_missing(r, "b", 1);
  T_CHECK();
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
  T_OK(kv_env_open(&env, t_path("db"), NULL));
  T_OK(kv_env_get(env, "a", 1, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "avocado", 7);
  /* nothing left open: the env closes */
  T_OK(kv_env_close(env));
}

TEST(test_env_oneshot_errors) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  char buf[4];
  size_t len = 0;
  T_KV(kv_env_put(NULL, "a", 1, "1", 1), KV_E_INVALID);
  T_KV(kv_env_get(NULL, "a", 1, buf, sizeof buf, &len), KV_E_INVALID);
  T_KV(kv_env_del(NULL, "a", 1), KV_E_INVALID);
  T_KV(kv_env_put(env, "", 0, "1", 1), KV_E_KEY_SIZE);
  T_KV(kv_env_get(env, "", 0, buf, sizeof buf, &len), KV_E_KEY_SIZE);
  T_KV(kv_env_del(env, "", 0), KV_E_KEY_SIZE);
  static const char src[16];
  T_KV(kv_env_put(env, "a", 1, src, KV_VALUE_MAX + 1), KV_E_VALUE_SIZE);
  T_KV(kv_env_get(env, "a", 1, buf, sizeof buf, &len), KV_E_NOT_FOUND);
  T_OK(kv_env_close(env));
}

TEST(test_env_oneshot_busy) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  T_OK(kv_env_put(env, "a", 1, "1", 1));
  kv_txn *w = NULL;
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  put_s(w, "p", "pending");
  T_CHECK();
  T_KV(kv_env_put(env, "b", 1, "2", 1), KV_E_BUSY); /* would deadlock on LMDB's write lock */
  T_KV(kv_env_del(env, "a", 1), KV_E_BUSY);
  /* reads are fine and see the committed state only */
  char buf[8];
  size_t len = 0;
  T_OK(kv_env_get(env, "a", 1, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "1", 1);
  T_KV(kv_env_get(env, "p", 1, buf, sizeof buf, &len), KV_E_NOT_FOUND);
  T_OK(kv_txn_commit(w));
  T_OK(kv_txn_free(w));
  T_OK(kv_env_put(env, "b", 1, "2", 1));
  T_OK(kv_env_get(env, "p", 1, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "pending", 7);
  T_OK(kv_env_close(env));
}

/* ---------------------------------------------------------------------------------------------- */
/* Cursors and scans */

/* Keys in their expected (memcmp, shorter first) order, and the order they are inserted in. */
static const struct {
  const char *k;
  size_t n;
} sorted_keys[] = {
    {"\x00", 1}, {"\x00\x00", 2}, {"\x01", 1},     {"a", 1},    {"a\x00", 2},
    {"aa", 2},   {"ab", 2},       {"b", 1},        {"ba", 2},   {"\x7f", 1},
    {"\x80", 1}, {"\xfe\xff", 2}, {"\xff", 1},     {"\xff\xff", 2},
};
#define N_SORTED ((int)T_COUNT(sorted_keys))
static const int insert_order[N_SORTED] = {7, 12, 3, 0, 9, 13, 5, 1, 11, 4, 8, 2, 10, 6};

static void sorted_val(int i, char *v, size_t *vl) { *vl = (size_t)snprintf(v, 16, "val-%d", i); }

static void put_sorted_fixture(kv_env *env) {
  kv_txn *w = NULL;
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  for (int j = 0; j < N_SORTED; j++) {
    int i = insert_order[j];
    char v[16];
    size_t vl = 0;
    sorted_val(i, v, &vl);
    T_OK(kv_put(w, sorted_keys[i].k, sorted_keys[i].n, v, vl));
  }
  T_OK(kv_txn_commit(w));
  T_OK(kv_txn_free(w));
}

/* Walks cur and expects sorted_keys[from..to) exactly, then KV_E_DONE. */
static void expect_walk(kv_cursor *cur, int from, int to) {
  for (int i = from; i < to; i++) {
    const void *k = NULL, *v = NULL;
    size_t kl = 0, vl = 0;
    int rc = kv_cursor_next(cur, &k, &kl, &v, &vl);
    if (rc != KV_OK) T_FAIL_RETURN("cursor step for key #%d: %s", i, kv_err_name(rc));
    if (kl != sorted_keys[i].n || memcmp(k, sorted_keys[i].k, kl) != 0)
      T_FAIL_RETURN("cursor step %d: got a key of %zu bytes (first 0x%02x), want key #%d", i - from, kl,
                    kl ? *(const unsigned char *)k : 0, i);
    char want[16];
    size_t wl = 0;
    sorted_val(i, want, &wl);
    T_EQ_MEM(v, vl, want, wl);
  }
  T_KV(kv_cursor_next(cur, NULL, NULL, NULL, NULL), KV_E_DONE);
}

TEST(test_cursor_order) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  put_sorted_fixture(env);
  T_CHECK();
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  kv_cursor *cur = NULL;
  T_OK(kv_cursor_open(&cur, r, NULL, 0));
  expect_walk(cur, 0, N_SORTED);
  T_CHECK();
  T_OK(kv_cursor_close(cur));
  /* several cursors walk independently */
  kv_cursor *c1 = NULL, *c2 = NULL;
  T_OK(kv_cursor_open(&c1, r, NULL, 0));
  T_OK(kv_cursor_open(&c2, r, NULL, 0));
  T_OK(kv_cursor_next(c1, NULL, NULL, NULL, NULL));
  T_OK(kv_cursor_next(c1, NULL, NULL, NULL, NULL));
  expect_walk(c2, 0, N_SORTED);
  T_CHECK();
  expect_walk(c1, 2, N_SORTED);
  T_CHECK();
  T_OK(kv_cursor_close(c1));
  T_OK(kv_cursor_close(c2));
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
}

static int index_of_first_ge(const void *s, size_t n) {
  for (int i = 0; i < N_SORTED; i++) {
    size_t m = n < sorted_keys[i].n ? n : sorted_keys[i].n;
    int c = memcmp(sorted_keys[i].k, s, m);
    if (c > 0 || (c == 0 && sorted_keys[i].n >= n)) return i;
  }
  return N_SORTED;
}

TEST(test_cursor_start_key) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  put_sorted_fixture(env);
  T_CHECK();
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  static const struct {
    const char *s;
    size_t n;
    int want_first;
  } starts[] = {
      {"\x00", 1, 0},   /* exact first */
      {"a", 1, 3},      /* exact */
      {"a\x00\x00", 3, 5}, /* between "a\0" and "aa": next is "aa" */
      {"a\x01", 2, 5},
      {"ab", 2, 6},
      {"abc", 3, 7},    /* past "ab": "b" */
      {"c", 1, 9},      /* "\x7f" */
      {"\xff", 1, 12},
      {"\xff\xff", 2, 13},
      {"\xff\xff\x00", 3, N_SORTED}, /* after the last key: done at once */
  };
  for (size_t i = 0; i < T_COUNT(starts); i++) {
    T_EQ_INT(index_of_first_ge(starts[i].s, starts[i].n), starts[i].want_first); /* test's own oracle */
    kv_cursor *cur = NULL;
    T_OK(kv_cursor_open(&cur, r, starts[i].s, starts[i].n));
    expect_walk(cur, starts[i].want_first, N_SORTED);
    kv_cursor_close(cur);
    if (t_failed()) T_FAIL_RETURN("... for start key #%zu", i);
  }
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
}

TEST(test_cursor_done_repeats) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  kv_txn *r = NULL;
  kv_cursor *cur = NULL;
  /* empty database */
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  T_OK(kv_cursor_open(&cur, r, NULL, 0));
  for (int i = 0; i < 3; i++) T_KV(kv_cursor_next(cur, NULL, NULL, NULL, NULL), KV_E_DONE);
  T_OK(kv_cursor_close(cur));
  T_OK(kv_txn_free(r));
  /* one record: one KV_OK then KV_E_DONE for good, outputs untouched on DONE */
  T_OK(kv_env_put(env, "only", 4, "1", 1));
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  T_OK(kv_cursor_open(&cur, r, NULL, 0));
  const void *k = NULL;
  size_t kl = 0;
  T_OK(kv_cursor_next(cur, &k, &kl, NULL, NULL));
  T_EQ_MEM(k, kl, "only", 4);
  for (int i = 0; i < 5; i++) {
    const void *const mk = (const void *)(uintptr_t)0x77;
    const void *k2 = mk;
    size_t kl2 = 1234;
    T_KV(kv_cursor_next(cur, &k2, &kl2, NULL, NULL), KV_E_DONE);
    T_TRUE(k2 == mk);
    T_EQ_INT(kl2, 1234);
  }
  T_OK(kv_cursor_close(cur));
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
}

TEST(test_cursor_errors) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  kv_cursor *const marker = (kv_cursor *)(uintptr_t)0x66;
  kv_cursor *cur = marker;
  T_KV(kv_cursor_open(NULL, r, NULL, 0), KV_E_INVALID);
  T_KV(kv_cursor_open(&cur, NULL, NULL, 0), KV_E_INVALID);
  T_KV(kv_cursor_open(&cur, r, NULL, 3), KV_E_INVALID);
  T_KV(kv_cursor_open(&cur, r, "a", 0), KV_E_KEY_SIZE);
  unsigned char big[KV_KEY_MAX + 1];
  memset(big, 'b', sizeof big);
  T_KV(kv_cursor_open(&cur, r, big, sizeof big), KV_E_KEY_SIZE);
  T_TRUE(cur == marker);
  T_KV(kv_cursor_next(NULL, NULL, NULL, NULL, NULL), KV_E_INVALID);
  T_OK(kv_cursor_close(NULL));
  T_OK(kv_txn_reset(r));
  T_KV(kv_cursor_open(&cur, r, NULL, 0), KV_E_TXN_ENDED);
  T_TRUE(cur == marker);
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
}

TEST(test_cursor_ended_by_commit_abort_reset) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  T_OK(kv_env_put(env, "a", 1, "1", 1));
  T_OK(kv_env_put(env, "b", 1, "2", 1));
  static const char *how_name[] = {"commit (read)", "abort (read)", "reset", "commit (write)",
                                   "abort (write)"};
  for (int how = 0; how < 5; how++) {
    kv_txn *t = NULL;
    kv_cursor *cur = NULL;
    T_OK(kv_txn_begin(&t, env, how >= 3 ? KV_TXN_WRITE : KV_TXN_READ));
    T_OK(kv_cursor_open(&cur, t, NULL, 0));
    T_OK(kv_cursor_next(cur, NULL, NULL, NULL, NULL));
    int rc_end = how == 0 || how == 3 ? kv_txn_commit(t) : how == 2 ? kv_txn_reset(t) : kv_txn_abort(t);
    T_OK(rc_end);
    int rc1 = kv_cursor_next(cur, NULL, NULL, NULL, NULL);
    int rc2 = kv_cursor_next(cur, NULL, NULL, NULL, NULL);
    if (rc1 != KV_E_CURSOR_ENDED || rc2 != KV_E_CURSOR_ENDED)
      T_FAIL_RETURN("kv_cursor_next after %s: got %s, %s, want KV_E_CURSOR_ENDED", how_name[how],
                    kv_err_name(rc1), kv_err_name(rc2));
    T_OK(kv_cursor_close(cur)); /* allowed after the end */
    T_OK(kv_txn_free(t));
  }
  /* a cursor closed after its transaction was freed */
  kv_txn *t = NULL;
  kv_cursor *cur = NULL;
  T_OK(kv_txn_begin(&t, env, KV_TXN_READ));
  T_OK(kv_cursor_open(&cur, t, NULL, 0));
  T_OK(kv_txn_commit(t));
  T_OK(kv_txn_free(t));
  T_KV(kv_cursor_next(cur, NULL, NULL, NULL, NULL), KV_E_CURSOR_ENDED);
  T_OK(kv_cursor_close(cur));
  T_OK(kv_env_close(env));
}

TEST(test_cursor_sees_own_writes) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  T_OK(kv_env_put(env, "b", 1, "old", 3));
  T_OK(kv_env_put(env, "d", 1, "gone", 4));
  kv_txn *w = NULL;
  T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
  put_s(w, "a", "new");
  put_s(w, "c", "new");
  put_s(w, "b", "changed");
  T_CHECK();
  T_OK(kv_del(w, "d", 1));
  kv_cursor *cur = NULL;
  T_OK(kv_cursor_open(&cur, w, NULL, 0));
  static const char *const want[][2] = {{"a", "new"}, {"b", "changed"}, {"c", "new"}};
  for (int i = 0; i < 3; i++) {
    const void *k = NULL, *v = NULL;
    size_t kl = 0, vl = 0;
    T_OK(kv_cursor_next(cur, &k, &kl, &v, &vl));
    T_EQ_MEM(k, kl, want[i][0], 1);
    T_EQ_MEM(v, vl, want[i][1], strlen(want[i][1]));
  }
  T_KV(kv_cursor_next(cur, NULL, NULL, NULL, NULL), KV_E_DONE);
  T_OK(kv_cursor_close(cur));
  T_OK(kv_txn_abort(w));
  T_OK(kv_txn_free(w));
  T_OK(kv_env_close(env));
}

typedef struct scan_acc {
  int calls, stop_at, stop_value;
  int idx[64];
  int bad;
} scan_acc;

static int scan_cb(const void *k, size_t kl, const void *v, size_t vl, void *payload) {
  scan_acc *a = payload;
  int i = index_of_first_ge(k, kl);
  char want[16];
  size_t wl = 0;
  if (i < N_SORTED) sorted_val(i, want, &wl);
  if (i >= N_SORTED || sorted_keys[i].n != kl || vl != wl || memcmp(v, want, wl) != 0) a->bad++;
  if (a->calls < 64) a->idx[a->calls] = i;
  a->calls++;
  if (a->stop_at && a->calls == a->stop_at) return a->stop_value;
  return 0;
}

static void expect_scan(kv_txn *r, const void *lo, size_t lol, const void *hi, size_t hil, int from,
                        int to) {
  scan_acc a;
  memset(&a, 0, sizeof a);
  size_t count = 999;
  T_OK(kv_scan(r, lo, lol, hi, hil, scan_cb, &a, &count));
  T_EQ_INT(a.bad, 0);
  T_EQ_INT(a.calls, to - from);
  T_EQ_INT(count, to - from);
  for (int i = from; i < to; i++) T_EQ_INT(a.idx[i - from], i);
}

TEST(test_scan_ranges) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  put_sorted_fixture(env);
  T_CHECK();
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  expect_scan(r, NULL, 0, NULL, 0, 0, N_SORTED); /* everything */
  T_CHECK();
  expect_scan(r, "a", 1, "b", 1, 3, 7); /* lo inclusive, hi exclusive */
  T_CHECK();
  expect_scan(r, "a\x00", 2, NULL, 0, 4, N_SORTED); /* to the last key */
  T_CHECK();
  expect_scan(r, NULL, 0, "a", 1, 0, 3); /* from the first key */
  T_CHECK();
  expect_scan(r, "a\x00\x00", 3, "ab\x00", 3, 5, 7); /* bounds that are not keys */
  T_CHECK();
  expect_scan(r, "aa", 2, "aa", 2, 0, 0); /* empty range */
  T_CHECK();
  expect_scan(r, "b", 1, "a", 1, 0, 0); /* inverted range: nothing */
  T_CHECK();
  expect_scan(r, "\xff\xff\x01", 3, NULL, 0, 0, 0); /* past the end */
  T_CHECK();
  expect_scan(r, NULL, 0, "\x00", 1, 0, 0); /* before the first */
  T_CHECK();
  /* count may be NULL */
  scan_acc a;
  memset(&a, 0, sizeof a);
  T_OK(kv_scan(r, NULL, 0, NULL, 0, scan_cb, &a, NULL));
  T_EQ_INT(a.calls, N_SORTED);
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
}

TEST(test_scan_stop_value) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  put_sorted_fixture(env);
  T_CHECK();
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  const int stops[] = {7, 1, INT_MAX, -1000, KV_E_NOT_FOUND};
  for (size_t i = 0; i < T_COUNT(stops); i++) {
    scan_acc a;
    memset(&a, 0, sizeof a);
    a.stop_at = 3;
    a.stop_value = stops[i];
    size_t count = 0;
    T_KV(kv_scan(r, NULL, 0, NULL, 0, scan_cb, &a, &count), stops[i]);
    T_EQ_INT(a.calls, 3);
    T_EQ_INT(count, 3);
    T_EQ_INT(a.bad, 0);
  }
  /* stopping on the last record of a range still returns the stop value */
  scan_acc a;
  memset(&a, 0, sizeof a);
  a.stop_at = 4;
  a.stop_value = 42;
  size_t count = 0;
  T_KV(kv_scan(r, "a", 1, "b", 1, scan_cb, &a, &count), 42);
  T_EQ_INT(count, 4);
  /* the transaction is still fine */
  expect_scan(r, NULL, 0, NULL, 0, 0, N_SORTED);
  T_CHECK();
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
}

TEST(test_scan_errors) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  T_OK(kv_env_put(env, "a", 1, "1", 1));
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  int cnt = 0;
  size_t count = 77;
  unsigned char big[KV_KEY_MAX + 1];
  memset(big, 'z', sizeof big);
  T_KV(kv_scan(r, NULL, 0, NULL, 0, NULL, &cnt, &count), KV_E_INVALID);
  T_KV(kv_scan(r, NULL, 2, NULL, 0, count_cb, &cnt, &count), KV_E_INVALID);
  T_KV(kv_scan(r, NULL, 0, NULL, 2, count_cb, &cnt, &count), KV_E_INVALID);
  T_KV(kv_scan(r, "a", 0, NULL, 0, count_cb, &cnt, &count), KV_E_KEY_SIZE);
  T_KV(kv_scan(r, NULL, 0, "a", 0, count_cb, &cnt, &count), KV_E_KEY_SIZE);
  T_KV(kv_scan(r, big, sizeof big, NULL, 0, count_cb, &cnt, &count), KV_E_KEY_SIZE);
  T_KV(kv_scan(r, NULL, 0, big, sizeof big, count_cb, &cnt, &count), KV_E_KEY_SIZE);
  T_EQ_INT(cnt, 0);
  T_OK(kv_scan(r, big, KV_KEY_MAX, NULL, 0, count_cb, &cnt, &count)); /* 511 is fine */
  T_EQ_INT(count, 0);
  T_OK(kv_scan(r, NULL, 0, big, KV_KEY_MAX, count_cb, &cnt, &count));
  T_EQ_INT(count, 1);
  T_EQ_INT(cnt, 1);
  T_OK(kv_txn_commit(r));
  T_KV(kv_scan(r, NULL, 0, NULL, 0, count_cb, &cnt, &count), KV_E_TXN_ENDED);
  T_EQ_INT(cnt, 1);
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
}


/* A callback that ends the scan's own transaction: the transaction object is still allocated, so the
 * rest of the scan is "a call on an ended transaction" — KV_E_TXN_ENDED, never a crash, and no
 * further callbacks. (kv.h does not forbid ending the transaction from the callback.) */
typedef struct end_ctx {
  kv_txn *txn;
  int calls, rc_end;
} end_ctx;

static int end_cb(const void *k, size_t kl, const void *v, size_t vl, void *payload) {
  (void)k, (void)kl, (void)v, (void)vl;
  end_ctx *c = payload;
  if (++c->calls == 2) c->rc_end = kv_txn_abort(c->txn);
  return 0;
}

static void scan_end_case(int is_write) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  for (int i = 0; i < 5; i++) {
    char key[8];
    snprintf(key, sizeof key, "s%d", i);
    T_OK(kv_env_put(env, key, strlen(key), "v", 1));
  }
  kv_txn *t = NULL;
  T_OK(kv_txn_begin(&t, env, is_write ? KV_TXN_WRITE : KV_TXN_READ));
  end_ctx c = {t, 0, -999};
  size_t count = 0;
  int rc = kv_scan(t, NULL, 0, NULL, 0, end_cb, &c, &count);
  T_OK(c.rc_end);
  if (rc != KV_E_TXN_ENDED || c.calls != 2)
    T_FAIL_RETURN("kv_scan whose callback aborted the %s transaction: got %s after %d callbacks, "
                  "want KV_E_TXN_ENDED after 2",
                  is_write ? "write" : "read", kv_err_name(rc), c.calls);
  T_KV(kv_get(t, "s0", 2, NULL, 0, NULL), KV_E_TXN_ENDED);
  T_OK(kv_txn_free(t));
  T_OK(kv_env_close(env));
}

TEST(test_scan_callback_ends_read_txn) { scan_end_case(0); }
TEST(test_scan_callback_ends_write_txn) { scan_end_case(1); }

/* A callback that resets and renews the scan's read transaction: the transaction is active again,
 * but on a new snapshot, so the scan's position belongs to an ended one — KV_E_TXN_ENDED there, not
 * a silently short KV_OK. */
typedef struct renew_cb_ctx {
  kv_txn *txn;
  int calls, rc_reset, rc_renew;
} renew_cb_ctx;

static int renew_cb(const void *k, size_t kl, const void *v, size_t vl, void *payload) {
  (void)k, (void)kl, (void)v, (void)vl;
  renew_cb_ctx *c = payload;
  if (++c->calls == 10) {
    c->rc_reset = kv_txn_reset(c->txn);
    c->rc_renew = kv_txn_renew(c->txn);
  }
  return 0;
}

TEST(test_scan_callback_resets_and_renews) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  kv_txn *t = NULL;
  T_OK(kv_txn_begin(&t, env, KV_TXN_WRITE));
  for (int i = 0; i < 400; i++) {
    char key[8];
    snprintf(key, sizeof key, "s%03d", i);
    T_OK(kv_put(t, key, strlen(key), "v", 1));
  }
  T_OK(kv_txn_commit(t));
  T_OK(kv_txn_free(t));
  T_OK(kv_txn_begin(&t, env, KV_TXN_READ));
  renew_cb_ctx c = {t, 0, -999, -999};
  size_t count = 0;
  int rc = kv_scan(t, NULL, 0, NULL, 0, renew_cb, &c, &count);
  T_OK(c.rc_reset);
  T_OK(c.rc_renew);
  if (rc != KV_E_TXN_ENDED || c.calls != 10 || count != 10)
    T_FAIL_RETURN("kv_scan whose callback reset and renewed its transaction: got %s after %d "
                  "callbacks (count %zu), want KV_E_TXN_ENDED after 10", kv_err_name(rc), c.calls,
                  count);
  expect_val_s(t, "s399", "v"); /* the renewed transaction works */
  T_CHECK();
  int n = 0;
  T_OK(kv_scan(t, NULL, 0, NULL, 0, count_cb, &n, NULL)); /* and a new scan sees everything */
  T_EQ_INT(n, 400);
  T_OK(kv_txn_free(t));
  T_OK(kv_env_close(env));
}

/* KV_E_MAP_FULL fails the write transaction, as LMDB does: what follows in it is KV_E_TXN_FAILED
 * (reads too, and the commit, which commits nothing); abort, grow, redo. */
TEST(test_map_full_fails_txn) {
  kv_options o = opts_of(0, 256u << 10, KV_DURABLE_NOSYNC);
  kv_env *env = NULL;
  open_db(&env, "db", &o);
  T_CHECK();
  T_OK(kv_env_put(env, "before", 6, "1", 1));
  kv_txn *t = NULL;
  T_OK(kv_txn_begin(&t, env, KV_TXN_WRITE));
  unsigned char val[1024];
  int n = 0;
  T_KV(fill_until_map_full(t, &n), KV_E_MAP_FULL);
  T_KV(kv_put(t, "x", 1, "y", 1), KV_E_TXN_FAILED);
  T_KV(kv_get(t, "before", 6, val, sizeof val, NULL), KV_E_TXN_FAILED);
  T_KV(kv_del(t, "before", 6), KV_E_TXN_FAILED);
  kv_cursor *cur = NULL;
  T_KV(kv_cursor_open(&cur, t, NULL, 0), KV_E_TXN_FAILED);
  T_KV(kv_txn_commit(t), KV_E_TXN_FAILED); /* ends it; nothing committed */
  T_KV(kv_txn_commit(t), KV_E_TXN_ENDED);
  T_OK(kv_txn_free(t));
  char buf[4];
  size_t len = 0;
  T_KV(kv_env_get(env, "m00000", 6, buf, sizeof buf, &len), KV_E_NOT_FOUND);
  T_OK(kv_env_get(env, "before", 6, buf, sizeof buf, &len));
  /* Grow and redo: the same writes fit. */
  T_OK(kv_env_set_map_size(env, 4u << 20));
  T_OK(kv_txn_begin(&t, env, KV_TXN_WRITE));
  T_OK(put_kib_values(t, 0, n));
  T_OK(kv_txn_commit(t));
  T_OK(kv_txn_free(t));
  T_OK(kv_env_close(env));
}

/* ---------------------------------------------------------------------------------------------- */
/* A random walk against an in-memory model: puts, deletes, reads, commits and aborts. */

enum { MODEL_KEYS = 48, MODEL_VMAX = 700 };
typedef struct model {
  int present[MODEL_KEYS];
  uint32_t seed[MODEL_KEYS];
  size_t vlen[MODEL_KEYS];
} model;

static uint64_t rng_next(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return *s >> 33;
}

static size_t model_key(int i, unsigned char *k) {
  size_t n = (size_t)(i % 5) + 1 + (size_t)(i % 3) * 100; /* lengths 1..305 */
  for (size_t j = 0; j < n; j++) k[j] = (unsigned char)('A' + (i + (int)j) % 7);
  k[0] = (unsigned char)i;
  return n;
}

static void model_check(kv_txn *t, const model *m) {
  unsigned char k[400], want[MODEL_VMAX];
  int expected = 0;
  for (int i = 0; i < MODEL_KEYS; i++) {
    size_t kl = model_key(i, k);
    if (m->present[i]) {
      fill_pattern(want, m->vlen[i], m->seed[i]);
      expect_val(t, k, kl, want, m->vlen[i]);
      expected++;
    } else {
      expect_missing(t, k, kl);
    }
    if (t_failed()) T_FAIL_RETURN("... model key %d", i);
  }
  kv_cursor *cur = NULL;
  T_OK(kv_cursor_open(&cur, t, NULL, 0));
  int n = 0, rc;
  const void *pk = NULL, *prev = NULL;
  size_t pkl = 0, prevl = 0;
  while ((rc = kv_cursor_next(cur, &pk, &pkl, NULL, NULL)) == KV_OK) {
    if (prev) {
      size_t mn = prevl < pkl ? prevl : pkl;
      int c = memcmp(prev, pk, mn);
      if (c > 0 || (c == 0 && prevl >= pkl)) {
        kv_cursor_close(cur);
        T_FAIL_RETURN("cursor out of order at record %d", n);
      }
    }
    /* the previous pointer is only valid until the next call: compare against a copy */
    static unsigned char copy[KV_KEY_MAX];
    memcpy(copy, pk, pkl);
    prev = copy;
    prevl = pkl;
    n++;
  }
  kv_cursor_close(cur);
  T_KV(rc, KV_E_DONE);
  T_EQ_INT(n, expected);
}

TEST(test_model_random) {
  kv_env *env = NULL;
  open_db(&env, "db", NULL);
  T_CHECK();
  model committed, work;
  memset(&committed, 0, sizeof committed);
  uint64_t rng = 20240601;
  unsigned char k[400], v[MODEL_VMAX];
  for (int round = 0; round < 150; round++) {
    work = committed;
    kv_txn *w = NULL;
    T_OK(kv_txn_begin(&w, env, KV_TXN_WRITE));
    int ops = (int)(rng_next(&rng) % 20) + 1;
    for (int o = 0; o < ops; o++) {
      int i = (int)(rng_next(&rng) % MODEL_KEYS);
      size_t kl = model_key(i, k);
      if (rng_next(&rng) % 3 == 0) {
        T_KV(kv_del(w, k, kl), work.present[i] ? KV_OK : KV_E_NOT_FOUND);
        work.present[i] = 0;
      } else {
        work.present[i] = 1;
        work.seed[i] = (uint32_t)rng_next(&rng);
        work.vlen[i] = (size_t)(rng_next(&rng) % MODEL_VMAX);
        fill_pattern(v, work.vlen[i], work.seed[i]);
        T_OK(kv_put(w, k, kl, v, work.vlen[i]));
      }
    }
    model_check(w, &work);
    if (t_failed()) T_FAIL_RETURN("... in write transaction %d", round);
    if (rng_next(&rng) % 4 == 0) {
      T_OK(kv_txn_abort(w));
    } else {
      T_OK(kv_txn_commit(w));
      committed = work;
    }
    T_OK(kv_txn_free(w));
    kv_txn *r = NULL;
    T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
    model_check(r, &committed);
    if (t_failed()) T_FAIL_RETURN("... after transaction %d", round);
    T_OK(kv_txn_free(r));
  }
  T_OK(kv_env_close(env));
  T_OK(kv_env_open(&env, t_path("db"), NULL));
  kv_txn *r = NULL;
  T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
  model_check(r, &committed);
  T_CHECK();
  T_OK(kv_txn_free(r));
  T_OK(kv_env_close(env));
}

/* ---------------------------------------------------------------------------------------------- */
/* Process crash: what was committed survives a SIGKILL, in both durability modes; what was pending
 * does not, and the writer lock held by the dead process does not block the next writer. */

static void crash_child(const char *path, uint32_t durability) {
  kv_options o = opts_of(0, 0, durability);
  kv_env *env = NULL;
  if (kv_env_open(&env, path, &o) != KV_OK) _exit(3);
  for (int i = 0; i < 50; i++) {
    char key[16], val[32];
    snprintf(key, sizeof key, "c%03d", i);
    int vl = snprintf(val, sizeof val, "value-%d-%u", i, durability);
    if (kv_env_put(env, key, strlen(key), val, (size_t)vl) != KV_OK) _exit(4);
  }
  kv_txn *w = NULL;
  if (kv_txn_begin(&w, env, KV_TXN_WRITE) != KV_OK) _exit(5);
  if (kv_put(w, "pending", 7, "x", 1) != KV_OK) _exit(6);
  if (kv_del(w, "c000", 4) != KV_OK) _exit(7);
  kill(getpid(), SIGKILL);
  _exit(8);
}

TEST(test_process_kill_keeps_commits) {
  for (uint32_t dur = 0; dur < 2; dur++) {
    char path[4200];
    snprintf(path, sizeof path, "%s", t_path(dur ? "nosync" : "sync"));
    fflush(NULL);
    pid_t pid = fork();
    T_TRUE(pid >= 0);
    if (pid == 0) crash_child(path, dur);
    int status = 0;
    T_EQ_INT(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
      T_FAIL_RETURN("crash child did not reach the kill (exit %d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    kv_env *env = NULL;
    kv_options o = opts_of(0, 0, dur);
    T_OK(kv_env_open(&env, path, &o));
    kv_txn *r = NULL;
    T_OK(kv_txn_begin(&r, env, KV_TXN_READ));
    for (int i = 0; i < 50; i++) {
      char key[16], val[32];
      snprintf(key, sizeof key, "c%03d", i);
      int vl = snprintf(val, sizeof val, "value-%d-%u", i, dur);
      expect_val(r, key, strlen(key), val, (size_t)vl);
      if (t_failed()) T_FAIL_RETURN("... %s: commit %d lost", dur ? "NOSYNC" : "SYNC", i);
    }
    expect_missing(r, "pending", 7);
    T_CHECK();
    T_OK(kv_txn_free(r));
    alarm(20); /* a writer lock left held by the dead process would hang here */
    T_OK(kv_env_put(env, "after", 5, "1", 1));
    alarm(0);
    T_OK(kv_env_close(env));
  }
}

/* ---------------------------------------------------------------------------------------------- */
/* Calibration */

TEST(test_calibration_noop) {
  /* kv_noop has no observable effect: it neither sets nor clears the last error. */
  T_EQ_STR(kv_last_error(), "");
  kv_noop();
  T_EQ_STR(kv_last_error(), "");
  T_KV(kv_options_init(NULL), KV_E_INVALID);
  char before[256];
  snprintf(before, sizeof before, "%s", kv_last_error());
  for (int i = 0; i < 1000; i++) kv_noop();
  T_EQ_STR(kv_last_error(), before);
}

TEST(test_calibration_add) {
  T_EQ_INT(kv_add(2, 3), 5);
  T_EQ_INT(kv_add(-7, 3), -4);
  T_EQ_INT(kv_add(0, 0), 0);
  T_EQ_INT(kv_add(-1, 1), 0);
  T_EQ_INT(kv_add(INT_MAX, 1), INT_MIN);
  T_EQ_INT(kv_add(INT_MIN, -1), INT_MAX);
  T_EQ_INT(kv_add(INT_MAX, INT_MAX), -2);
  T_EQ_INT(kv_add(INT_MIN, INT_MIN), 0);
  T_EQ_INT(kv_add(INT_MAX, INT_MIN), -1);
  T_EQ_INT(kv_add(123456789, 987654321), 1111111110);
  T_EQ_INT(kv_add(2000000000, 2000000000), -294967296);
}

static uint64_t lcg_ref(uint64_t n) {
  uint64_t x = n;
  for (uint64_t i = 0; i < n; i++) x = x * 6364136223846793005ull + 1442695040888963407ull;
  return x;
}

TEST(test_calibration_spin) {
  T_EQ_U64(kv_spin(0), 0);
  T_EQ_U64(kv_spin(1), 6364136223846793005ull + 1442695040888963407ull);
  T_EQ_U64(kv_spin(2), lcg_ref(2));
  const uint64_t ns[] = {3, 10, 1000, 65537, 1000003};
  for (size_t i = 0; i < T_COUNT(ns); i++) {
    uint64_t got = kv_spin(ns[i]), want = lcg_ref(ns[i]);
    if (got != want)
      T_FAIL_RETURN("kv_spin(%" PRIu64 ") = %" PRIu64 ", want %" PRIu64, ns[i], got, want);
  }
}

/* ---------------------------------------------------------------------------------------------- */

static const t_case cases[] = {
    T_CASE(test_version),
    T_CASE(test_error_table),
    T_CASE(test_error_unknown_codes),
    T_CASE(test_error_strings_any_thread),
    T_CASE(test_last_error_empty_initially),
    T_CASE(test_last_error_set_and_kept),
    T_CASE(test_last_error_has_details),
    T_CASE(test_last_error_thread_local),
    T_CASE(test_last_error_r_truncation),
    T_CASE(test_last_error_r_no_error),
    T_CASE(test_options_init_size),
    T_CASE(test_open_defaults),
    T_CASE(test_open_invalid_args),
    T_CASE(test_open_options_version),
    T_CASE(test_open_options_flags),
    T_CASE(test_open_options_durability),
    T_CASE(test_open_options_reserved),
    T_CASE(test_open_options_nosync_ok),
    T_CASE(test_open_twice_busy),
    T_CASE(test_open_twice_other_spelling_busy),
    T_CASE(test_open_readonly_missing_io),
    T_CASE(test_open_missing_dir_io),
    T_CASE(test_open_directory_io),
    T_CASE(test_open_not_lmdb_corrupt),
    T_CASE(test_open_short_file_corrupt),
    T_CASE(test_close_null),
    T_CASE(test_close_busy_active_txn),
    T_CASE(test_close_busy_ended_unfreed_txn),
    T_CASE(test_close_other_thread),
    T_CASE(test_map_full_then_grow),
    T_CASE(test_map_full_oneshot),
    T_CASE(test_map_size_getter),
    T_CASE(test_set_map_size_errors),
    T_CASE(test_sync),
    T_CASE(test_get_ref_survives_map_growth_by_other_process),
    T_CASE(test_set_map_size_vs_oneshot_in_other_thread),
    T_CASE(test_txn_begin_errors),
    T_CASE(test_txn_is_write),
    T_CASE(test_commit_and_abort),
    T_CASE(test_txn_ended_everywhere),
    T_CASE(test_reset_renew),
    T_CASE(test_reset_renew_errors),
    T_CASE(test_renew_in_other_thread),
    T_CASE(test_txn_free_null),
    T_CASE(test_txn_free_aborts_active),
    T_CASE(test_txn_free_detaches_cursors),
    T_CASE(test_txn_free_other_thread),
    T_CASE(test_second_write_txn_busy),
    T_CASE(test_write_txn_other_thread_waits),
    T_CASE(test_read_txn_never_blocks),
    T_CASE(test_many_read_txns_one_thread),
    T_CASE(test_readers_full),
    T_CASE(test_reset_keeps_reader_slot),
    T_CASE(test_write_txn_other_process_waits),
    T_CASE(test_threads_share_env),
    T_CASE(test_wrong_thread_txn_calls),
    T_CASE(test_put_get_del_basic),
    T_CASE(test_key_sizes),
    T_CASE(test_value_empty),
    T_CASE(test_value_16mib),
    T_CASE(test_value_max_boundary),
    T_CASE(test_null_buffers),
    T_CASE(test_null_objects),
    T_CASE(test_get_small_buffer),
    T_CASE(test_get_length_query),
    T_CASE(test_get_not_found_keeps_outputs),
    T_CASE(test_get_ref_lifetime),
    T_CASE(test_write_in_read_txn),
    T_CASE(test_readonly_env_writes),
    T_CASE(test_get_batch),
    T_CASE(test_get_batch_small_buffer),
    T_CASE(test_get_batch_errors),
    T_CASE(test_env_oneshot),
    T_CASE(test_env_oneshot_errors),
    T_CASE(test_env_oneshot_busy),
    T_CASE(test_cursor_order),
    T_CASE(test_cursor_start_key),
    T_CASE(test_cursor_done_repeats),
    T_CASE(test_cursor_errors),
    T_CASE(test_cursor_ended_by_commit_abort_reset),
    T_CASE(test_cursor_sees_own_writes),
    T_CASE(test_scan_ranges),
    T_CASE(test_scan_stop_value),
    T_CASE(test_scan_errors),
    T_CASE(test_scan_callback_ends_read_txn),
    T_CASE(test_scan_callback_ends_write_txn),
    T_CASE(test_scan_callback_resets_and_renews),
    T_CASE(test_map_full_fails_txn),
    T_CASE(test_model_random),
    T_CASE(test_process_kill_keeps_commits),
    T_CASE(test_calibration_noop),
    T_CASE(test_calibration_add),
    T_CASE(test_calibration_spin),
};

int main(int argc, char **argv) { return t_main(argc, argv, cases, T_COUNT(cases)); }
