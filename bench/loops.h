/* loops.h — the workload loops, compiled once per row in that row's own translation unit.
 *
 * A row's source (shims/<row>/..., bench/lmdb_row.c, the validation rows) defines its calls as static
 * functions named kvs__<field> (shim.h's convention). The file that includes this header after them
 * gets the loops calling those functions directly — the compiler inlines the row's wrapper, so the
 * timed loop holds the mechanism's own call site: `call kv_add` for direct, `call kv_add@plt` for
 * plt, an indirect call through the resolved pointer for dlopen, `call kvh_get` for the handle ABI,
 * the request encoding and `call kvm_call` for the marshal ABI — and no call through the shim table.
 * WL_LOOPS_DEFINE(var) then defines `const wl_loops var` for the harness. (bench/CMakeLists.txt
 * generates one such file per row of the shim table.)
 *
 * The loops a row gets follow from what it has; define before including, as 0:
 *   WL_ROW_CALLS   noop, add, spin           WL_ROW_WRITES  put (and txn_commit, txn_begin)
 *   WL_ROW_SCAN    scan                      WL_ROW_CURSOR  cursor_open, cursor_next, cursor_close
 *   WL_ROW_BATCH   get_batch                 WL_ROW_READS   get (and the data the loops read)
 * Every loop checks what it gets back (see workloads.h); locals hold what the loop reads each
 * iteration, so the only memory the timed code touches is what the mechanism itself touches. */
#ifndef FFIBENCH_LOOPS_H
#define FFIBENCH_LOOPS_H

#include "workloads.h"

#include <string.h>

#ifndef WL_ROW_CALLS
#define WL_ROW_CALLS 1
#endif
#ifndef WL_ROW_READS
#define WL_ROW_READS 1
#endif
#ifndef WL_ROW_WRITES
#define WL_ROW_WRITES 1
#endif
#ifndef WL_ROW_SCAN
#define WL_ROW_SCAN 1
#endif
#ifndef WL_ROW_CURSOR
#define WL_ROW_CURSOR 1
#endif
#ifndef WL_ROW_BATCH
#define WL_ROW_BATCH 1
#endif

/* An empty statement the compiler must keep: the body of the control loop. */
#define WL__BARRIER() __asm__ volatile("" ::: "memory")

static int wl__run_loop(wl_ctx *c, uint64_t n) {
  (void)c;
  for (uint64_t i = 0; i < n; i++) WL__BARRIER();
  return 0;
}

#if WL_ROW_CALLS
static int wl__run_noop(wl_ctx *c, uint64_t n) {
  const kvs_obj env = c->env;
  for (uint64_t i = 0; i < n; i++) kvs__noop(env);
  return 0;
}

static int wl__run_add_latency(wl_ctx *c, uint64_t n) {
  const kvs_obj env = c->env;
  int x = (int)c->chain; /* each call takes the previous result */
  for (uint64_t i = 0; i < n; i++) x = kvs__add(env, x, 1);
  int want = (int)(uint32_t)(c->chain + n);
  c->chain += n;
  return x == want ? 0 : WL_WRONG_ANSWER;
}

static int wl__run_add_throughput(wl_ctx *c, uint64_t n) {
  const kvs_obj env = c->env;
  unsigned acc = 0; /* independent calls; the results are only summed */
  for (uint64_t i = 0; i < n; i++) acc += (unsigned)kvs__add(env, (int)i, 1);
  unsigned want = 0;
  for (uint64_t i = 0; i < n; i++) want += (unsigned)i + 1u;
  return acc == want ? 0 : WL_WRONG_ANSWER;
}

/* Latency mode: each call starts when the one before has finished, so a spin of 2N iterations costs
 * twice a spin of N (back-to-back independent calls would overlap in the processor and break that). */
static int wl__run_spin(wl_ctx *c, uint64_t n) {
  const kvs_obj env = c->env;
  const uint64_t param = c->param, expect = c->expect;
  uint64_t carry = 0;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t r = kvs__spin(env, param + carry);
    if (r != expect) return WL_WRONG_ANSWER;
    carry = wl_zero_after(r);
  }
  return 0;
}
#endif

#if WL_ROW_READS
/* Gets key i and checks the record's identity; returns the value's next-key field via *next. */
static inline int wl__get_one(kvs_obj txn, const wl_data *d, unsigned char *buf, size_t cap, uint32_t i,
                              uint32_t *next) {
  size_t len;
  int rc = kvs__get(txn, d->keys[i], WL_KEY_LEN, buf, cap, &len);
  if (rc) return rc;
  if (len != WL_VAL_LEN || wl_get32(buf + 4) != i) return WL_WRONG_ANSWER;
  *next = wl_get32(buf);
  return 0;
}

static int wl__run_get_latency(wl_ctx *c, uint64_t n) {
  const kvs_obj txn = c->txn;
  const wl_data *d = c->d;
  unsigned char *buf = c->buf;
  const size_t cap = c->cap;
  uint32_t i = (uint32_t)c->chain; /* the next key comes out of the value just read */
  for (uint64_t k = 0; k < n; k++) {
    int rc = wl__get_one(txn, d, buf, cap, i, &i);
    if (rc) return rc;
  }
  c->chain = i;
  return 0;
}

static int wl__run_get_throughput(wl_ctx *c, uint64_t n) {
  const kvs_obj txn = c->txn;
  const wl_data *d = c->d;
  unsigned char *buf = c->buf;
  const size_t cap = c->cap;
  uint64_t at = c->chain;
  for (uint64_t k = 0; k < n; k++) {
    uint32_t next;
    int rc = wl__get_one(txn, d, buf, cap, d->order[at++ % WL_KEYS], &next);
    if (rc) return rc;
  }
  c->chain = at;
  return 0;
}

static int wl__run_get_miss(wl_ctx *c, uint64_t n) {
  const kvs_obj txn = c->txn;
  const wl_data *d = c->d;
  uint64_t at = c->chain;
  for (uint64_t k = 0; k < n; k++) {
    size_t len;
    int rc = kvs__get(txn, d->miss[at++ % WL_MISS_KEYS], WL_KEY_LEN, c->buf, c->cap, &len);
    if (rc != KV_E_NOT_FOUND) return rc ? rc : WL_WRONG_ANSWER;
  }
  c->chain = at;
  return 0;
}

static int wl__run_bytes(wl_ctx *c, uint64_t n) {
  const kvs_obj txn = c->txn;
  const unsigned char *key = c->keys;
  const size_t key_len = c->key_len, size = c->param;
  unsigned char *buf = c->buf;
  const size_t cap = c->cap;
  for (uint64_t k = 0; k < n; k++) {
    size_t len;
    int rc = kvs__get(txn, key, key_len, buf, cap, &len);
    if (rc) return rc;
    if (len != size) return WL_WRONG_ANSWER;
  }
  return 0;
}
#endif

#if WL_ROW_WRITES
static int wl__run_put(wl_ctx *c, uint64_t n) {
  unsigned char v[WL_VAL_LEN];
  memset(v, 0x5a, sizeof v);
  const wl_data *d = c->d;
  for (uint64_t k = 0; k < n; k++) {
    int rc = kvs__put(c->txn, d->put_keys[c->done % WL_PUT_KEYS], WL_KEY_LEN, v, WL_VAL_LEN);
    if (rc) return rc;
    if (++c->done % c->param == 0) { /* commit every param puts; no-sync */
      if ((rc = kvs__txn_commit(c->txn)) != 0) return rc;
      c->txn = 0;
      if ((rc = kvs__txn_begin(&c->txn, c->env, KV_TXN_WRITE)) != 0) return rc;
    }
  }
  return 0;
}
#endif

#if WL_ROW_SCAN
typedef struct wl__scan_state {
  size_t n, bad;
} wl__scan_state;

static int wl__scan_cb(const void *k, size_t kl, const void *v, size_t vl, void *payload) {
  wl__scan_state *st = payload;
  (void)k, (void)v;
  st->bad += (kl != WL_KEY_LEN) | (vl != WL_VAL_LEN);
  st->n++;
  return 0;
}

static int wl__run_scan_upcall(wl_ctx *c, uint64_t n) {
  const unsigned char *lo = c->d->keys[0], *hi = c->d->keys[WL_SCAN_RECORDS];
  for (uint64_t k = 0; k < n; k++) {
    wl__scan_state st = {0, 0};
    size_t count;
    int rc = kvs__scan(c->txn, lo, WL_KEY_LEN, hi, WL_KEY_LEN, wl__scan_cb, &st, &count);
    if (rc) return rc;
    if (st.n != WL_SCAN_RECORDS || count != WL_SCAN_RECORDS || st.bad) return WL_WRONG_ANSWER;
  }
  return 0;
}
#endif

#if WL_ROW_CURSOR
static int wl__run_scan_downcall(wl_ctx *c, uint64_t n) {
  unsigned char *kb = c->buf, *vb = c->buf + WL_VAL_LEN;
  const unsigned char *start = c->d->keys[0];
  for (uint64_t k = 0; k < n; k++) {
    kvs_obj cur;
    int rc = kvs__cursor_open(&cur, c->txn, start, WL_KEY_LEN);
    if (rc) return rc;
    size_t got = 0, kl, vl;
    while (got < WL_SCAN_RECORDS &&
           (rc = kvs__cursor_next(cur, kb, WL_VAL_LEN, &kl, vb, WL_VAL_LEN, &vl)) == 0)
      got += (kl == WL_KEY_LEN && vl == WL_VAL_LEN);
    int crc = kvs__cursor_close(cur);
    if (rc || crc) return rc ? rc : crc;
    if (got != WL_SCAN_RECORDS) return WL_WRONG_ANSWER;
  }
  return 0;
}
#endif

#if WL_ROW_BATCH
static int wl__run_batch(wl_ctx *c, uint64_t n) {
  const wl_data *d = c->d;
  for (uint64_t k = 0; k < n; k++) {
    for (size_t i = 0; i < c->param; i++)
      memcpy(c->keys + i * WL_KEY_LEN, d->keys[d->order[(c->chain + i) % WL_KEYS]], WL_KEY_LEN);
    c->chain += c->param;
    size_t found;
    int rc = kvs__get_batch(c->txn, c->param, c->keys, c->key_lens, c->buf, c->cap, c->val_lens, &found);
    if (rc) return rc;
    if (found != c->param || wl_get32(c->buf + 4) != d->order[(c->chain - c->param) % WL_KEYS])
      return WL_WRONG_ANSWER;
  }
  return 0;
}
#endif

#define WL__IF_1(x) x,
#define WL__IF_0(x)
#define WL__IF(flag, x) WL__IF2(flag, x)
#define WL__IF2(flag, x) WL__IF_##flag(x)

/* The row's loops, by workload (workloads.h's wl_loop_id), and its own init (NULL: none). */
#define WL_LOOPS_DEFINE(var, row_init)                                                             \
  const wl_loops var = {                                                                           \
      .init = row_init,                                                                            \
      .run = {[WL_LOOP_CONTROL] = wl__run_loop,                                                    \
              WL__IF(WL_ROW_CALLS, [WL_LOOP_NOOP] = wl__run_noop)                                  \
              WL__IF(WL_ROW_CALLS, [WL_LOOP_ADD_LATENCY] = wl__run_add_latency)                    \
              WL__IF(WL_ROW_CALLS, [WL_LOOP_ADD_THROUGHPUT] = wl__run_add_throughput)              \
              WL__IF(WL_ROW_CALLS, [WL_LOOP_SPIN] = wl__run_spin)                                  \
              WL__IF(WL_ROW_READS, [WL_LOOP_GET_LATENCY] = wl__run_get_latency)                    \
              WL__IF(WL_ROW_READS, [WL_LOOP_GET_THROUGHPUT] = wl__run_get_throughput)              \
              WL__IF(WL_ROW_READS, [WL_LOOP_GET_MISS] = wl__run_get_miss)                          \
              WL__IF(WL_ROW_READS, [WL_LOOP_BYTES] = wl__run_bytes)                                \
              WL__IF(WL_ROW_WRITES, [WL_LOOP_PUT] = wl__run_put)                                   \
              WL__IF(WL_ROW_SCAN, [WL_LOOP_SCAN_UPCALL] = wl__run_scan_upcall)                     \
              WL__IF(WL_ROW_CURSOR, [WL_LOOP_SCAN_DOWNCALL] = wl__run_scan_downcall)               \
              WL__IF(WL_ROW_BATCH, [WL_LOOP_BATCH] = wl__run_batch)},                              \
  }

#endif /* FFIBENCH_LOOPS_H */
