/* dataset.h — the one data set every harness reads, generated once by ffibench_dataset.
 *
 * A data folder holds:
 *   base.kv        the LMDB file: WL_KEYS records keys[i] -> a WL_VAL_LEN-byte value (bytes 0..3: the
 *                  index of the next key in one random cycle through every key, as u32 little-endian;
 *                  4..7: the record's own index; 8..: (i * 31 + b) & 255), and one record "bytes:N"
 *                  of N bytes for each N of wl_bytes_sizes (every byte the size's position + 1);
 *   keys.bin       the record keys, WL_KEYS x WL_KEY_LEN bytes, in index order ("key:%012u");
 *   order.u32      a random permutation of the indices (u32 little-endian): the throughput and
 *                  batch order;
 *   miss.bin       WL_MISS_KEYS keys that are not in the store;
 *   put.bin        WL_PUT_KEYS keys the put workload writes ("put:%012u");
 *   manifest.txt   what the files are, their checksum, and the workload vocabulary (every workload's
 *                  name, parameter, values and operations per iteration): one fact per line, fields
 *                  separated by tabs, so a harness in any language reads it without a JSON parser.
 * Every harness loads these files (never re-derives them) and proves it by the checksum: FNV-1a
 * (64-bit) over keys.bin, order.u32, miss.bin and put.bin, in that order, as loaded.
 * Each process works on its own copy of base.kv (LMDB: one open per file per process; and a put
 * must not change what the next process reads). */
#ifndef FFIBENCH_DATASET_H
#define FFIBENCH_DATASET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WL_KEYS 100000u
#define WL_KEY_LEN 16u
#define WL_VAL_LEN 64u
#define WL_MISS_KEYS 4096u
#define WL_PUT_KEYS 10000u
#define WL_SCAN_RECORDS 1024u /* records per scan iteration */
#define WL_PUT_EVERY 100u     /* the put workload commits every this many puts */
#define WL_DATA_FORMAT 1

/** Value sizes of the `bytes` records, and how many there are. */
extern const size_t wl_bytes_sizes[];
extern const size_t wl_bytes_count;

/** The loaded tables. */
typedef struct wl_data {
  unsigned char (*keys)[WL_KEY_LEN];     /* WL_KEYS */
  uint32_t *order;                       /* WL_KEYS */
  unsigned char (*miss)[WL_KEY_LEN];     /* WL_MISS_KEYS */
  unsigned char (*put_keys)[WL_KEY_LEN]; /* WL_PUT_KEYS */
  uint64_t checksum;                     /* FNV-1a 64 over the four tables, as loaded */
} wl_data;

/** Writes a data folder into dir (created if missing; old files replaced). 0, or a kv error with a
 *  reason in kv_last_error()'s style on stderr. */
int wl_data_create(const char *dir);

/** Loads dir's tables into *d and checks them against its manifest's checksum. 0, or a kv error
 *  (KV_E_IO when a file is missing or short, KV_E_CORRUPT when the checksum differs); *why names it. */
int wl_data_load(const char *dir, wl_data *d, const char **why);

/** Whether dir holds a data folder of this format (its manifest exists). */
int wl_data_exists(const char *dir);

void wl_data_free(wl_data *d);

/** FNV-1a 64-bit over n bytes, continuing from h (start with WL_FNV_OFFSET). */
#define WL_FNV_OFFSET 0xcbf29ce484222325u
uint64_t wl_fnv1a(uint64_t h, const void *p, size_t n);

/** The key of bytes record n ("bytes:N") into out (at least 32 bytes); returns its length. */
size_t wl_bytes_key(unsigned char *out, size_t n);

/** Writes the workload vocabulary into a manifest (one "workload" line per workload; workloads.c). */
void wl_write_workloads(FILE *f);

/** Copies the data set's base.kv to dst (a fresh copy per process and row). 0 or KV_E_IO. */
int wl_copy_base(const char *dir, const char *dst);

#ifdef __cplusplus
}
#endif
#endif /* FFIBENCH_DATASET_H */
