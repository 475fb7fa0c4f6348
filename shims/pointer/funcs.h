/* funcs.h — every kv.h function a pointer row calls (the dlopen row resolves exactly these). */
#ifndef FFIBENCH_POINTER_FUNCS_H
#define FFIBENCH_POINTER_FUNCS_H

#define KVS_POINTER_FUNCS(X)                                                                       \
  X(noop) X(add) X(spin) X(env_open) X(env_close) X(txn_begin) X(txn_commit) X(txn_abort)          \
  X(txn_free) X(put) X(get) X(del) X(get_batch) X(env_put) X(env_get) X(env_del) X(cursor_open)    \
  X(cursor_next) X(cursor_close) X(scan)

#endif
