/* row.c — the direct and plt rows: kv.h called by name. Built twice (see shims/CMakeLists.txt):
 * against libkv.a into the program (KVS_ROW=direct: a direct call), and against libkv.so into
 * libkvshim_plt.so (KVS_ROW=plt: a call through the PLT, bound by the dynamic linker). */
#include "kv.h"

#define KVS_FN(name) kv_##name
#ifndef KVS_ROW
#define KVS_ROW direct
#endif
#if defined(KVS_ROW_EXPORT)
#define KVS_ROW_ATTR __attribute__((visibility("default")))
#else
#define KVS_ROW_ATTR
#endif

#include "pointer/ops.h"

static int kvs__init(const char **why) {
  (void)why;
  return KV_OK;
}
