/* table.c — the shim table: one row per way of reaching the engine. The rows come from the kvs_row()
 * list in shims/CMakeLists.txt (as the generated KVS_ROWS X-macro), so adding a shim is one file
 * defining `const kvs_shim kvs_shim_<name>` and one line in that list. */
#include "shim.h"

#include "kvs_rows.h"

#include <string.h>

#define KVS__DECLARE(name) extern const kvs_shim kvs_shim_##name;
KVS_ROWS(KVS__DECLARE)
#undef KVS__DECLARE

const kvs_shim *const kvs_shims[] = {
#define KVS__ENTRY(name) &kvs_shim_##name,
    KVS_ROWS(KVS__ENTRY)
#undef KVS__ENTRY
};
const size_t kvs_shim_count = sizeof kvs_shims / sizeof kvs_shims[0];

const kvs_shim *kvs_shim_find(const char *name) {
  for (size_t i = 0; i < kvs_shim_count; i++)
    if (strcmp(kvs_shims[i]->name, name) == 0) return kvs_shims[i];
  return NULL;
}
