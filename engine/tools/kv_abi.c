/* kv_abi.c — writes kv_abi.json: the ABI of libkv as data, for bindings that load or generate their
 * constants instead of retyping them. Built and run by the build (engine/CMakeLists.txt); the JSON is
 * installed beside the headers. Everything comes from the headers themselves: the error codes from
 * KV_ERRNO_MAP, the marshal operations from KVM_OP_MAP, struct layouts from sizeof/offsetof as this
 * compiler lays them out, the constants from their macros.
 *
 * Usage: kv_abi OUT.json SONAME */
#include "kv.h"
#include "kv_handle.h"
#include "kv_marshal.h"

#include <stddef.h>
#include <stdio.h>

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fprintf(f, "\\%c", *s);
    else if ((unsigned char)*s < 0x20) fprintf(f, "\\u%04x", (unsigned)(unsigned char)*s);
    else fputc(*s, f);
  }
  fputc('"', f);
}

/* kv_options, field by field. The size check below fails the build when a field is added to the
 * struct and not here (the struct has no padding: kv.h). */
#define KV__OPTIONS_FIELDS(X)                                                                      \
  X(version, "uint32") X(flags, "uint32") X(map_size, "uint64") X(durability, "uint32")            \
  X(reserved, "uint32")
#define KV__FIELD_SIZE(name, type) +sizeof(((kv_options *)0)->name)
_Static_assert(0 KV__OPTIONS_FIELDS(KV__FIELD_SIZE) == sizeof(kv_options),
               "kv_abi.c lists every field of kv_options");

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: kv_abi OUT.json SONAME\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "w");
  if (!f) {
    perror(argv[1]);
    return 1;
  }
  fprintf(f, "{\n  \"library\": \"libkv\",\n  \"version\": \"%d.%d.%d\",\n  \"version_hex\": %d,\n",
          KV_VERSION_MAJOR, KV_VERSION_MINOR, KV_VERSION_PATCH, KV_VERSION_HEX);
  fprintf(f, "  \"soname\": ");
  json_string(f, argv[2]);
  fprintf(f, ",\n  \"headers\": [\"kv.h\", \"kv_handle.h\", \"kv_marshal.h\"],\n");

  fprintf(f, "  \"errors\": [\n");
  const char *sep = "";
#define KV__ERR(name, code, msg)                                                                   \
  fprintf(f, "%s    {\"name\": \"KV_E_" #name "\", \"code\": %d, \"message\": ", sep, code);       \
  json_string(f, msg);                                                                             \
  fprintf(f, "}");                                                                                 \
  sep = ",\n";
  KV_ERRNO_MAP(KV__ERR)
#undef KV__ERR
  fprintf(f, "\n  ],\n");

  fprintf(f, "  \"marshal\": {\n    \"version\": %d,\n    \"header_size\": %u,\n    \"status_size\": "
             "%u,\n    \"ops\": [\n",
          KVM_VERSION, KVM_HEADER_SIZE, KVM_STATUS_SIZE);
  sep = "";
#define KV__OP(name, code)                                                                         \
  fprintf(f, "%s      {\"name\": \"KVM_OP_" #name "\", \"code\": %d}", sep, code);                 \
  sep = ",\n";
  KVM_OP_MAP(KV__OP)
#undef KV__OP
  fprintf(f, "\n    ]\n  },\n");

  fprintf(f, "  \"constants\": {\n");
  sep = "";
#define KV__CONST(name)                                                                            \
  fprintf(f, "%s    \"" #name "\": %llu", sep, (unsigned long long)(name));                        \
  sep = ",\n";
#define KV__SCONST(name)                                                                           \
  fprintf(f, "%s    \"" #name "\": %lld", sep, (long long)(name));                                 \
  sep = ",\n";
  KV__SCONST(KV_OK)
  KV__SCONST(KV_E_LAST_)
  KV__CONST(KV_KEY_MAX)
  KV__CONST(KV_VALUE_MAX)
  KV__CONST(KV_MAP_SIZE_DEFAULT)
  KV__CONST(KV_READERS_MAX)
  KV__CONST(KV_OPTIONS_VERSION)
  KV__CONST(KV_ENV_READ_ONLY)
  KV__CONST(KV_DURABLE_SYNC)
  KV__CONST(KV_DURABLE_NOSYNC)
  KV__CONST(KV_TXN_READ)
  KV__CONST(KV_TXN_WRITE)
  KV__CONST(KVH_NULL)
  KV__CONST(KVH_CAPACITY)
  KV__CONST(KVH_TYPE_ENV)
  KV__CONST(KVH_TYPE_TXN)
  KV__CONST(KVH_TYPE_CURSOR)
  KV__CONST(KVM_VERSION)
  KV__CONST(KVM_HEADER_SIZE)
  KV__CONST(KVM_STATUS_SIZE)
  KV__CONST(KVM_PATH_MAX)
  KV__CONST(KVM_BATCH_MAX)
  KV__CONST(KVM_CAP_ANY)
#undef KV__CONST
#undef KV__SCONST
  fprintf(f, "\n  },\n");

  fprintf(f, "  \"structs\": {\n    \"kv_options\": {\"size\": %zu, \"align\": %zu, \"fields\": [\n",
          sizeof(kv_options), _Alignof(kv_options));
  sep = "";
#define KV__FIELD(name, type)                                                                      \
  fprintf(f, "%s      {\"name\": \"" #name "\", \"type\": \"" type "\", \"offset\": %zu, \"size\": %zu}", \
          sep, offsetof(kv_options, name), sizeof(((kv_options *)0)->name));                       \
  sep = ",\n";
  KV__OPTIONS_FIELDS(KV__FIELD)
#undef KV__FIELD
  fprintf(f, "\n    ]}\n  },\n");
  fprintf(f, "  \"types\": {\"kvh_handle\": \"uint64\", \"kv_errno\": \"int32\", \"size_t\": %zu}\n}\n",
          sizeof(size_t));
  return fclose(f) == 0 ? 0 : 1;
}
