/* kvlua.c — libkv as a C module on the Lua C API: the `capi` mechanism of the Lua runtimes.
 *
 * One source, compiled by ./build twice, against each Lua's own headers: LuaJIT's (the Lua 5.1 API)
 * and Lua 5.4's; each result is {out}/<lua>/kvlua.so, linked to libkv.so (rpath to its folder).
 * It is what a Lua user would write by hand: every function takes and returns Lua values, converts
 * them in C (lightuserdata for kv_env / kv_txn, Lua strings for keys and values), and reports
 * engine errors as (nil, code).
 *
 *   kvlua.noop()                          kv_noop()
 *   kvlua.add(a, b)                -> n   kv_add(a, b)
 *   kvlua.env_open(path, map, dur) -> env | nil, rc     kv_env_close(env) -> rc
 *   kvlua.txn_begin(env, flags)    -> txn | nil, rc     kvlua.txn_end(txn, commit) -> rc (and frees)
 *   kvlua.get(txn, key)            -> value (a new Lua string, from kv_get_ref) | nil, rc
 *   kvlua.put(txn, key, value)     -> rc
 *   kvlua.scan(txn, lo, hi, fn)    -> count | nil, rc   fn(key_len, val_len) per record (an upcall
 *                                     through lua_pcall; an error in fn stops the scan and is raised
 *                                     after kv_scan has returned, never thrown across libkv)
 *   kvlua.get_batch(txn, keys, n, key_len) -> found, values (one string: the n values packed) | nil, rc
 *
 * The worker's clocks and checksum are in kvutil.c, a module of their own that does not load libkv.
 */
#include <kv.h>

#include <lauxlib.h>
#include <lua.h>

#include <stdlib.h>
#include <string.h>

static int fail(lua_State *L, int rc) {
  lua_pushnil(L);
  lua_pushinteger(L, rc);
  return 2;
}

static void *check_ptr(lua_State *L, int i, const char *what) {
  void *p = lua_touserdata(L, i);
  if (!p || lua_type(L, i) != LUA_TLIGHTUSERDATA) luaL_argerror(L, i, what);
  return p;
}

static int l_noop(lua_State *L) {
  (void)L;
  kv_noop();
  return 0;
}

static int l_add(lua_State *L) {
  int a = (int)luaL_checkinteger(L, 1), b = (int)luaL_checkinteger(L, 2);
  lua_pushinteger(L, kv_add(a, b));
  return 1;
}

static int l_env_open(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  kv_options o;
  kv_options_init(&o);
  o.map_size = (uint64_t)luaL_checkinteger(L, 2);
  o.durability = (uint32_t)luaL_checkinteger(L, 3);
  kv_env *env;
  int rc = kv_env_open(&env, path, &o);
  if (rc) return fail(L, rc);
  lua_pushlightuserdata(L, env);
  return 1;
}

static int l_env_close(lua_State *L) {
  lua_pushinteger(L, kv_env_close(check_ptr(L, 1, "kv_env expected")));
  return 1;
}

static int l_txn_begin(lua_State *L) {
  kv_env *env = check_ptr(L, 1, "kv_env expected");
  kv_txn *txn;
  int rc = kv_txn_begin(&txn, env, (unsigned)luaL_checkinteger(L, 2));
  if (rc) return fail(L, rc);
  lua_pushlightuserdata(L, txn);
  return 1;
}

static int l_txn_end(lua_State *L) {
  kv_txn *txn = check_ptr(L, 1, "kv_txn expected");
  int rc = lua_toboolean(L, 2) ? kv_txn_commit(txn) : kv_txn_abort(txn);
  int frc = kv_txn_free(txn);
  lua_pushinteger(L, rc ? rc : frc);
  return 1;
}

static int l_get(lua_State *L) {
  kv_txn *txn = check_ptr(L, 1, "kv_txn expected");
  size_t kl;
  const char *key = luaL_checklstring(L, 2, &kl);
  const void *v;
  size_t vl;
  int rc = kv_get_ref(txn, key, kl, &v, &vl);
  if (rc) return fail(L, rc);
  lua_pushlstring(L, v, vl);
  return 1;
}

static int l_put(lua_State *L) {
  kv_txn *txn = check_ptr(L, 1, "kv_txn expected");
  size_t kl, vl;
  const char *key = luaL_checklstring(L, 2, &kl), *val = luaL_checklstring(L, 3, &vl);
  lua_pushinteger(L, kv_put(txn, key, kl, val, vl));
  return 1;
}

typedef struct scan_state {
  lua_State *L;
  int fn;     /* stack index of the Lua function */
  int failed; /* fn raised an error: its message is on the stack */
} scan_state;

static int scan_cb(const void *k, size_t kl, const void *v, size_t vl, void *payload) {
  scan_state *st = payload;
  lua_State *L = st->L;
  (void)k, (void)v;
  lua_pushvalue(L, st->fn);
  lua_pushinteger(L, (lua_Integer)kl);
  lua_pushinteger(L, (lua_Integer)vl);
  if (lua_pcall(L, 2, 0, 0) != 0) {
    st->failed = 1;
    return 1; /* stops the scan; the error is raised once kv_scan has returned */
  }
  return 0;
}

static int l_scan(lua_State *L) {
  kv_txn *txn = check_ptr(L, 1, "kv_txn expected");
  size_t lol, hil;
  const char *lo = luaL_checklstring(L, 2, &lol), *hi = luaL_checklstring(L, 3, &hil);
  luaL_checktype(L, 4, LUA_TFUNCTION);
  lua_settop(L, 4);
  scan_state st = {L, 4, 0};
  size_t count = 0;
  int rc = kv_scan(txn, lo, lol, hi, hil, scan_cb, &st, &count);
  if (st.failed) return lua_error(L);
  if (rc) return fail(L, rc);
  lua_pushinteger(L, (lua_Integer)count);
  return 1;
}

/* get_batch's buffers, kept between calls (one Lua state per process: the worker's). */
static struct {
  size_t n, cap;
  size_t *key_lens, *val_lens;
  unsigned char *buf;
} batch;

static int l_get_batch(lua_State *L) {
  kv_txn *txn = check_ptr(L, 1, "kv_txn expected");
  size_t keys_len;
  const char *keys = luaL_checklstring(L, 2, &keys_len);
  size_t n = (size_t)luaL_checkinteger(L, 3), kl = (size_t)luaL_checkinteger(L, 4);
  if (n == 0 || kl == 0 || keys_len < n * kl) return luaL_error(L, "get_batch: %d keys of %d bytes expected", (int)n, (int)kl);
  size_t cap = n * 4096;
  if (n > batch.n || cap > batch.cap) {
    free(batch.key_lens), free(batch.val_lens), free(batch.buf);
    batch.key_lens = malloc(n * sizeof(size_t));
    batch.val_lens = malloc(n * sizeof(size_t));
    batch.buf = malloc(cap);
    batch.n = n, batch.cap = cap;
    if (!batch.key_lens || !batch.val_lens || !batch.buf) {
      batch.n = batch.cap = 0;
      return fail(L, KV_E_NO_MEMORY);
    }
  }
  for (size_t i = 0; i < n; i++) batch.key_lens[i] = kl;
  size_t found = 0;
  int rc = kv_get_batch(txn, n, keys, batch.key_lens, batch.buf, batch.cap, batch.val_lens, &found);
  if (rc) return fail(L, rc);
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += batch.val_lens[i];
  lua_pushinteger(L, (lua_Integer)found);
  lua_pushlstring(L, (const char *)batch.buf, total);
  return 2;
}

static const luaL_Reg kvlua_fns[] = {
    {"noop", l_noop},           {"add", l_add},         {"env_open", l_env_open},
    {"env_close", l_env_close}, {"txn_begin", l_txn_begin}, {"txn_end", l_txn_end},
    {"get", l_get},             {"put", l_put},         {"scan", l_scan},
    {"get_batch", l_get_batch},
    {NULL, NULL}};

__attribute__((visibility("default"))) int luaopen_kvlua(lua_State *L) {
#if LUA_VERSION_NUM >= 502
  luaL_newlib(L, kvlua_fns);
#else
  lua_newtable(L);
  luaL_register(L, NULL, kvlua_fns);
#endif
  lua_pushstring(L, LUA_VERSION);
  lua_setfield(L, -2, "compiled_for");
  return 1;
}
