// JnaInterfaceMech.java — jna-interface: kv.h through JnaLib (JNA interface mapping, a Proxy), the
// binding most JNA users write. noop, add and get/mode:latency.
package ffibench;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

final class JnaInterfaceMech extends Mech {
    static final JnaLib KV = Native.load(System.getenv("KV_LIBRARY"), JnaLib.class);
    Pointer env;

    JnaInterfaceMech(String name) { super(name); }


    @Override void open(String path) {
        Memory out = new Memory(8);
        check(KV.kv_env_open(out, path, JnaDirectMech.options()), "kv_env_open");
        env = out.getPointer(0);
    }

    @Override void close() { check(KV.kv_env_close(env), "kv_env_close"); }

    @Override Ctx begin(int workload, int param) {
        Ctx c = new Ctx();
        c.workload = workload;
        c.param = param;
        Memory out = new Memory(8);
        check(KV.kv_txn_begin(out, env, KvAbi.KV_TXN_READ), "kv_txn_begin");
        c.txnObj = out.getPointer(0);
        c.ext[0] = new Memory(Data.valLen);
        c.ext[1] = new Memory(8);
        c.ext[2] = JnaDirectMech.keyPointers();
        return c;
    }

    @Override void end(Ctx c) {
        int rc = KV.kv_txn_abort((Pointer) c.txnObj);
        KV.kv_txn_free((Pointer) c.txnObj);
        check(rc, "kv_txn_abort");
    }

    @Override void run(Ctx c, long n) {
        switch (c.workload) {
            case NOOP: noop(n); break;
            case ADD_LAT: addLatency(c, n); break;
            case ADD_THR: addThroughput(n); break;
            case GET_LAT: getLatency(c, n); break;
            default: throw new IllegalStateException();
        }
    }

    static void noop(long n) { final JnaLib kv = KV; for (long i = 0; i < n; i++) kv.kv_noop(); }

    static void addLatency(Ctx c, long n) {
        final JnaLib kv = KV;
        int x = (int) c.chain;
        for (long i = 0; i < n; i++) x = kv.kv_add(x, 1);
        checkAdd(c, x, n);
    }

    static void addThroughput(long n) {
        final JnaLib kv = KV;
        int acc = 0;
        for (long i = 0; i < n; i++) acc += kv.kv_add((int) i, 1);
        checkSum(acc, n);
    }

    static void getLatency(Ctx c, long n) {
        final JnaLib kv = KV;
        final Pointer txn = (Pointer) c.txnObj;
        final Memory b = (Memory) c.ext[0], len = (Memory) c.ext[1];
        final Pointer[] keys = (Pointer[]) c.ext[2];
        final long kl = Data.keyLen, vl = Data.valLen;
        int i = (int) c.chain;
        for (long k = 0; k < n; k++) {
            int rc = kv.kv_get(txn, keys[i], kl, b, vl, len);
            if (rc != 0 || len.getLong(0) != vl || b.getInt(4) != i) throw wrong("get: key " + i + ": " + rc);
            i = b.getInt(0);
        }
        c.chain = i;
    }
}
