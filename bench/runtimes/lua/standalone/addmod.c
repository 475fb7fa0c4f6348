/* addmod.c — the standalone cross-check's own Lua 5.4 C module: kv_add, and a monotonic clock (Lua
 * 5.4 has none of its own); no code shared with kvlua.c or kvutil.c. */
#define _POSIX_C_SOURCE 200809L
#include <kv.h>
#include <time.h>
#include <lauxlib.h>
#include <lua.h>

static int add(lua_State *L) {
  lua_pushinteger(L, kv_add((int)luaL_checkinteger(L, 1), (int)luaL_checkinteger(L, 2)));
  return 1;
}

static int now(lua_State *L) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  lua_pushnumber(L, (lua_Number)t.tv_sec * 1e9 + (lua_Number)t.tv_nsec);
  return 1;
}

__attribute__((visibility("default"))) int luaopen_addmod(lua_State *L) {
  lua_newtable(L);
  lua_pushcfunction(L, add);
  lua_setfield(L, -2, "add");
  lua_pushcfunction(L, now);
  lua_setfield(L, -2, "now");
  return 1;
}
