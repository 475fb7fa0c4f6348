/* icount.c — instructions per call, counted by valgrind's callgrind: exact and repeatable on a noisy
 * machine, where timings are not. Runs the benchmarks of workloads.c (one thread each) twice, N1
 * and N2 iterations, and asks callgrind to dump its counters after each (client requests). The
 * script that parses the dumps takes (Ir(N2) - Ir(N1)) / (N2 - N1): setup costs cancel out.
 * Counts do not depend on timing, so one process counts every benchmark (each row on its own copy
 * of the data set, as in ffibench_c).
 *
 * Usage (the driver runs it so):
 *   setarch -R valgrind --tool=callgrind --skip-plt=no --instr-atstart=no --callgrind-out-file=DIR/cg.%p \
 *     ffibench_icount DATA_DIR [NAME...]
 * DATA_DIR is a data folder (dataset.h; created when it holds none); NAMEs select benchmarks by
 * their exact names (default: all; /threads:2 ones are never counted). Each dump is labelled
 * "<benchmark name>|<iterations>|<ops per iteration>". Without valgrind it runs natively and the
 * client requests are no-ops, which the smoke test uses to check every workload's answers. */
#define _GNU_SOURCE
#include "workloads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#define ICOUNT_N1 64
#define ICOUNT_N2 192

static int failures;

static int wanted(const char *name, int argc, char **argv) {
  if (argc <= 2) return 1;
  for (int i = 2; i < argc; i++)
    if (strcmp(argv[i], name) == 0) return 1;
  return 0;
}

static void measure(const wl_bench *b, kvs_obj env) {
  wl_ctx c;
  int rc = b->def->setup(&c, b->row->shim, env, b->param);
  if (rc) {
    fprintf(stderr, "icount: %s: setup failed: %s\n", b->name, kv_err_name(rc));
    failures++;
    return;
  }
  /* A workload timed one iteration per batch is heavy: fewer iterations keep the valgrind run short. */
  const uint64_t scale = b->batch == 1 ? 16 : 1, n[2] = {ICOUNT_N1 / scale, ICOUNT_N2 / scale};
  rc = WL_RUN(b)(&c, n[0]); /* warm: first-touch and lazy-binding costs stay out of both counts */
  for (int i = 0; i < 2 && !rc; i++) {
    char label[300];
    snprintf(label, sizeof label, "%s|%llu|%zu", b->name, (unsigned long long)n[i], b->ops);
    CALLGRIND_ZERO_STATS;
    rc = WL_RUN(b)(&c, n[i]);
    CALLGRIND_DUMP_STATS_AT(label);
  }
  b->def->teardown(&c);
  if (rc) {
    fprintf(stderr, "icount: %s: %s\n", b->name, rc == WL_WRONG_ANSWER ? "wrong answer" : kv_err_name(rc));
    failures++;
  } else {
    printf("%s\n", b->name);
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s DATA_DIR [NAME...]\n", argv[0]);
    return 2;
  }
  const char *why = "";
  if ((!wl_data_exists(argv[1]) && wl_data_create(argv[1]) != 0) || wl_use_data(argv[1], &why) != 0) {
    fprintf(stderr, "icount: no data set in %s %s\n", argv[1], why);
    return 1;
  }
  char scratch[] = "/tmp/ffibench-icount-XXXXXX";
  if (!mkdtemp(scratch)) {
    perror("icount: mkdtemp");
    return 1;
  }
  size_t nrows, n;
  const wl_row *rows = wl_rows(&nrows);
  wl_bench *benches = wl_benches(rows, nrows, &n);
  if (!benches) return 1;
  CALLGRIND_START_INSTRUMENTATION;
  for (size_t r = 0; r < nrows; r++) {
    kvs_obj env = 0;
    int opened = 0;
    for (size_t i = 0; i < n; i++) {
      const wl_bench *b = &benches[i];
      if (b->row != &rows[r] || b->threads != 1 || !wanted(b->name, argc, argv)) continue;
      if (!opened) {
        int rc = wl_open_row(&rows[r], scratch, &env, &why);
        if (rc) {
          fprintf(stderr, "icount: skipping row %s: %s %s\n", rows[r].name, kv_err_name(rc), why);
          failures++;
          break;
        }
        opened = 1;
      }
      measure(b, env);
    }
    if (opened) rows[r].shim->env_close(env);
    char path[4200];
    for (const char *suffix = ""; suffix; suffix = *suffix ? NULL : "-lock") {
      snprintf(path, sizeof path, "%s/%s.kv%s", scratch, rows[r].name, suffix);
      unlink(path); /* wl_open_row's copy, if it made one */
    }
  }
  free(benches);
  rmdir(scratch);
  return failures != 0;
}
