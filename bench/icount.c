/* icount.c — instructions per call, counted by valgrind's callgrind: exact and repeatable on a noisy
 * machine, where timings are not. Runs every shim × workload of workloads.h (one thread) twice, N1
 * and N2 iterations, and asks callgrind to dump its counters after each (client requests). The
 * script that parses the dumps takes (Ir(N2) - Ir(N1)) / (N2 - N1): setup costs cancel out.
 *
 * Usage (the bench script runs it so):
 *   setarch -R valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=DIR/cg.%p \
 *     ffibench_icount DATA_DIR [FILTER]
 * Each dump is labelled "<benchmark name>|<iterations>". Without valgrind it runs natively and the
 * client requests are no-ops, which the smoke test uses to check every workload's answers. */
#define _GNU_SOURCE
#include "workloads.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <valgrind/callgrind.h>

#define ICOUNT_N1 64
#define ICOUNT_N2 192

static regex_t filter;
static int have_filter, failures;

/* Iterations for a heavy workload are fewer, to keep the valgrind run short. */
static uint64_t scale(const wl_def *w, size_t param, uint64_t n) {
  uint64_t b = wl_batch_size(w, param);
  return b == 1 ? n / 16 : n;
}

static void measure(const kvs_shim *s, kvs_obj env, const wl_def *w, size_t param) {
  char name[256];
  wl_name(name, sizeof name, s, w, param);
  if (have_filter && regexec(&filter, name, 0, NULL, 0) != 0) return;
  wl_ctx c;
  int rc = w->setup(&c, s, env, param);
  if (rc) {
    fprintf(stderr, "icount: %s: setup failed: %s\n", name, kv_err_name(rc));
    failures++;
    return;
  }
  const uint64_t n[2] = {scale(w, param, ICOUNT_N1), scale(w, param, ICOUNT_N2)};
  w->run(&c, n[0]); /* warm: first-touch and lazy-binding costs stay out of both counts */
  for (int i = 0; i < 2 && !rc; i++) {
    char label[300];
    snprintf(label, sizeof label, "%s|%llu|%zu", name, (unsigned long long)n[i], wl_ops(w, param));
    CALLGRIND_ZERO_STATS;
    rc = w->run(&c, n[i]);
    CALLGRIND_DUMP_STATS_AT(label);
  }
  w->teardown(&c);
  if (rc) {
    fprintf(stderr, "icount: %s: %s\n", name, rc == WL_WRONG_ANSWER ? "wrong answer" : kv_err_name(rc));
    failures++;
  } else {
    printf("%s\n", name);
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s DATA_DIR [FILTER_REGEX]\n", argv[0]);
    return 2;
  }
  if (argc > 2) {
    if (regcomp(&filter, argv[2], REG_EXTENDED | REG_NOSUB) != 0) {
      fprintf(stderr, "icount: bad filter %s\n", argv[2]);
      return 2;
    }
    have_filter = 1;
  }
  char base[4096];
  mkdir(argv[1], 0755); /* may exist already */
  snprintf(base, sizeof base, "%s/base.kv", argv[1]);
  if (wl_dataset_create(base) != 0) {
    fprintf(stderr, "icount: cannot create the data set: %s\n", kv_last_error());
    return 1;
  }
  CALLGRIND_START_INSTRUMENTATION;
  const kvs_shim *rows[16];
  size_t nrows = wl_rows(rows, 16);
  for (size_t r = 0; r < nrows && r < 16; r++) {
    const kvs_shim *s = rows[r];
    const char *why = "";
    kvs_obj env;
    int rc = wl_open_row(s, argv[1], &env, &why);
    if (rc) {
      fprintf(stderr, "icount: skipping shim %s: %s %s\n", s->name, kv_err_name(rc), why);
      failures++;
      continue;
    }
    if (r == 0) measure(s, env, &wl_loop, 0);
    for (size_t i = 0; i < wl_count; i++) {
      const wl_def *w = &wl_defs[i];
      if (!wl_supported(w, s)) continue;
      if (!w->param_name) measure(s, env, w, 0);
      else
        for (const size_t *p = w->params; *p; p++) measure(s, env, w, *p);
    }
    s->env_close(env);
  }
  return failures != 0;
}
