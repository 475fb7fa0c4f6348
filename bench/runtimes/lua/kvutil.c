/* kvutil.c — the Lua workers' clocks and checksum, as a C module that does not load libkv (so a
 * first-call timing can read the clock before anything of the binding is touched). Not a binding:
 * nothing here runs inside a timed loop.
 *
 *   kvutil.wall()        -> ns of CLOCK_MONOTONIC (an integer)
 *   kvutil.cpu()         -> ns of CLOCK_THREAD_CPUTIME_ID (the calling thread's CPU time)
 *   kvutil.release       LUA_RELEASE of the headers it was built with ("Lua 5.4.4")
 *   kvutil.fnv1a64(h, s) -> h': FNV-1a 64 over the bytes of s, continued from state h (16 hex digits)
 */
#define _POSIX_C_SOURCE 200809L
#include <lauxlib.h>
#include <lua.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int push_clock(lua_State *L, clockid_t id) {
  struct timespec t;
  if (clock_gettime(id, &t) != 0) return luaL_error(L, "clock_gettime(%d) failed", (int)id);
  lua_pushinteger(L, (lua_Integer)t.tv_sec * 1000000000 + t.tv_nsec);
  return 1;
}

static int l_wall(lua_State *L) { return push_clock(L, CLOCK_MONOTONIC); }
static int l_cpu(lua_State *L) { return push_clock(L, CLOCK_THREAD_CPUTIME_ID); }

static int l_fnv1a64(lua_State *L) {
  const char *hex = luaL_checkstring(L, 1);
  size_t n;
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 2, &n);
  uint64_t h = strtoull(hex, NULL, 16);
  for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ull;
  char out[17];
  snprintf(out, sizeof out, "%016" PRIx64, h);
  lua_pushstring(L, out);
  return 1;
}

static const luaL_Reg kvutil_fns[] = {{"wall", l_wall}, {"cpu", l_cpu}, {"fnv1a64", l_fnv1a64}, {NULL, NULL}};

__attribute__((visibility("default"))) int luaopen_kvutil(lua_State *L) {
#if LUA_VERSION_NUM >= 502
  luaL_newlib(L, kvutil_fns);
#else
  lua_newtable(L);
  luaL_register(L, NULL, kvutil_fns);
#endif
  lua_pushstring(L, LUA_RELEASE);
  lua_setfield(L, -2, "release");
  return 1;
}
