/* lmdb_row.c — the raw-LMDB baseline (c/lmdb/...): the same reads as the engine's, straight on
 * mdb_*, with the engine's environment flags, a reused read transaction and the same copy into the
 * caller's buffer — so c/direct/get minus c/lmdb/get is what the engine itself adds.
 * Only the functions the get workloads call are provided; the harness skips the rest. The loops are
 * compiled here, over these functions (loops.h): the reads only. */
#include "workloads.h"

#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

typedef struct lmdb_env {
  MDB_env *env;
  MDB_dbi dbi;
} lmdb_env;

typedef struct lmdb_txn {
  MDB_txn *txn;
  MDB_dbi dbi;
} lmdb_txn;

static int kvs__env_open(kvs_obj *out, const char *path, const kv_options *opts) {
  lmdb_env *e = calloc(1, sizeof *e);
  MDB_txn *t;
  unsigned flags = MDB_NOSUBDIR | MDB_NOTLS;
  if (opts && opts->durability == KV_DURABLE_NOSYNC) flags |= MDB_NOSYNC | MDB_NOMETASYNC;
  if (!e || mdb_env_create(&e->env)) return free(e), KV_E_NO_MEMORY;
  if (mdb_env_set_mapsize(e->env, opts && opts->map_size ? opts->map_size : KV_MAP_SIZE_DEFAULT) ||
      mdb_env_open(e->env, path, flags, 0644) || mdb_txn_begin(e->env, NULL, MDB_RDONLY, &t)) {
    mdb_env_close(e->env);
    free(e);
    return KV_E_IO;
  }
  int rc = mdb_dbi_open(t, NULL, 0, &e->dbi);
  mdb_txn_abort(t);
  if (rc) {
    mdb_env_close(e->env);
    free(e);
    return KV_E_IO;
  }
  *out = (kvs_obj)(uintptr_t)e;
  return KV_OK;
}

static int kvs__env_close(kvs_obj env) {
  lmdb_env *e = (lmdb_env *)(uintptr_t)env;
  mdb_env_close(e->env);
  free(e);
  return KV_OK;
}

static int kvs__txn_begin(kvs_obj *out, kvs_obj env, unsigned flags) {
  lmdb_env *e = (lmdb_env *)(uintptr_t)env;
  lmdb_txn *t = malloc(sizeof *t);
  if (!t) return KV_E_NO_MEMORY;
  if (mdb_txn_begin(e->env, NULL, flags & KV_TXN_WRITE ? 0 : MDB_RDONLY, &t->txn)) {
    free(t);
    return KV_E_IO;
  }
  t->dbi = e->dbi;
  *out = (kvs_obj)(uintptr_t)t;
  return KV_OK;
}

static int kvs__txn_abort(kvs_obj txn) {
  lmdb_txn *t = (lmdb_txn *)(uintptr_t)txn;
  mdb_txn_abort(t->txn);
  free(t);
  return KV_OK;
}

static int kvs__get(kvs_obj txn, const void *key, size_t key_len, void *buf, size_t cap,
                    size_t *len) {
  const lmdb_txn *t = (const lmdb_txn *)(uintptr_t)txn;
  MDB_val k = {key_len, (void *)(uintptr_t)key}, v;
  int rc = mdb_get(t->txn, t->dbi, &k, &v);
  if (rc) return rc == MDB_NOTFOUND ? KV_E_NOT_FOUND : KV_E_INTERNAL;
  *len = v.mv_size;
  if (v.mv_size > cap) return KV_E_BUFFER_TOO_SMALL;
  memcpy(buf, v.mv_data, v.mv_size);
  return KV_OK;
}

const kvs_shim wl_lmdb_row = {
    .name = "lmdb",
    .env_open = kvs__env_open,
    .env_close = kvs__env_close,
    .txn_begin = kvs__txn_begin,
    .txn_abort = kvs__txn_abort,
    .get = kvs__get,
};

#define WL_ROW_CALLS 0
#define WL_ROW_WRITES 0
#define WL_ROW_SCAN 0
#define WL_ROW_CURSOR 0
#define WL_ROW_BATCH 0
#include "loops.h"
WL_LOOPS_DEFINE(wl_loops_lmdb, NULL);
