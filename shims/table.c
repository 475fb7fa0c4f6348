/* table.c — the shim table: one row per way of reaching the engine. Adding a shim is one row here
 * and one file implementing kvs_shim. */
#include "shim.h"

#include <string.h>

const kvs_shim *const kvs_shims[] = {
    &kvs_shim_direct, &kvs_shim_plt, &kvs_shim_dlopen, &kvs_shim_handle, &kvs_shim_marshal,
};
const size_t kvs_shim_count = sizeof kvs_shims / sizeof kvs_shims[0];

const kvs_shim *kvs_shim_find(const char *name) {
  for (size_t i = 0; i < kvs_shim_count; i++)
    if (strcmp(kvs_shims[i]->name, name) == 0) return kvs_shims[i];
  return NULL;
}
