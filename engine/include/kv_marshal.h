/* kv_marshal.h — the marshal ABI: the engine behind one entry point that takes a request as bytes
 * and writes its response as bytes, as a runtime marshals non-blittable arguments.
 *
 * For callers that can pass a byte buffer and little else — an interpreter, a message queue, a
 * runtime whose FFI copies everything anyway — every engine operation is one call:
 *
 *   uint8_t req[] = {KVM_VERSION, KVM_OP_ADD, 2,0,0,0, 3,0,0,0};   (ADD 2 3)
 *   uint8_t resp[8];
 *   size_t n;
 *   int rc = kvm_call(req, sizeof req, resp, sizeof resp, &n);
 *   (rc == KV_OK, n == 8, resp == {0,0,0,0, 5,0,0,0}: status 0, sum 5)
 *
 * A request is a 2-byte header (version, operation) followed by the operation's arguments; a
 * response is a 4-byte status followed by the operation's results. Integers are little-endian and
 * fixed-width, byte strings are length-prefixed, nothing is aligned or padded. The complete wire
 * format — every operation's layout with byte offsets, the errors, a worked example — is
 * engine/doc/PROTOCOL.md (installed as share/doc/libkv/PROTOCOL.md); a binding needs that document, kv.h (error codes, limits) and this file.
 *
 * OBJECTS
 *   Environments, transactions and cursors travel as handles of the handle ABI (kv_handle.h): u64
 *   values checked against a generation-counted table on every call. A forged, stale or mistyped
 *   handle in a request is an error status (KV_E_BAD_HANDLE, KV_E_HANDLE_TYPE), never a crash, and
 *   the handles a request returns may be used with the kvh_* functions as well, and vice versa.
 *
 * SAFETY
 *   kvm_call reads at most req_len bytes of req and writes at most resp_cap bytes of resp, whatever
 *   the bytes say. Every declared length is checked against the bytes actually present before it is
 *   used; a malformed request is an error status, never an out-of-bounds access.
 *
 * THREADS
 *   kvm_call is reentrant and keeps no state of its own; the rules are those of the objects named in
 *   the request (kv.h, kv_handle.h): a transaction and its cursors belong to the thread that began it.
 *   RELEASE (kvh_release) releases any handle from any thread: the operation for a finalizer.
 */
#ifndef KV_MARSHAL_H
#define KV_MARSHAL_H

#include "kv.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Version of the wire format this header describes: byte 0 of every request. A request of another
 *  version is refused with KV_E_VERSION. A new version may change any layout; within a version,
 *  layouts never change (new operations get new codes). */
#define KVM_VERSION 1

/** Bytes of the request header: u8 version, u8 op. */
#define KVM_HEADER_SIZE 2u
/** Bytes of the status that starts every response (i32). The smallest response. */
#define KVM_STATUS_SIZE 4u

/* ---------------------------------------------------------------------------------------------- */
/* Operations: byte 1 of a request. X(NAME, code). Codes are stable and never reused.              */
/* Request arguments -> response results, in wire order (PROTOCOL.md has the byte offsets).        */
/* `bytes` is u32 length + the bytes; `opt bytes` is u8 present (0 or 1) + `bytes` when present;  */
/* `record` is u32 key_len, u32 val_len, the value's bytes, the key's bytes.                       */
#define KVM_OP_MAP(X)                                                                              \
  X(NOOP,             0x00) /* -                                          -> -                  */ \
  X(ADD,              0x01) /* i32 a, i32 b                               -> i32 a+b (wrapping) */ \
  X(SPIN,             0x02) /* u64 n                                      -> u64 kv_spin(n)     */ \
  X(ENV_OPEN,         0x10) /* bytes path, u32 version, u32 flags, u64 map_size,                   \
                               u32 durability, u32 reserved (kv_options)   -> u64 env            */ \
  X(ENV_CLOSE,        0x11) /* u64 env                                    -> -                  */ \
  X(ENV_SET_MAP_SIZE, 0x12) /* u64 env, u64 size                          -> -                  */ \
  X(ENV_PUT,          0x13) /* u64 env, bytes key, bytes value            -> -                  */ \
  X(ENV_GET,          0x14) /* u64 env, bytes key                         -> bytes value        */ \
  X(ENV_DEL,          0x15) /* u64 env, bytes key                         -> -                  */ \
  X(ENV_SYNC,         0x16) /* u64 env                                    -> -                  */ \
  X(ENV_MAP_SIZE,     0x17) /* u64 env                                    -> u64 size           */ \
  X(TXN_BEGIN,        0x20) /* u64 env, u32 flags (KV_TXN_*)              -> u64 txn            */ \
  X(TXN_COMMIT,       0x21) /* u64 txn                                    -> -                  */ \
  X(TXN_ABORT,        0x22) /* u64 txn                                    -> -                  */ \
  X(TXN_RESET,        0x23) /* u64 txn                                    -> -                  */ \
  X(TXN_RENEW,        0x24) /* u64 txn                                    -> -                  */ \
  X(TXN_IS_WRITE,     0x25) /* u64 txn                                    -> u8 1 write, 0 read */ \
  X(PUT,              0x30) /* u64 txn, bytes key, bytes value            -> -                  */ \
  X(GET,              0x31) /* u64 txn, bytes key                         -> bytes value        */ \
  X(DEL,              0x32) /* u64 txn, bytes key                         -> -                  */ \
  X(GET_BATCH,        0x33) /* u64 txn, u32 n, u32 key_len[n], key bytes  -> u32 n, u32 found,     \
                               u8 hit[n], u32 val_len[n], value bytes                            */ \
  X(SCAN,             0x34) /* u64 txn, opt bytes lo, opt bytes hi        -> u32 count, records  */ \
  X(CURSOR_OPEN,      0x40) /* u64 txn, opt bytes start                   -> u64 cursor         */ \
  X(CURSOR_NEXT,      0x41) /* u64 cursor, u32 key_cap, u32 val_cap       -> record             */ \
  X(CURSOR_CLOSE,     0x42) /* u64 cursor                                 -> -                  */ \
  X(RELEASE,          0x50) /* u64 handle of any type, from any thread    -> -  (kvh_release)   */

typedef enum kvm_op {
#define KVM__OP_ENUM(name, code) KVM_OP_##name = (code),
  KVM_OP_MAP(KVM__OP_ENUM)
#undef KVM__OP_ENUM
} kvm_op;

/* ---------------------------------------------------------------------------------------------- */
/* Limits of the marshal ABI (the engine's own are in kv.h: KV_KEY_MAX, KV_VALUE_MAX).            */

/** Longest ENV_OPEN path, in bytes (no terminator travels; a NUL byte inside is KV_E_INVALID). */
#define KVM_PATH_MAX 4095u
/** Most keys in one GET_BATCH request (more: KV_E_INVALID). */
#define KVM_BATCH_MAX 65536u
/** CURSOR_NEXT key_cap / val_cap meaning "any length the response buffer can hold". */
#define KVM_CAP_ANY 0xffffffffu

/* ---------------------------------------------------------------------------------------------- */
/* The entry point                                                                                 */

/** Decodes the request in req[0, req_len), performs it, and encodes the response into
 *  resp[0, resp_cap).
 *
 * @param[in]  req       the request; NULL only with req_len 0. Must not overlap resp.
 * @param[in]  req_len   its length in bytes: exactly one request, no trailing bytes.
 * @param[out] resp      the response buffer; NULL only with resp_cap 0 (a size query).
 * @param[in]  resp_cap  its capacity in bytes.
 * @param[out] resp_len  receives the response's length (may be NULL):
 *                       - KV_OK: the bytes written to resp.
 *                       - KV_E_BUFFER_TOO_SMALL: the capacity the full response needs (more than
 *                         resp_cap — except for CURSOR_NEXT when the record is longer than the
 *                         request's key_cap or val_cap, see PROTOCOL.md). Retry with that much.
 *                       - any other error: 4, the status alone.
 * @return the status, also written as the response's first 4 bytes whenever resp_cap >= 4:
 *   KV_OK; the errors of the kvh_* function the operation calls (kv_handle.h, kv.h); and
 *   KV_E_INVALID        req NULL with req_len > 0, resp NULL with resp_cap > 0, an ENV_OPEN path
 *                       longer than KVM_PATH_MAX or containing a NUL byte, a GET_BATCH of more
 *                       than KVM_BATCH_MAX keys;
 *   KV_E_VERSION        byte 0 is not KVM_VERSION;
 *   KV_E_UNKNOWN_OP     byte 1 is not an operation of this version;
 *   KV_E_PROTOCOL       the request is shorter than its header or its operation's arguments, a
 *                       declared length runs past its end, a presence byte is not 0 or 1, or bytes
 *                       follow the last argument;
 *   KV_E_BUFFER_TOO_SMALL  the response does not fit in resp_cap bytes. Nothing happened: an
 *                       operation whose response size is fixed is not performed at all, a read
 *                       returns nothing and a cursor does not move; *resp_len says what to allocate;
 *   KV_E_NO_MEMORY      scratch memory for a large GET_BATCH could not be allocated, or a SCAN
 *                       range has more records (2^32 - 1) or bytes than a response can describe.
 *   A request that is refused (every code above but KV_E_BUFFER_TOO_SMALL, and the handle errors)
 *   has no effect. The detail of any error is in kv_last_error().
 */
KV_API int kvm_call(const void *req, size_t req_len, void *resp, size_t resp_cap, size_t *resp_len);

#ifdef __cplusplus
}
#endif
#endif /* KV_MARSHAL_H */
