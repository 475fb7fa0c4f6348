/* dlopen.c — the dlopen row: libkv.so loaded at run time, every function resolved once with dlsym
 * into a table of pointers, each call an indirect call through that table.
 * The library is $KV_LIBRARY when set, else the libkv.so this build made (KVS_LIBKV_PATH). */
#define _GNU_SOURCE
#include "kv.h"
#include "pointer/funcs.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef KVS_LIBKV_PATH
#define KVS_LIBKV_PATH "libkv.so"
#endif

static struct {
#define KVS__DL_FIELD(name) __typeof__(kv_##name) *name;
  KVS_POINTER_FUNCS(KVS__DL_FIELD)
#undef KVS__DL_FIELD
} kvs__dl;

#define KVS_FN(name) kvs__dl.name
#define KVS_ROW dlopen
#define KVS_ROW_ATTR
#include "pointer/ops.h"

static pthread_once_t kvs__once = PTHREAD_ONCE_INIT;
static int kvs__init_rc;
static char kvs__why[512];

static void kvs__load(void) {
  const char *path = getenv("KV_LIBRARY");
  if (!path || !*path) path = KVS_LIBKV_PATH;
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    snprintf(kvs__why, sizeof kvs__why, "dlopen(%s): %s", path, dlerror());
    kvs__init_rc = KV_E_IO;
    return;
  }
  /* ISO C has no conversion from void * to a function pointer; writing through a void ** is the
   * form POSIX's dlsym(3) gives for it. */
#define KVS__DL_RESOLVE(name)                                                                      \
  *(void **)(&kvs__dl.name) = dlsym(lib, "kv_" #name);                                             \
  if (!kvs__dl.name) {                                                                             \
    snprintf(kvs__why, sizeof kvs__why, "dlsym(kv_%s) in %s: %s", #name, path, dlerror());         \
    kvs__init_rc = KV_E_INTERNAL;                                                                  \
    return;                                                                                        \
  }
  KVS_POINTER_FUNCS(KVS__DL_RESOLVE)
#undef KVS__DL_RESOLVE
}

static int kvs__init(const char **why) {
  pthread_once(&kvs__once, kvs__load);
  if (kvs__init_rc && why) *why = kvs__why;
  return kvs__init_rc;
}
