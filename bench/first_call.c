/* first_call.c — what the first call into the engine costs in a fresh process, built three ways:
 *   first_call_static  libkv.a linked in: a direct call;
 *   first_call_plt     libkv.so linked: the first call through the PLT runs the dynamic linker's
 *                      lazy binding (the program is linked without -z now);
 *   first_call_dlopen  libkv.so loaded with dlopen and kv_add resolved with dlsym (timed as load).
 * Prints one line: `load_ns first_ns second_ns` (load is 0 where nothing is loaded: static and
 * PLT). The driver runs each many times, interleaved, and hyperfine times the whole processes. */
#define _GNU_SOURCE
#include "kv.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#if defined(FIRST_CALL_DLOPEN)
#include <dlfcn.h>
#endif

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(void) {
  long long t0 = now_ns();
#if defined(FIRST_CALL_DLOPEN)
  const char *path = getenv("KV_LIBRARY");
  void *lib = dlopen(path && *path ? path : KVS_LIBKV_PATH, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "first_call: %s\n", dlerror());
    return 1;
  }
  int (*add)(int, int);
  *(void **)(&add) = dlsym(lib, "kv_add");
  if (!add) return 1;
#else
#define add kv_add /* called by name: taking its address would bind it eagerly through the GOT */
#endif
  long long t1 = now_ns();
  int a = add(40, 2);
  long long t2 = now_ns();
  int b = add(a, 1);
  long long t3 = now_ns();
  if (a != 42 || b != 43) return 1;
#if defined(FIRST_CALL_DLOPEN)
  long long load = t1 - t0;
#else
  long long load = 0; /* nothing to load: t1 - t0 would only time the clock */
  (void)t0;
#endif
  printf("%lld %lld %lld\n", load, t2 - t1, t3 - t2);
  return 0;
}
