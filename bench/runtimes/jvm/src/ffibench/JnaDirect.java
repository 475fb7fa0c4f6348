// JnaDirect.java — libkv through JNA's direct mapping: static native methods bound to $KV_LIBRARY by
// Native.register when this class is first used. JNA generates no code: each call goes through
// libjnidispatch's generic dispatcher (libffi), which converts the arguments by their Java types.
package ffibench;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

final class JnaDirect {
    private JnaDirect() {}

    static { Native.register(JnaDirect.class, NativeLibrary.getInstance(System.getenv("KV_LIBRARY"))); }

    static native void kv_noop();
    static native int kv_add(int a, int b);
    static native int kv_env_open(Pointer env, String path, Pointer opts);
    static native int kv_env_close(Pointer env);
    static native int kv_txn_begin(Pointer txn, Pointer env, int flags);
    static native int kv_txn_abort(Pointer txn);
    static native int kv_txn_free(Pointer txn);
    static native int kv_get(Pointer txn, Pointer key, long keyLen, Pointer buf, long cap, Pointer len);
}
