/* kvjni.c — the JNI glue of the jvm runtime: libkv's pointer, handle and marshal ABIs as the static
 * native methods of ffibench.Jni, and a few of them again as ffibench.JniCritical, whose entry points
 * come in both forms: Java_… (what the interpreter and a plain JNI call use) and JavaCritical_…
 * (HotSpot's critical natives: no JNIEnv, no jclass, no thread-state transition; taken only with
 * -XX:+CriticalJNINatives, only from compiled code, and only for static methods with primitive
 * arguments). Pointers cross as jlong addresses (of direct ByteBuffers, or of what libkv returned);
 * a function that has a result besides its status returns it as a non-negative jlong, or the
 * status (a negative KV_E_*) — the glue does nothing else. Built by ./build (gcc -O2 against the
 * JDK's include folders and $KV_LIBRARY).
 */
#include <jni.h>
#include <stdint.h>
#include <string.h>

#include "kv.h"
#include "kv_handle.h"
#include "kv_marshal.h"

#define P(x) ((void *)(intptr_t)(x))
#define J(x) ((jlong)(intptr_t)(x))
#define FN(name) Java_ffibench_Jni_##name
#define ARGS JNIEnv *e, jclass c

static kv_options nosync(void) {
  kv_options o = KV_OPTIONS_INIT;
  o.map_size = (uint64_t)1 << 30;
  o.durability = KV_DURABLE_NOSYNC;
  return o;
}

/* ---- the pointer API (kv.h) ---- */
JNIEXPORT void JNICALL FN(noop)(ARGS) { (void)e, (void)c; kv_noop(); }
JNIEXPORT jint JNICALL FN(add)(ARGS, jint a, jint b) { (void)e, (void)c; return kv_add(a, b); }

JNIEXPORT jlong JNICALL FN(address)(ARGS, jobject buffer) {
  (void)c;
  return J((*e)->GetDirectBufferAddress(e, buffer));
}

/* Opens path (no-sync, 1 GiB map); the environment's address, or the status. */
JNIEXPORT jlong JNICALL FN(envOpen)(ARGS, jstring path) {
  (void)c;
  const char *p = (*e)->GetStringUTFChars(e, path, NULL);
  if (!p) return KV_E_NO_MEMORY;
  kv_options o = nosync();
  kv_env *env = NULL;
  int rc = kv_env_open(&env, p, &o);
  (*e)->ReleaseStringUTFChars(e, path, p);
  return rc ? rc : J(env);
}
JNIEXPORT jint JNICALL FN(envClose)(ARGS, jlong env) { (void)e, (void)c; return kv_env_close(P(env)); }
JNIEXPORT jlong JNICALL FN(txnBegin)(ARGS, jlong env, jint flags) {
  (void)e, (void)c;
  kv_txn *t = NULL;
  int rc = kv_txn_begin(&t, P(env), (unsigned)flags);
  return rc ? rc : J(t);
}
JNIEXPORT jint JNICALL FN(txnCommit)(ARGS, jlong t) { (void)e, (void)c; return kv_txn_commit(P(t)); }
JNIEXPORT jint JNICALL FN(txnAbort)(ARGS, jlong t) { (void)e, (void)c; return kv_txn_abort(P(t)); }
JNIEXPORT jint JNICALL FN(txnFree)(ARGS, jlong t) { (void)e, (void)c; return kv_txn_free(P(t)); }

/* kv_get: the value's length, or the status. */
JNIEXPORT jlong JNICALL FN(get)(ARGS, jlong t, jlong key, jlong klen, jlong buf, jlong cap) {
  (void)e, (void)c;
  size_t len;
  int rc = kv_get(P(t), P(key), (size_t)klen, P(buf), (size_t)cap, &len);
  return rc ? rc : (jlong)len;
}
JNIEXPORT jint JNICALL FN(put)(ARGS, jlong t, jlong key, jlong klen, jlong val, jlong vlen) {
  (void)e, (void)c;
  return kv_put(P(t), P(key), (size_t)klen, P(val), (size_t)vlen);
}
/* kv_get_batch: the number found, or the status. */
JNIEXPORT jlong JNICALL FN(getBatch)(ARGS, jlong t, jlong n, jlong keys, jlong klens, jlong buf, jlong cap,
                                     jlong vlens) {
  (void)e, (void)c;
  size_t found;
  int rc = kv_get_batch(P(t), (size_t)n, P(keys), P(klens), P(buf), (size_t)cap, P(vlens), &found);
  return rc ? rc : (jlong)found;
}

/* kv_scan with an upcall per record into Java: sink.onRecord(keyAddr, keyLen, valAddr, valLen), an
 * int method (0 goes on). A Java exception stops the scan (the callback returns 1 and the exception
 * stays pending for the caller), so nothing unwinds through libkv. */
typedef struct scan_ctx {
  JNIEnv *e;
  jobject sink;
  jmethodID on;
} scan_ctx;

static int scan_cb(const void *k, size_t kl, const void *v, size_t vl, void *payload) {
  scan_ctx *s = payload;
  jint r = (*s->e)->CallIntMethod(s->e, s->sink, s->on, J(k), (jlong)kl, J(v), (jlong)vl);
  return (*s->e)->ExceptionCheck(s->e) ? 1 : r;
}

/* The count of records, or the status. */
JNIEXPORT jlong JNICALL FN(scan)(ARGS, jlong t, jlong lo, jlong lolen, jlong hi, jlong hilen, jobject sink,
                                 jlong method) {
  (void)c;
  scan_ctx s = {e, sink, (jmethodID)P(method)};
  size_t count;
  int rc = kv_scan(P(t), P(lo), (size_t)lolen, P(hi), (size_t)hilen, scan_cb, &s, &count);
  return rc ? rc : (jlong)count;
}
/* The jmethodID of sink's class's onRecord(JJJJ)I, looked up once at setup. */
JNIEXPORT jlong JNICALL FN(scanMethod)(ARGS, jclass sinkClass) {
  (void)c;
  return J((*e)->GetMethodID(e, sinkClass, "onRecord", "(JJJJ)I"));
}

/* ---- the handle ABI (kv_handle.h): handles are u64, carried as jlong ---- */
JNIEXPORT jint JNICALL FN(hNoop)(ARGS, jlong env) { (void)e, (void)c; return kvh_noop((kvh_handle)env); }
/* kvh_add: the sum as an unsigned 32-bit value, or the status. */
JNIEXPORT jlong JNICALL FN(hAdd)(ARGS, jlong env, jint a, jint b) {
  (void)e, (void)c;
  int sum;
  int rc = kvh_add((kvh_handle)env, a, b, &sum);
  return rc ? rc : (jlong)(uint32_t)sum;
}
JNIEXPORT jlong JNICALL FN(hEnvOpen)(ARGS, jstring path, jlongArray out) {
  (void)c;
  const char *p = (*e)->GetStringUTFChars(e, path, NULL);
  if (!p) return KV_E_NO_MEMORY;
  kv_options o = nosync();
  kvh_handle h = KVH_NULL;
  int rc = kvh_env_open(&h, p, &o);
  (*e)->ReleaseStringUTFChars(e, path, p);
  jlong v = (jlong)h;
  if (!rc) (*e)->SetLongArrayRegion(e, out, 0, 1, &v);
  return rc;
}
JNIEXPORT jint JNICALL FN(hEnvClose)(ARGS, jlong env) { (void)e, (void)c; return kvh_env_close((kvh_handle)env); }
JNIEXPORT jint JNICALL FN(hTxnBegin)(ARGS, jlong env, jint flags, jlongArray out) {
  (void)c;
  kvh_handle h = KVH_NULL;
  int rc = kvh_txn_begin(&h, (kvh_handle)env, (unsigned)flags);
  jlong v = (jlong)h;
  if (!rc) (*e)->SetLongArrayRegion(e, out, 0, 1, &v);
  return rc;
}
JNIEXPORT jint JNICALL FN(hTxnCommit)(ARGS, jlong t) { (void)e, (void)c; return kvh_txn_commit((kvh_handle)t); }
JNIEXPORT jint JNICALL FN(hTxnAbort)(ARGS, jlong t) { (void)e, (void)c; return kvh_txn_abort((kvh_handle)t); }
JNIEXPORT jlong JNICALL FN(hGet)(ARGS, jlong t, jlong key, jlong klen, jlong buf, jlong cap) {
  (void)e, (void)c;
  size_t len;
  int rc = kvh_get((kvh_handle)t, P(key), (size_t)klen, P(buf), (size_t)cap, &len);
  return rc ? rc : (jlong)len;
}

/* ---- the marshal ABI (kv_marshal.h): the response's length, or the status ---- */
JNIEXPORT jlong JNICALL FN(mCall)(ARGS, jlong req, jlong reqlen, jlong resp, jlong cap) {
  (void)e, (void)c;
  size_t len;
  int rc = kvm_call(P(req), (size_t)reqlen, P(resp), (size_t)cap, &len);
  return rc ? rc : (jlong)len;
}

/* ---- ffibench.JniCritical: the same calls, also as critical natives ---- */
#define CFN(name) Java_ffibench_JniCritical_##name
#define CRIT(name) JavaCritical_ffibench_JniCritical_##name
JNIEXPORT void JNICALL CFN(noop)(ARGS) { (void)e, (void)c; kv_noop(); }
JNIEXPORT void JNICALL CRIT(noop)(void) { kv_noop(); }
JNIEXPORT jint JNICALL CFN(add)(ARGS, jint a, jint b) { (void)e, (void)c; return kv_add(a, b); }
JNIEXPORT jint JNICALL CRIT(add)(jint a, jint b) { return kv_add(a, b); }
JNIEXPORT jlong JNICALL CFN(get)(ARGS, jlong t, jlong key, jlong klen, jlong buf, jlong cap) {
  return FN(get)(e, c, t, key, klen, buf, cap);
}
JNIEXPORT jlong JNICALL CRIT(get)(jlong t, jlong key, jlong klen, jlong buf, jlong cap) {
  size_t len;
  int rc = kv_get(P(t), P(key), (size_t)klen, P(buf), (size_t)cap, &len);
  return rc ? rc : (jlong)len;
}
/* Which entry point a call site reached: 0 the JNI one, 1 the critical one. Setup calls it until
 * the call site is compiled, and the mechanism fails unless the critical entry was taken. */
JNIEXPORT jint JNICALL CFN(probe)(ARGS) { (void)e, (void)c; return 0; }
JNIEXPORT jint JNICALL CRIT(probe)(void) { return 1; }
