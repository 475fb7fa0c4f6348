// Jni.java — libkv through JNI: the static native methods of the glue library (kvjni.c), loaded
// from ffibench.out/libkvjni.so when this class is first used. Pointers are jlong addresses; a call
// with a result besides its status returns the result (>= 0) or the status (< 0). The JVM links each
// method to its Java_ffibench_Jni_… symbol at its first call (lazy JNI linking).
package ffibench;

import java.nio.ByteBuffer;

final class Jni {
    private Jni() {}

    static { System.load(System.getProperty("ffibench.out") + "/libkvjni.so"); }

    // pointer API (kv.h)
    static native void noop();
    static native int add(int a, int b);
    static native long address(ByteBuffer direct);
    static native long envOpen(String path);
    static native int envClose(long env);
    static native long txnBegin(long env, int flags);
    static native int txnCommit(long txn);
    static native int txnAbort(long txn);
    static native int txnFree(long txn);
    static native long get(long txn, long key, long keyLen, long buf, long cap);
    static native int put(long txn, long key, long keyLen, long val, long valLen);
    static native long getBatch(long txn, long n, long keys, long keyLens, long buf, long cap, long valLens);
    static native long scan(long txn, long lo, long loLen, long hi, long hiLen, Object sink, long method);
    static native long scanMethod(Class<?> sinkClass);

    // handle ABI (kv_handle.h)
    static native int hNoop(long env);
    static native long hAdd(long env, int a, int b);
    static native long hEnvOpen(String path, long[] env);
    static native int hEnvClose(long env);
    static native int hTxnBegin(long env, int flags, long[] txn);
    static native int hTxnCommit(long txn);
    static native int hTxnAbort(long txn);
    static native long hGet(long txn, long key, long keyLen, long buf, long cap);

    // marshal ABI (kv_marshal.h)
    static native long mCall(long req, long reqLen, long resp, long cap);
}
