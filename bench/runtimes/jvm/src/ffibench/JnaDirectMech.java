// JnaDirectMech.java — jna-direct: kv.h through JnaDirect (JNA direct mapping). noop, add and
// get/mode:latency; pointers are JNA Pointers (one per key, made at setup), buffers JNA Memory.
package ffibench;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

class JnaDirectMech extends Mech {
    Pointer env;
    static Pointer[] keyPtrs; // every key's address, as a Pointer (setup)

    JnaDirectMech(String name) { super(name); }


    static Memory options() {
        Memory o = new Memory(24);
        o.setInt(0, KvAbi.KV_OPTIONS_VERSION);
        o.setInt(4, 0);
        o.setLong(8, 1L << 30);
        o.setInt(16, KvAbi.KV_DURABLE_NOSYNC);
        o.setInt(20, 0);
        return o;
    }

    static Pointer[] keyPointers() {
        if (keyPtrs == null) {
            Pointer base = Native.getDirectBufferPointer(Data.keyBytes);
            Pointer[] p = new Pointer[Data.keys];
            for (int i = 0; i < p.length; i++) p[i] = base.share((long) i * Data.keyLen);
            keyPtrs = p;
        }
        return keyPtrs;
    }

    @Override void open(String path) {
        Memory out = new Memory(8);
        check(JnaDirect.kv_env_open(out, path, options()), "kv_env_open");
        env = out.getPointer(0);
    }

    @Override void close() { check(JnaDirect.kv_env_close(env), "kv_env_close"); }

    @Override Ctx begin(int workload, int param) {
        Ctx c = new Ctx();
        c.workload = workload;
        c.param = param;
        Memory out = new Memory(8);
        check(JnaDirect.kv_txn_begin(out, env, KvAbi.KV_TXN_READ), "kv_txn_begin");
        c.txnObj = out.getPointer(0);
        c.ext[0] = new Memory(Data.valLen);
        c.ext[1] = new Memory(8);
        c.ext[2] = keyPointers();
        return c;
    }

    @Override void end(Ctx c) {
        int rc = JnaDirect.kv_txn_abort((Pointer) c.txnObj);
        JnaDirect.kv_txn_free((Pointer) c.txnObj);
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

    static void noop(long n) { for (long i = 0; i < n; i++) JnaDirect.kv_noop(); }

    static void addLatency(Ctx c, long n) {
        int x = (int) c.chain;
        for (long i = 0; i < n; i++) x = JnaDirect.kv_add(x, 1);
        checkAdd(c, x, n);
    }

    static void addThroughput(long n) {
        int acc = 0;
        for (long i = 0; i < n; i++) acc += JnaDirect.kv_add((int) i, 1);
        checkSum(acc, n);
    }

    static void getLatency(Ctx c, long n) {
        final Pointer txn = (Pointer) c.txnObj;
        final Memory b = (Memory) c.ext[0], len = (Memory) c.ext[1];
        final Pointer[] keys = (Pointer[]) c.ext[2];
        final long kl = Data.keyLen, vl = Data.valLen;
        int i = (int) c.chain;
        for (long k = 0; k < n; k++) {
            int rc = JnaDirect.kv_get(txn, keys[i], kl, b, vl, len);
            if (rc != 0 || len.getLong(0) != vl || b.getInt(4) != i) throw wrong("get: key " + i + ": " + rc);
            i = b.getInt(0);
        }
        c.chain = i;
    }
}
