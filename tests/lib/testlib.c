#define _GNU_SOURCE
#include "testlib.h"

#include "kv.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

static int t_failures;
static char t_scratch[2048];

const char *t_errname(int err) { return kv_err_name(err); }

void t_fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "  %s:%d: ", file, line);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  t_failures++;
}

int t_failed(void) { return t_failures != 0; }

const char *t_dir(void) { return t_scratch; }

const char *t_path(const char *name) {
  static char slots[8][4096];
  static unsigned next;
  char *p = slots[next++ % 8];
  snprintf(p, sizeof slots[0], "%s/%s", t_scratch, name);
  return p;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static int make_scratch(const char *name) {
  const char *base = getenv("TMPDIR");
  snprintf(t_scratch, sizeof t_scratch, "%s/ffibench-%s-XXXXXX", base && *base ? base : "/tmp",
           name);
  if (!mkdtemp(t_scratch)) {
    fprintf(stderr, "  cannot create scratch folder %s: %s\n", t_scratch, strerror(errno));
    return -1;
  }
  return 0;
}

static void drop_scratch(void) { nftw(t_scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* Runs one case in the current process; returns 0 when it passed. */
static int run_here(const t_case *c) {
  t_failures = 0;
  if (make_scratch(c->name) != 0) return 1;
  c->fn();
  drop_scratch();
  return t_failures != 0;
}

static int run_forked(const t_case *c, unsigned timeout) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "  fork: %s\n", strerror(errno));
    return 1;
  }
  if (pid == 0) {
    alarm(timeout);
    _exit(run_here(c));
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    fprintf(stderr, "  killed by signal %d (%s)%s\n", sig, strsignal(sig),
            sig == SIGALRM ? ": timed out" : "");
    return 1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) != 0 : 1;
}

int t_main(int argc, char **argv, const t_case *cases, size_t n) {
  const char *filter = argc > 1 ? argv[1] : NULL;
  const char *nofork = getenv("T_NOFORK");
  const char *tmo = getenv("T_TIMEOUT");
  unsigned timeout = tmo ? (unsigned)strtoul(tmo, NULL, 10) : 120;
  setvbuf(stdout, NULL, _IOLBF, 0);
  int passed = 0, failed = 0;
  for (size_t i = 0; i < n; i++) {
    if (filter && !strstr(cases[i].name, filter)) continue;
    int bad = nofork && *nofork == '1' ? run_here(&cases[i]) : run_forked(&cases[i], timeout);
    printf("%s %s\n", bad ? "FAIL" : "ok  ", cases[i].name);
    bad ? failed++ : passed++;
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0 || passed == 0;
}

void t_leak_check(void) {
#if defined(__SANITIZE_ADDRESS__)
  if (!t_failed() && __lsan_do_recoverable_leak_check() != 0)
    t_fail(__FILE__, __LINE__, "LeakSanitizer found leaks (see above)");
#endif
}

static void *t_worker_main(void *p) {
  t_worker *w = p;
  pthread_mutex_lock(&w->mu);
  for (;;) {
    while (!w->pending && !w->quit) pthread_cond_wait(&w->cv, &w->mu);
    if (!w->pending) break;
    pthread_mutex_unlock(&w->mu);
    w->fn(w->arg);
    pthread_mutex_lock(&w->mu);
    w->pending = 0;
    pthread_cond_broadcast(&w->cv);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

int t_worker_start(t_worker *w) {
  memset(w, 0, sizeof *w);
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  return pthread_create(&w->thread, NULL, t_worker_main, w);
}

void t_worker_call(t_worker *w, void (*fn)(void *), void *arg) {
  pthread_mutex_lock(&w->mu);
  w->fn = fn;
  w->arg = arg;
  w->pending = 1;
  pthread_cond_broadcast(&w->cv);
  while (w->pending) pthread_cond_wait(&w->cv, &w->mu);
  pthread_mutex_unlock(&w->mu);
}

void t_worker_stop(t_worker *w) {
  pthread_mutex_lock(&w->mu);
  w->quit = 1;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->thread, NULL);
  pthread_cond_destroy(&w->cv);
  pthread_mutex_destroy(&w->mu);
}

int t_in_thread(void (*fn)(void *), void *arg) {
  t_worker w;
  if (t_worker_start(&w) != 0) return -1;
  t_worker_call(&w, fn, arg);
  t_worker_stop(&w);
  return 0;
}
