// JniHandleMech.java — jni-handle: the handle ABI (kv_handle.h) through the JNI glue: 64-bit handles
// the engine validates on every call. noop, add and get/mode:latency.
package ffibench;

import java.nio.ByteBuffer;

final class JniHandleMech extends Mech {
    long env;
    final long[] out = new long[1];

    JniHandleMech(String name) { super(name); }


    @Override void open(String path) {
        check(Jni.hEnvOpen(path, out), "kvh_env_open");
        env = out[0];
    }

    @Override void close() { check(Jni.hEnvClose(env), "kvh_env_close"); }

    @Override Ctx begin(int workload, int param) {
        Ctx c = buffers(workload, param);
        check(Jni.hTxnBegin(env, c.write ? KvAbi.KV_TXN_WRITE : KvAbi.KV_TXN_READ, out), "kvh_txn_begin");
        c.txn = out[0];
        c.addr[0] = c.buf == null ? 0 : Jni.address(c.buf);
        return c;
    }

    @Override void end(Ctx c) { check(c.write ? Jni.hTxnCommit(c.txn) : Jni.hTxnAbort(c.txn), "kvh_txn_end"); }

    @Override void run(Ctx c, long n) {
        switch (c.workload) {
            case NOOP: noop(n); break;
            case ADD_LAT: addLatency(c, n); break;
            case ADD_THR: addThroughput(n); break;
            case GET_LAT: getLatency(c, n); break;
            default: throw new IllegalStateException();
        }
    }

    void noop(long n) {
        final long e = env;
        int bad = 0;
        for (long i = 0; i < n; i++) bad |= Jni.hNoop(e);
        check(bad, "kvh_noop");
    }

    void addLatency(Ctx c, long n) {
        final long e = env;
        int x = (int) c.chain;
        for (long i = 0; i < n; i++) {
            long r = Jni.hAdd(e, x, 1);
            if (r < 0) check(r, "kvh_add");
            x = (int) r;
        }
        checkAdd(c, x, n);
    }

    void addThroughput(long n) {
        final long e = env;
        int acc = 0;
        for (long i = 0; i < n; i++) {
            long r = Jni.hAdd(e, (int) i, 1);
            if (r < 0) check(r, "kvh_add");
            acc += (int) r;
        }
        checkSum(acc, n);
    }

    static final long KEYS = Jni.address(Data.keyBytes);

    static void getLatency(Ctx c, long n) {
        final long txn = c.txn, buf = c.addr[0], kl = Data.keyLen, vl = Data.valLen;
        final ByteBuffer b = c.buf;
        int i = (int) c.chain;
        for (long k = 0; k < n; k++) {
            long len = Jni.hGet(txn, KEYS + i * kl, kl, buf, vl);
            if (len != vl || b.getInt(4) != i) throw wrong("get: key " + i + ": " + len);
            i = b.getInt(0);
        }
        c.chain = i;
    }
}
