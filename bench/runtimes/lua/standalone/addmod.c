/* addmod.c — the standalone cross-check's own Lua 5.4 C module: kv_add and nothing else (no code
 * shared with kvlua.c). */
#include <kv.h>
#include <lauxlib.h>
#include <lua.h>

static int add(lua_State *L) {
  lua_pushinteger(L, kv_add((int)luaL_checkinteger(L, 1), (int)luaL_checkinteger(L, 2)));
  return 1;
}

__attribute__((visibility("default"))) int luaopen_addmod(lua_State *L) {
  lua_newtable(L);
  lua_pushcfunction(L, add);
  lua_setfield(L, -2, "add");
  return 1;
}
