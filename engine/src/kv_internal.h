/* kv_internal.h — what libkv's own translation units (engine, handle ABI, marshal ABI) share.
 * Not installed; nothing here is part of the ABI. Non-static internal names use the kv__ prefix and
 * hidden visibility (libkv.a's test programs may still link them). */
#ifndef KV_INTERNAL_H
#define KV_INTERNAL_H

#include "kv.h"

#include <pthread.h>
#include <stdint.h>

#if defined(__GNUC__)
#define KV__COLD __attribute__((cold, noinline))
#define KV__PRINTF(f, a) __attribute__((format(printf, f, a)))
#define KV__LIKELY(x) __builtin_expect(!!(x), 1)
#define KV__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define KV__COLD
#define KV__PRINTF(f, a)
#define KV__LIKELY(x) (x)
#define KV__UNLIKELY(x) (x)
#endif

/** Records a failure in the calling thread's last-error buffer and returns code, so a failing path
 *  reads `return kv__fail(KV_E_INVALID, "kv_put: key is NULL");`. The message is prefixed with the
 *  code's name. Cold: kept off the hot path. */
KV__COLD KV__PRINTF(2, 3) int kv__fail(int code, const char *fmt, ...);

/** Records a static message (which must live forever) as the last error and returns code: for the
 *  outcomes met in normal use — not found, done — which must not pay for formatting. */
int kv__fail_static(int code, const char *msg);

/** An identifier of the calling thread, unique among live threads and cheap to read: the thread
 *  pointer (one instruction on x86-64 and AArch64), else pthread_self(). Used for the ownership
 *  checks of transactions and cursors. */
static inline uintptr_t kv__thread_id(void) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__aarch64__))
  return (uintptr_t)__builtin_thread_pointer();
#else
  return (uintptr_t)pthread_self();
#endif
}

/** The thread that owns an active transaction (0 when the transaction has ended). Lets the handle
 *  ABI check ownership without a second copy of the rule. */
uintptr_t kv__txn_owner(const kv_txn *txn);

/** Whether txn is active (begun or renewed, not ended). */
int kv__txn_active(const kv_txn *txn);

/** Whether cur's transaction is active and owned by the calling thread. */
int kv__cursor_mine(const kv_cursor *cur);

#endif /* KV_INTERNAL_H */
