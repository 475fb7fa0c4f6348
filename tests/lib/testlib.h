/* testlib.h — a small test runner in the manner of libuv's: a declared list of tests, each run in its
 * own process with a timeout, typed asserts that print both sides on failure, and a closing line
 * "N passed, N failed" that CI reads.
 *
 *   static void test_put_get(void) { T_EQ_INT(kv_put(...), KV_OK); }
 *   static const t_case cases[] = { T_CASE(test_put_get), ... };
 *   int main(int argc, char **argv) { return t_main(argc, argv, cases, T_COUNT(cases)); }
 *
 * Arguments: a substring selects the tests whose names contain it. T_NOFORK=1 runs tests in-process
 * (for a debugger). T_TIMEOUT=seconds changes the per-test timeout (default 120).
 * Each test gets a fresh scratch folder: t_path("name") is a path inside it, removed afterwards.
 */
#ifndef FFIBENCH_TESTLIB_H
#define FFIBENCH_TESTLIB_H

#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct t_case {
  const char *name;
  void (*fn)(void);
} t_case;

#define T_CASE(fn) {#fn, fn}
#define T_COUNT(a) (sizeof(a) / sizeof((a)[0]))

int t_main(int argc, char **argv, const t_case *cases, size_t n);

/** A path inside this test's scratch folder (static buffer per call slot; 8 slots rotate). */
const char *t_path(const char *name);
/** The scratch folder itself. */
const char *t_dir(void);

/** Records a failure with a printf-style message; the T_ macros call it and return from the test. */
void t_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/** Non-zero when the current test has failed (for helpers that assert and return). */
int t_failed(void);

#define T_FAIL_RETURN(...)                                                                          \
  do {                                                                                             \
    t_fail(__FILE__, __LINE__, __VA_ARGS__);                                                       \
    return;                                                                                        \
  } while (0)

#define T_TRUE(cond)                                                                               \
  do {                                                                                             \
    if (!(cond)) T_FAIL_RETURN("expected true: %s", #cond);                                        \
  } while (0)

#define T_EQ_INT(a, b)                                                                             \
  do {                                                                                             \
    long long t_a_ = (long long)(a), t_b_ = (long long)(b);                                        \
    if (t_a_ != t_b_) T_FAIL_RETURN("%s == %s: %lld != %lld", #a, #b, t_a_, t_b_);                 \
  } while (0)

#define T_EQ_U64(a, b)                                                                             \
  do {                                                                                             \
    uint64_t t_a_ = (uint64_t)(a), t_b_ = (uint64_t)(b);                                           \
    if (t_a_ != t_b_)                                                                              \
      T_FAIL_RETURN("%s == %s: %" PRIu64 " != %" PRIu64, #a, #b, t_a_, t_b_);                      \
  } while (0)

#define T_NE_INT(a, b)                                                                             \
  do {                                                                                             \
    long long t_a_ = (long long)(a), t_b_ = (long long)(b);                                        \
    if (t_a_ == t_b_) T_FAIL_RETURN("%s != %s: both %lld", #a, #b, t_a_);                          \
  } while (0)

/** An engine call that must return err (a kv.h code); prints both codes' names on failure. */
#define T_KV(expr, err)                                                                            \
  do {                                                                                             \
    int t_r_ = (int)(expr), t_e_ = (int)(err);                                                     \
    if (t_r_ != t_e_)                                                                              \
      T_FAIL_RETURN("%s: got %d (%s), want %d (%s)", #expr, t_r_, t_errname(t_r_), t_e_,            \
                    t_errname(t_e_));                                                              \
  } while (0)
#define T_OK(expr) T_KV(expr, 0)

#define T_EQ_MEM(a, alen, b, blen)                                                                 \
  do {                                                                                             \
    size_t t_al_ = (size_t)(alen), t_bl_ = (size_t)(blen);                                         \
    if (t_al_ != t_bl_ || (t_al_ && memcmp((a), (b), t_al_) != 0))                                 \
      T_FAIL_RETURN("%s[%zu] == %s[%zu]: contents differ", #a, t_al_, #b, t_bl_);                  \
  } while (0)

#define T_EQ_STR(a, b)                                                                             \
  do {                                                                                             \
    const char *t_a_ = (a), *t_b_ = (b);                                                           \
    if (strcmp(t_a_, t_b_) != 0) T_FAIL_RETURN("%s == %s: \"%s\" != \"%s\"", #a, #b, t_a_, t_b_);  \
  } while (0)

/** Returns from the calling test if a helper it called failed. */
#define T_CHECK() \
  do {            \
    if (t_failed()) return; \
  } while (0)

/** Name of a kv error code (the test library does not link the engine's table twice). */
const char *t_errname(int err);

/** Under ASan, a leak check of everything allocated so far (the runner _exit()s each test's process,
 *  so LeakSanitizer never runs by itself); records a failure if it finds leaks. A no-op otherwise,
 *  and after a failure. */
void t_leak_check(void);

/** A thread that runs functions on request, so a test can drive one object from two threads step by
 *  step (the worker keeps its identity across the steps). t_worker_stop ends the thread (its exit
 *  hooks run) and waits for it. */
typedef struct t_worker {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  void (*fn)(void *);
  void *arg;
  int pending, quit;
} t_worker;

int t_worker_start(t_worker *w);
void t_worker_call(t_worker *w, void (*fn)(void *), void *arg);
void t_worker_stop(t_worker *w);
/** Runs fn(arg) once in a fresh thread and waits for it (and for the thread's end). 0, or -1. */
int t_in_thread(void (*fn)(void *), void *arg);

#endif /* FFIBENCH_TESTLIB_H */
