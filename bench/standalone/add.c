/* add.c — the simplest standalone loop for kv_add, sharing no code with the suite: x = kv_add(x, 1),
 * timed with the clock around the loop. The cross-check of c/<row>/add/mode:latency (--validate).
 * Prints the median of 5 rounds of 2e7 calls, in ns per call, loop included. Built against libkv.a
 * (standalone_add_direct) and against libkv.so (standalone_add_plt). */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include "kv.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(void) {
  enum { N = 20000000, ROUNDS = 5 };
  double ns[ROUNDS];
  int x = 0;
  for (int r = 0; r < ROUNDS; r++) {
    double t0 = now_ns();
    for (int i = 0; i < N; i++) x = kv_add(x, 1);
    ns[r] = (now_ns() - t0) / N;
  }
  qsort(ns, ROUNDS, sizeof ns[0], by_value);
  if (x != N * ROUNDS) return 1;
  printf("%.4f\n", ns[ROUNDS / 2]);
  return 0;
}
