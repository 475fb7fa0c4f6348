/* consumer.c — a program outside the ffibench tree that uses an installed libkv: found through
 * find_package(kv) (CMakeLists.txt here) or pkg-config (tests/install/run). It checks that the
 * header and the library agree, that kv_abi.json sits beside the headers with this version, and that
 * the engine works: a put, a get, the handle ABI, the marshal ABI. */
#include <kv.h>
#include <kv_handle.h>
#include <kv_marshal.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "consumer: %s:%d: %s (%s)\n", __FILE__, __LINE__, #cond, kv_last_error());  \
      return 1;                                                                                    \
    }                                                                                              \
  } while (0)

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: consumer DB_PATH KV_ABI_JSON\n");
    return 2;
  }
  CHECK(kv_version() == KV_VERSION_HEX);
  FILE *f = fopen(argv[2], "r");
  CHECK(f != NULL);
  static char json[1 << 16];
  size_t n = fread(json, 1, sizeof json - 1, f);
  fclose(f);
  json[n] = '\0';
  char want[64];
  snprintf(want, sizeof want, "\"version\": \"%s\"", kv_version_string());
  CHECK(strstr(json, want) != NULL);
  CHECK(strstr(json, "\"KV_E_NOT_FOUND\"") != NULL);

  kv_env *env = NULL;
  CHECK(kv_env_open(&env, argv[1], NULL) == KV_OK);
  CHECK(kv_env_put(env, "k", 1, "v", 1) == KV_OK);
  char buf[4];
  size_t len = 0;
  CHECK(kv_env_get(env, "k", 1, buf, sizeof buf, &len) == KV_OK && len == 1 && buf[0] == 'v');
  CHECK(kv_env_close(env) == KV_OK);

  kvh_handle h = KVH_NULL;
  CHECK(kvh_env_open(&h, argv[1], NULL) == KV_OK);
  CHECK(kvh_env_get(h, "k", 1, buf, sizeof buf, &len) == KV_OK && len == 1);
  CHECK(kvh_release(h) == KV_OK);

  const unsigned char add[] = {KVM_VERSION, KVM_OP_ADD, 2, 0, 0, 0, 3, 0, 0, 0};
  unsigned char resp[8];
  CHECK(kvm_call(add, sizeof add, resp, sizeof resp, &len) == KV_OK && len == 8 && resp[4] == 5);
  printf("consumer: libkv %s works (%s)\n", kv_version_string(), argv[0]);
  return 0;
}
