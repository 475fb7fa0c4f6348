// JniMech.java — the jni mechanism: kv.h through the JNI glue, every workload; buffers are direct
// ByteBuffers passed by address, answers read back through the ByteBuffer.
package ffibench;

import java.nio.ByteBuffer;

class JniMech extends Mech {
    long env;

    JniMech(String name) { super(name); }


    @Override void open(String path) {
        long e = Jni.envOpen(path);
        check(e, "kv_env_open");
        env = e;
    }

    @Override void close() { check(Jni.envClose(env), "kv_env_close"); }

    static long addr(ByteBuffer b) { return b == null ? 0 : Jni.address(b); }

    @Override Ctx begin(int workload, int param) {
        Ctx c = buffers(workload, param);
        long t = Jni.txnBegin(env, c.write ? KvAbi.KV_TXN_WRITE : KvAbi.KV_TXN_READ);
        check(t, "kv_txn_begin");
        c.txn = t;
        c.addr[0] = addr(c.buf);
        c.addr[1] = addr(c.key);
        c.addr[2] = addr(c.keys);
        c.addr[3] = addr(c.keyLens);
        c.addr[4] = addr(c.valLens);
        if (workload == SCAN) c.ext[0] = new Sink(c);
        return c;
    }

    @Override void end(Ctx c) {
        int rc = c.write ? Jni.txnCommit(c.txn) : Jni.txnAbort(c.txn);
        Jni.txnFree(c.txn);
        check(rc, c.write ? "kv_txn_commit" : "kv_txn_abort");
    }

    @Override void run(Ctx c, long n) {
        switch (c.workload) {
            case NOOP: noop(n); break;
            case ADD_LAT: addLatency(c, n); break;
            case ADD_THR: addThroughput(n); break;
            case GET_LAT: getLatency(c, n); break;
            case GET_THR: getThroughput(c, n); break;
            case GET_MISS: getMiss(c, n); break;
            case PUT: put(c, n); break;
            case BYTES: bytes(c, n); break;
            case SCAN: scan(c, n); break;
            case BATCH: batch(c, n); break;
            default: throw new IllegalStateException();
        }
    }

    static void noop(long n) { for (long i = 0; i < n; i++) Jni.noop(); }

    static void addLatency(Ctx c, long n) {
        int x = (int) c.chain; // each call takes the previous result
        for (long i = 0; i < n; i++) x = Jni.add(x, 1);
        checkAdd(c, x, n);
    }

    static void addThroughput(long n) {
        int acc = 0; // independent calls; the results are only summed
        for (long i = 0; i < n; i++) acc += Jni.add((int) i, 1);
        checkSum(acc, n);
    }

    static final long KEYS = Jni.address(Data.keyBytes), MISS = Jni.address(Data.missBytes),
            PUT_KEYS = Jni.address(Data.putKeyBytes);

    static void getLatency(Ctx c, long n) {
        final long txn = c.txn, buf = c.addr[0], kl = Data.keyLen, vl = Data.valLen;
        final ByteBuffer b = c.buf;
        int i = (int) c.chain; // the next key comes out of the value just read
        for (long k = 0; k < n; k++) {
            long len = Jni.get(txn, KEYS + i * kl, kl, buf, vl);
            if (len != vl || b.getInt(4) != i) throw wrong("get: key " + i + ": " + len);
            i = b.getInt(0);
        }
        c.chain = i;
    }

    static void getThroughput(Ctx c, long n) {
        final long txn = c.txn, buf = c.addr[0], kl = Data.keyLen, vl = Data.valLen;
        final ByteBuffer b = c.buf;
        final int[] order = Data.order;
        long at = c.chain;
        for (long k = 0; k < n; k++) {
            int i = order[(int) (at++ % order.length)];
            long len = Jni.get(txn, KEYS + i * kl, kl, buf, vl);
            if (len != vl || b.getInt(4) != i) throw wrong("get: key " + i + ": " + len);
        }
        c.chain = at;
    }

    static void getMiss(Ctx c, long n) {
        final long txn = c.txn, buf = c.addr[0], kl = Data.keyLen, vl = Data.valLen;
        final int m = Data.missKeys;
        long at = c.chain;
        for (long k = 0; k < n; k++) {
            long rc = Jni.get(txn, MISS + (at++ % m) * kl, kl, buf, vl);
            if (rc != KvAbi.KV_E_NOT_FOUND) throw wrong("get_miss: " + rc);
        }
        c.chain = at;
    }

    void put(Ctx c, long n) {
        final long val = c.addr[0], kl = Data.keyLen, vl = Data.valLen;
        final int p = Data.putKeys;
        for (long k = 0; k < n; k++) {
            check(Jni.put(c.txn, PUT_KEYS + (c.done % p) * kl, kl, val, vl), "kv_put");
            if (++c.done % c.param == 0) { // commit every param puts (no-sync)
                check(Jni.txnCommit(c.txn), "kv_txn_commit");
                Jni.txnFree(c.txn);
                long t = Jni.txnBegin(env, KvAbi.KV_TXN_WRITE);
                check(t, "kv_txn_begin");
                c.txn = t;
            }
        }
    }

    static void bytes(Ctx c, long n) {
        final long txn = c.txn, key = c.addr[1], kl = c.key.capacity(), buf = c.addr[0], size = c.param;
        for (long k = 0; k < n; k++) {
            long len = Jni.get(txn, key, kl, buf, size);
            if (len != size) throw wrong("get bytes:" + size + ": " + len);
        }
    }

    /** The scan upcall's target: JNI calls onRecord per record (CallIntMethod). */
    static final class Sink {
        final Ctx c;
        Sink(Ctx c) { this.c = c; }
        int onRecord(long key, long keyLen, long val, long valLen) {
            c.scanN++;
            if (keyLen != Data.keyLen || valLen != Data.valLen) c.scanBad++;
            return 0;
        }
    }

    static final long ON_RECORD = Jni.scanMethod(Sink.class);

    static void scan(Ctx c, long n) {
        final long kl = Data.keyLen, hi = KEYS + Data.scanRecords * kl;
        final Object sink = c.ext[0];
        for (long k = 0; k < n; k++) {
            c.scanN = c.scanBad = 0;
            long count = Jni.scan(c.txn, KEYS, kl, hi, kl, sink, ON_RECORD);
            check(count, "kv_scan");
            checkScan(c, count);
        }
    }

    static void batch(Ctx c, long n) {
        final int p = c.param, kl = Data.keyLen;
        final ByteBuffer keys = c.keys, b = c.buf;
        final long txn = c.txn, kp = c.addr[2], klp = c.addr[3], buf = c.addr[0], cap = b.capacity(), vlp = c.addr[4];
        for (long k = 0; k < n; k++) {
            int start = (int) (c.chain % Data.keys);
            c.chain += p;
            keys.put(0, Data.orderPacked, start * kl, p * kl); // the C suite's memcpy
            long found = Jni.getBatch(txn, p, kp, klp, buf, cap, vlp);
            if (found != p || b.getInt(4) != Data.order[start]) throw wrong("batch/n:" + p + ": " + found);
        }
    }
}
