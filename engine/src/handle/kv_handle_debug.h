/* kv_handle_debug.h — test hooks into the handle table of kv_handle.c. Internal: hidden symbols of
 * libkv (kv__ prefix), reachable only by programs that link libkv.a (tests, fuzzers). Not installed,
 * not part of the ABI. */
#ifndef KV_HANDLE_DEBUG_H
#define KV_HANDLE_DEBUG_H

#include "kv_handle.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A snapshot of the handle table's bookkeeping (taken under its mutex). */
typedef struct kv__handle_stats {
  uint32_t live;    /**< slots holding an object, or reserved for one being created */
  uint32_t free;    /**< slots on the free list */
  uint32_t retired; /**< slots whose generation ran out: never reused */
  uint32_t touched; /**< slots used at least once (the rest have never been handed out) */
} kv__handle_stats;

void kv__handle_debug_stats(kv__handle_stats *out);

/** Sets the generation that the next object placed in slot `index` (0-based: a handle's low 24 bits
 *  minus 1) will carry, so a test can drive a slot to the point where its generation would wrap.
 *  generation must be >= 1.
 *  @return KV_OK; KV_E_INVALID (index out of range, generation 0); KV_E_BUSY (the slot is live or
 *          reserved); KV_E_HANDLE_FULL (the slot is retired). */
int kv__handle_debug_set_generation(uint32_t index, uint32_t generation);

#ifdef __cplusplus
}
#endif
#endif /* KV_HANDLE_DEBUG_H */
