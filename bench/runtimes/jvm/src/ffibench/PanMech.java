// PanMech.java — the panama mechanism: kv.h through Pan's static final downcall handles, every
// workload. Buffers are the direct ByteBuffers of Ctx seen as MemorySegments (ofByteBuffer); answers
// are read with MemoryAccess; the scan's upcall is an upcallStub of a static method.
package ffibench;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.nio.charset.StandardCharsets;
import jdk.incubator.foreign.CLinker;
import jdk.incubator.foreign.MemoryAccess;
import jdk.incubator.foreign.MemoryAddress;
import jdk.incubator.foreign.MemorySegment;
import jdk.incubator.foreign.ResourceScope;

class PanMech extends Mech {
    MemoryAddress env;
    final MemorySegment out = MemorySegment.allocateNative(8, 8, ResourceScope.newImplicitScope());

    PanMech(String name) { super(name); }


    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException) return (RuntimeException) t;
        if (t instanceof Error) throw (Error) t;
        return new IllegalStateException(t);
    }

    /** kv_options, version 1 (24 bytes): no-sync, a 1 GiB map. */
    static MemorySegment options(ResourceScope scope) {
        MemorySegment o = MemorySegment.allocateNative(24, 8, scope);
        MemoryAccess.setIntAtOffset(o, 0, KvAbi.KV_OPTIONS_VERSION);
        MemoryAccess.setIntAtOffset(o, 4, 0);
        MemoryAccess.setLongAtOffset(o, 8, 1L << 30);
        MemoryAccess.setIntAtOffset(o, 16, KvAbi.KV_DURABLE_NOSYNC);
        MemoryAccess.setIntAtOffset(o, 20, 0);
        return o;
    }

    static MemorySegment cString(String s, ResourceScope scope) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        MemorySegment m = MemorySegment.allocateNative(b.length + 1, scope);
        m.copyFrom(MemorySegment.ofArray(b));
        MemoryAccess.setByteAtOffset(m, b.length, (byte) 0);
        return m;
    }

    @Override void open(String path) {
        try (ResourceScope scope = ResourceScope.newConfinedScope()) {
            check(Pan.kv_env_open(out.address(), cString(path, scope).address(), options(scope).address()),
                    "kv_env_open");
            env = MemoryAccess.getAddress(out);
        } catch (Throwable t) { throw rethrow(t); }
    }

    @Override void close() {
        try { check(Pan.kv_env_close(env), "kv_env_close"); } catch (Throwable t) { throw rethrow(t); }
    }

    static MemorySegment seg(java.nio.ByteBuffer b) { return b == null ? null : MemorySegment.ofByteBuffer(b); }

    @Override Ctx begin(int workload, int param) {
        Ctx c = buffers(workload, param);
        try {
            MemorySegment o = MemorySegment.allocateNative(8, 8, ResourceScope.newImplicitScope());
            check(Pan.kv_txn_begin(o.address(), env, c.write ? KvAbi.KV_TXN_WRITE : KvAbi.KV_TXN_READ),
                    "kv_txn_begin");
            c.txnObj = MemoryAccess.getAddress(o);
        } catch (Throwable t) { throw rethrow(t); }
        c.ext[0] = seg(c.buf);
        c.ext[1] = seg(c.key);
        c.ext[2] = seg(c.keys);
        c.ext[3] = seg(c.keyLens);
        c.ext[4] = seg(c.valLens);
        c.ext[5] = MemorySegment.allocateNative(8, 8, ResourceScope.newImplicitScope()); // a size_t out
        if (workload == SCAN) c.ext[6] = OnRecord.STUB;
        return c;
    }

    @Override void end(Ctx c) {
        try {
            MemoryAddress t = (MemoryAddress) c.txnObj;
            int rc = c.write ? Pan.kv_txn_commit(t) : Pan.kv_txn_abort(t);
            int rf = Pan.kv_txn_free(t);
            check(rc, c.write ? "kv_txn_commit" : "kv_txn_abort");
            check(rf, "kv_txn_free");
        } catch (Throwable t) { throw rethrow(t); }
    }

    @Override void run(Ctx c, long n) {
        try {
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
        } catch (Throwable t) { throw rethrow(t); }
    }

    static void noop(long n) throws Throwable { for (long i = 0; i < n; i++) Pan.kv_noop(); }

    static void addLatency(Ctx c, long n) throws Throwable {
        int x = (int) c.chain;
        for (long i = 0; i < n; i++) x = Pan.kv_add(x, 1);
        checkAdd(c, x, n);
    }

    static void addThroughput(long n) throws Throwable {
        int acc = 0;
        for (long i = 0; i < n; i++) acc += Pan.kv_add((int) i, 1);
        checkSum(acc, n);
    }

    static final MemoryAddress KEYS = MemorySegment.ofByteBuffer(Data.keyBytes).address(),
            MISS = MemorySegment.ofByteBuffer(Data.missBytes).address(),
            PUT_KEYS = MemorySegment.ofByteBuffer(Data.putKeyBytes).address();

    static void getLatency(Ctx c, long n) throws Throwable {
        final MemoryAddress txn = (MemoryAddress) c.txnObj;
        final MemorySegment b = (MemorySegment) c.ext[0], len = (MemorySegment) c.ext[5];
        final MemoryAddress buf = b.address(), lenA = len.address();
        final long kl = Data.keyLen, vl = Data.valLen;
        int i = (int) c.chain;
        for (long k = 0; k < n; k++) {
            int rc = Pan.kv_get(txn, KEYS.addOffset(i * kl), kl, buf, vl, lenA);
            if (rc != 0 || MemoryAccess.getLong(len) != vl || MemoryAccess.getIntAtOffset(b, 4) != i)
                throw wrong("get: key " + i + ": " + rc);
            i = MemoryAccess.getInt(b);
        }
        c.chain = i;
    }

    static void getThroughput(Ctx c, long n) throws Throwable {
        final MemoryAddress txn = (MemoryAddress) c.txnObj;
        final MemorySegment b = (MemorySegment) c.ext[0], len = (MemorySegment) c.ext[5];
        final MemoryAddress buf = b.address(), lenA = len.address();
        final long kl = Data.keyLen, vl = Data.valLen;
        final int[] order = Data.order;
        long at = c.chain;
        for (long k = 0; k < n; k++) {
            int i = order[(int) (at++ % order.length)];
            int rc = Pan.kv_get(txn, KEYS.addOffset(i * kl), kl, buf, vl, lenA);
            if (rc != 0 || MemoryAccess.getLong(len) != vl || MemoryAccess.getIntAtOffset(b, 4) != i)
                throw wrong("get: key " + i + ": " + rc);
        }
        c.chain = at;
    }

    static void getMiss(Ctx c, long n) throws Throwable {
        final MemoryAddress txn = (MemoryAddress) c.txnObj;
        final MemoryAddress buf = ((MemorySegment) c.ext[0]).address(), lenA = ((MemorySegment) c.ext[5]).address();
        final long kl = Data.keyLen, vl = Data.valLen;
        final int m = Data.missKeys;
        long at = c.chain;
        for (long k = 0; k < n; k++) {
            int rc = Pan.kv_get(txn, MISS.addOffset((at++ % m) * kl), kl, buf, vl, lenA);
            if (rc != KvAbi.KV_E_NOT_FOUND) throw wrong("get_miss: " + rc);
        }
        c.chain = at;
    }

    void put(Ctx c, long n) throws Throwable {
        final MemoryAddress val = ((MemorySegment) c.ext[0]).address();
        final MemorySegment o = (MemorySegment) c.ext[5];
        final long kl = Data.keyLen, vl = Data.valLen;
        final int p = Data.putKeys;
        for (long k = 0; k < n; k++) {
            check(Pan.kv_put((MemoryAddress) c.txnObj, PUT_KEYS.addOffset((c.done % p) * kl), kl, val, vl), "kv_put");
            if (++c.done % c.param == 0) { // commit every param puts (no-sync)
                MemoryAddress t = (MemoryAddress) c.txnObj;
                check(Pan.kv_txn_commit(t), "kv_txn_commit");
                check(Pan.kv_txn_free(t), "kv_txn_free");
                check(Pan.kv_txn_begin(o.address(), env, KvAbi.KV_TXN_WRITE), "kv_txn_begin");
                c.txnObj = MemoryAccess.getAddress(o);
            }
        }
    }

    static void bytes(Ctx c, long n) throws Throwable {
        final MemoryAddress txn = (MemoryAddress) c.txnObj;
        final MemorySegment len = (MemorySegment) c.ext[5];
        final MemoryAddress key = ((MemorySegment) c.ext[1]).address(), buf = ((MemorySegment) c.ext[0]).address(),
                lenA = len.address();
        final long kl = c.key.capacity(), size = c.param;
        for (long k = 0; k < n; k++) {
            int rc = Pan.kv_get(txn, key, kl, buf, size, lenA);
            if (rc != 0 || MemoryAccess.getLong(len) != size) throw wrong("get bytes:" + size + ": " + rc);
        }
    }

    // The scan upcall: a static method behind an upcall stub made once; the scan in progress is the
    // calling thread's (scans run on one thread).
    static Ctx scanning;

    static int onRecord(MemoryAddress key, long keyLen, MemoryAddress val, long valLen, MemoryAddress payload) {
        Ctx c = scanning;
        c.scanN++;
        if (keyLen != Data.keyLen || valLen != Data.valLen) c.scanBad++;
        return 0;
    }

    /** The upcall stub, made once (at the first scan's setup), alive for the process. */
    static final class OnRecord {
        static final MemoryAddress STUB;
        static {
            try {
                MethodHandle target = MethodHandles.lookup().findStatic(PanMech.class, "onRecord", Pan.SCAN_FN_T);
                STUB = CLinker.getInstance().upcallStub(target, Pan.SCAN_FN_D, ResourceScope.globalScope());
            } catch (ReflectiveOperationException e) { throw new ExceptionInInitializerError(e); }
        }
    }

    static void scan(Ctx c, long n) throws Throwable {
        final MemoryAddress txn = (MemoryAddress) c.txnObj;
        final MemorySegment count = (MemorySegment) c.ext[5];
        final long kl = Data.keyLen;
        final MemoryAddress hi = KEYS.addOffset(Data.scanRecords * kl), countA = count.address();
        scanning = c;
        for (long k = 0; k < n; k++) {
            c.scanN = c.scanBad = 0;
            check(Pan.kv_scan(txn, KEYS, kl, hi, kl, OnRecord.STUB, MemoryAddress.NULL, countA), "kv_scan");
            checkScan(c, MemoryAccess.getLong(count));
        }
    }

    static void batch(Ctx c, long n) throws Throwable {
        final int p = c.param, kl = Data.keyLen;
        final MemoryAddress txn = (MemoryAddress) c.txnObj;
        final MemorySegment b = (MemorySegment) c.ext[0], keys = (MemorySegment) c.ext[2], found = (MemorySegment) c.ext[5];
        final MemorySegment packed = MemorySegment.ofByteBuffer(Data.orderPacked);
        final MemoryAddress buf = b.address(), kp = keys.address(), klp = ((MemorySegment) c.ext[3]).address(),
                vlp = ((MemorySegment) c.ext[4]).address(), foundA = found.address();
        final long cap = b.byteSize();
        for (long k = 0; k < n; k++) {
            int start = (int) (c.chain % Data.keys);
            c.chain += p;
            keys.copyFrom(packed.asSlice((long) start * kl, (long) p * kl)); // the C suite's memcpy
            int rc = Pan.kv_get_batch(txn, (long) p, kp, klp, buf, cap, vlp, foundA);
            if (rc != 0 || MemoryAccess.getLong(found) != p || MemoryAccess.getIntAtOffset(b, 4) != Data.order[start])
                throw wrong("batch/n:" + p + ": " + rc);
        }
    }
}
