// JnaLib.java — libkv through JNA's interface mapping: Native.load makes a java.lang.reflect.Proxy
// of this interface; every call goes through the proxy's InvocationHandler, which looks the method
// up, boxes the arguments into an Object[] and converts them by their types at run time, then the
// same generic dispatcher as direct mapping.
package ffibench;

import com.sun.jna.Library;
import com.sun.jna.Pointer;

interface JnaLib extends Library {
    void kv_noop();
    int kv_add(int a, int b);
    int kv_env_open(Pointer env, String path, Pointer opts);
    int kv_env_close(Pointer env);
    int kv_txn_begin(Pointer txn, Pointer env, int flags);
    int kv_txn_abort(Pointer txn);
    int kv_txn_free(Pointer txn);
    int kv_get(Pointer txn, Pointer key, long keyLen, Pointer buf, long cap, Pointer len);
}
