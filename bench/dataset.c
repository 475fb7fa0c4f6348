/* dataset.c — the data set (see dataset.h): generated here once, loaded by every harness. */
#define _GNU_SOURCE
#include "dataset.h"

#include "kv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const size_t wl_bytes_sizes[] = {8, 64, 512, 4096, 32768, 262144, 1048576};
const size_t wl_bytes_count = sizeof wl_bytes_sizes / sizeof wl_bytes_sizes[0];

#define WL_SEED 20261125u

/* The files, in checksum order: name, row size, rows. */
static const struct wl_table {
  const char *name, *file;
  size_t row, rows;
} wl_tables[] = {
    {"keys", "keys.bin", WL_KEY_LEN, WL_KEYS},
    {"order", "order.u32", 4, WL_KEYS},
    {"miss", "miss.bin", WL_KEY_LEN, WL_MISS_KEYS},
    {"put_keys", "put.bin", WL_KEY_LEN, WL_PUT_KEYS},
};
#define WL_TABLES (sizeof wl_tables / sizeof wl_tables[0])

uint64_t wl_fnv1a(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3u;
  return h;
}

size_t wl_bytes_key(unsigned char *out, size_t n) {
  return (size_t)snprintf((char *)out, 32, "bytes:%zu", n);
}

static uint64_t wl_rand(uint64_t *s) { /* splitmix64: one fixed seed, the same data everywhere */
  uint64_t z = (*s += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static void wl_key(unsigned char *out, const char *prefix, uint64_t i) {
  char tmp[WL_KEY_LEN + 1];
  snprintf(tmp, sizeof tmp, "%s%012llu", prefix, (unsigned long long)(i % 1000000000000u));
  memcpy(out, tmp, WL_KEY_LEN);
}

static void wl_put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16), p[3] = (unsigned char)(v >> 24);
}

static uint32_t wl_get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void wl_data_free(wl_data *d) {
  free(d->keys);
  free(d->order);
  free(d->miss);
  free(d->put_keys);
  memset(d, 0, sizeof *d);
}

/* The tables as the generator draws them: miss keys, then a single cycle through every key
 * (Sattolo's algorithm; value i's next-key field), then the throughput order (Fisher-Yates). */
static int wl_generate(wl_data *d, uint32_t *next) {
  d->keys = malloc(sizeof *d->keys * WL_KEYS);
  d->order = malloc(sizeof *d->order * WL_KEYS);
  d->miss = malloc(sizeof *d->miss * WL_MISS_KEYS);
  d->put_keys = malloc(sizeof *d->put_keys * WL_PUT_KEYS);
  if (!d->keys || !d->order || !d->miss || !d->put_keys) return KV_E_NO_MEMORY;
  uint64_t s = WL_SEED;
  for (uint32_t i = 0; i < WL_KEYS; i++) {
    wl_key(d->keys[i], "key:", i);
    d->order[i] = i;
    next[i] = i;
  }
  for (uint32_t i = 0; i < WL_MISS_KEYS; i++) wl_key(d->miss[i], "key:", WL_KEYS + wl_rand(&s) % 1000000u);
  for (uint32_t i = 0; i < WL_PUT_KEYS; i++) wl_key(d->put_keys[i], "put:", i);
  for (uint32_t i = WL_KEYS - 1; i > 0; i--) {
    uint32_t j = (uint32_t)(wl_rand(&s) % i), t = next[i];
    next[i] = next[j], next[j] = t;
  }
  for (uint32_t i = WL_KEYS - 1; i > 0; i--) {
    uint32_t j = (uint32_t)(wl_rand(&s) % (i + 1)), t = d->order[i];
    d->order[i] = d->order[j], d->order[j] = t;
  }
  return KV_OK;
}

/* Table t of d as bytes (order as u32 little-endian, whatever the host's byte order). */
static const void *wl_table_bytes(const wl_data *d, size_t t, unsigned char *scratch) {
  switch (t) {
  case 0: return d->keys;
  case 1:
    for (size_t i = 0; i < WL_KEYS; i++) wl_put32(scratch + 4 * i, d->order[i]);
    return scratch;
  case 2: return d->miss;
  default: return d->put_keys;
  }
}

static uint64_t wl_checksum(const wl_data *d) {
  unsigned char *scratch = malloc(4 * (size_t)WL_KEYS);
  uint64_t h = WL_FNV_OFFSET;
  for (size_t t = 0; scratch && t < WL_TABLES; t++)
    h = wl_fnv1a(h, wl_table_bytes(d, t, scratch), wl_tables[t].row * wl_tables[t].rows);
  free(scratch);
  return scratch ? h : 0;
}

static int wl_write_file(const char *dir, const char *name, const void *p, size_t n) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  int ok = f && fwrite(p, 1, n, f) == n;
  if (f && fclose(f) != 0) ok = 0;
  if (!ok) fprintf(stderr, "ffibench: cannot write %s: %s\n", path, strerror(errno));
  return ok ? KV_OK : KV_E_IO;
}

static int wl_write_db(const char *path, const wl_data *d, const uint32_t *next) {
  char lock[4200];
  snprintf(lock, sizeof lock, "%s-lock", path);
  unlink(path);
  unlink(lock);
  kv_options o = KV_OPTIONS_INIT;
  o.durability = KV_DURABLE_NOSYNC;
  kv_env *env;
  kv_txn *txn;
  int rc = kv_env_open(&env, path, &o);
  if (rc) return rc;
  if ((rc = kv_txn_begin(&txn, env, KV_TXN_WRITE)) == 0) {
    unsigned char v[WL_VAL_LEN];
    for (uint32_t i = 0; i < WL_KEYS && !rc; i++) {
      for (unsigned b = 8; b < WL_VAL_LEN; b++) v[b] = (unsigned char)(i * 31u + b);
      wl_put32(v, next[i]);
      wl_put32(v + 4, i);
      rc = kv_put(txn, d->keys[i], WL_KEY_LEN, v, WL_VAL_LEN);
    }
    unsigned char *big = malloc(wl_bytes_sizes[wl_bytes_count - 1]);
    for (size_t i = 0; big && i < wl_bytes_count && !rc; i++) {
      unsigned char k[32];
      memset(big, (int)(i + 1), wl_bytes_sizes[i]);
      rc = kv_put(txn, k, wl_bytes_key(k, wl_bytes_sizes[i]), big, wl_bytes_sizes[i]);
    }
    if (!big) rc = KV_E_NO_MEMORY;
    free(big);
    int crc = rc ? kv_txn_abort(txn) : kv_txn_commit(txn);
    kv_txn_free(txn);
    rc = rc ? rc : crc;
  }
  int close_rc = kv_env_close(env);
  unlink(lock); /* each copy gets its own lock file */
  return rc ? rc : close_rc;
}

/* manifest.txt: what the folder holds, for every harness to read: one line per fact, fields
 * separated by tabs (no JSON parser needed in any language). */
static int wl_write_manifest(const char *dir, uint64_t checksum) {
  char path[4096];
  snprintf(path, sizeof path, "%s/manifest.txt", dir);
  FILE *f = fopen(path, "w");
  if (!f) return KV_E_IO;
  fprintf(f, "# ffibench data folder (bench/dataset.h). One fact per line, fields separated by tabs.\n");
  fprintf(f, "format\t%d\n", WL_DATA_FORMAT);
  fprintf(f, "generator\tffibench_dataset (bench/dataset.c), splitmix64 seed %u\n", WL_SEED);
  fprintf(f, "# table\tfile\trows\tbytes per row\n");
  fprintf(f, "db\tbase.kv\t%u\n", WL_KEYS + (unsigned)wl_bytes_count);
  for (size_t t = 0; t < WL_TABLES; t++)
    fprintf(f, "%s\t%s\t%zu\t%zu\n", wl_tables[t].name, wl_tables[t].file, wl_tables[t].rows, wl_tables[t].row);
  fprintf(f, "key_format\tkey:%%012u\n");
  fprintf(f, "value_length\t%u\n", WL_VAL_LEN);
  fprintf(f, "value_layout\tbytes 0..3: u32le index of the next key in one cycle through every key; "
             "4..7: u32le the record's own index; 8..: (index * 31 + position) & 255\n");
  fprintf(f, "bytes_key\tbytes:%%u\n");
  fprintf(f, "bytes_fill\tevery byte is the size's position in the bytes workload's values, plus 1\n");
  fprintf(f, "checksum\tfnv1a64:%016llx\n", (unsigned long long)checksum);
  fprintf(f, "checksum_of\tFNV-1a 64 over keys, order, miss, put_keys, in that order\n");
  fprintf(f, "# workload\tname\tparameter\tvalues\toperations per iteration (a number, or the parameter)\n");
  wl_write_workloads(f);
  return fclose(f) == 0 ? KV_OK : KV_E_IO;
}

int wl_data_create(const char *dir) {
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) return KV_E_IO;
  wl_data d = {0};
  uint32_t *next = malloc(sizeof *next * WL_KEYS);
  unsigned char *scratch = malloc(4 * (size_t)WL_KEYS);
  int rc = next && scratch ? wl_generate(&d, next) : KV_E_NO_MEMORY;
  char db[4096];
  snprintf(db, sizeof db, "%s/base.kv", dir);
  if (!rc && (rc = wl_write_db(db, &d, next)) != 0)
    fprintf(stderr, "ffibench: cannot write %s: %s\n", db, kv_last_error());
  for (size_t t = 0; !rc && t < WL_TABLES; t++)
    rc = wl_write_file(dir, wl_tables[t].file, wl_table_bytes(&d, t, scratch), wl_tables[t].row * wl_tables[t].rows);
  if (!rc) rc = wl_write_manifest(dir, wl_checksum(&d)); /* last: its presence means complete */
  free(next);
  free(scratch);
  wl_data_free(&d);
  return rc;
}

int wl_data_exists(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/manifest.txt", dir);
  return access(path, R_OK) == 0;
}

static int wl_read_file(const char *dir, const char *name, void *p, size_t n) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  int ok = f && fread(p, 1, n, f) == n && fgetc(f) == EOF;
  if (f) fclose(f);
  return ok ? KV_OK : KV_E_IO;
}

/* The checksum the manifest records (its line "checksum<TAB>fnv1a64:HEX"). */
static int wl_manifest_checksum(const char *dir, uint64_t *out) {
  char path[4096], line[512];
  snprintf(path, sizeof path, "%s/manifest.txt", dir);
  FILE *f = fopen(path, "r");
  if (!f) return KV_E_IO;
  int rc = KV_E_CORRUPT;
  unsigned long long v;
  while (rc && fgets(line, sizeof line, f))
    if (sscanf(line, "checksum\tfnv1a64:%16llx", &v) == 1) *out = v, rc = KV_OK;
  fclose(f);
  return rc;
}

int wl_data_load(const char *dir, wl_data *d, const char **why) {
  static _Thread_local char reason[4200];
  memset(d, 0, sizeof *d);
  d->keys = malloc(sizeof *d->keys * WL_KEYS);
  d->order = malloc(sizeof *d->order * WL_KEYS);
  d->miss = malloc(sizeof *d->miss * WL_MISS_KEYS);
  d->put_keys = malloc(sizeof *d->put_keys * WL_PUT_KEYS);
  unsigned char *order = malloc(4 * (size_t)WL_KEYS);
  void *dst[WL_TABLES] = {d->keys, order, d->miss, d->put_keys};
  int rc = d->keys && d->order && d->miss && d->put_keys && order ? KV_OK : KV_E_NO_MEMORY;
  for (size_t t = 0; !rc && t < WL_TABLES; t++) {
    if ((rc = wl_read_file(dir, wl_tables[t].file, dst[t], wl_tables[t].row * wl_tables[t].rows)) != 0)
      snprintf(reason, sizeof reason, "%s/%s is missing or not %zu bytes", dir, wl_tables[t].file,
               wl_tables[t].row * wl_tables[t].rows);
  }
  for (size_t i = 0; !rc && i < WL_KEYS; i++) d->order[i] = wl_get32(order + 4 * i);
  free(order);
  uint64_t want = 0;
  if (!rc && (rc = wl_manifest_checksum(dir, &want)) != 0)
    snprintf(reason, sizeof reason, "%s/manifest.txt is missing or has no checksum", dir);
  if (!rc && (d->checksum = wl_checksum(d)) != want) {
    snprintf(reason, sizeof reason, "%s: checksum %016llx, the manifest says %016llx", dir,
             (unsigned long long)d->checksum, (unsigned long long)want);
    rc = KV_E_CORRUPT;
  }
  if (rc) {
    if (rc == KV_E_NO_MEMORY) snprintf(reason, sizeof reason, "out of memory");
    *why = reason;
    wl_data_free(d);
  }
  return rc;
}

int wl_copy_base(const char *dir, const char *dst) {
  char src[4200], lock[4200];
  snprintf(src, sizeof src, "%s/base.kv", dir);
  snprintf(lock, sizeof lock, "%s-lock", dst);
  unlink(lock);
  int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int rc = (in < 0 || out < 0) ? KV_E_IO : 0;
  char buf[1 << 16];
  ssize_t n;
  while (!rc && (n = read(in, buf, sizeof buf)) != 0) {
    if (n < 0 || write(out, buf, (size_t)n) != n) rc = KV_E_IO;
  }
  if (in >= 0) close(in);
  if (out >= 0 && close(out) != 0) rc = KV_E_IO;
  return rc;
}
