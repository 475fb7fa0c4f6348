// PanHandleMech.java — panama-handle: the handle ABI (kv_handle.h) through Pan's static final
// downcall handles. noop, add and get/mode:latency.
package ffibench;

import jdk.incubator.foreign.MemoryAccess;
import jdk.incubator.foreign.MemoryAddress;
import jdk.incubator.foreign.MemorySegment;
import jdk.incubator.foreign.ResourceScope;

final class PanHandleMech extends Mech {
    long env;
    final MemorySegment out = MemorySegment.allocateNative(8, 8, ResourceScope.newImplicitScope());

    PanHandleMech(String name) { super(name); }


    @Override void open(String path) {
        try (ResourceScope scope = ResourceScope.newConfinedScope()) {
            check(Pan.kvh_env_open(out.address(), PanMech.cString(path, scope).address(),
                    PanMech.options(scope).address()), "kvh_env_open");
            env = MemoryAccess.getLong(out);
        } catch (Throwable t) { throw PanMech.rethrow(t); }
    }

    @Override void close() {
        try { check(Pan.kvh_env_close(env), "kvh_env_close"); } catch (Throwable t) { throw PanMech.rethrow(t); }
    }

    @Override Ctx begin(int workload, int param) {
        Ctx c = buffers(workload, param);
        try {
            check(Pan.kvh_txn_begin(out.address(), env, KvAbi.KV_TXN_READ), "kvh_txn_begin");
        } catch (Throwable t) { throw PanMech.rethrow(t); }
        c.txn = MemoryAccess.getLong(out);
        c.ext[0] = PanMech.seg(c.buf);
        c.ext[5] = MemorySegment.allocateNative(8, 8, ResourceScope.newImplicitScope());
        return c;
    }

    @Override void end(Ctx c) {
        try { check(Pan.kvh_txn_abort(c.txn), "kvh_txn_abort"); } catch (Throwable t) { throw PanMech.rethrow(t); }
    }

    @Override void run(Ctx c, long n) {
        try {
            switch (c.workload) {
                case NOOP: noop(n); break;
                case ADD_LAT: addLatency(c, n); break;
                case ADD_THR: addThroughput(c, n); break;
                case GET_LAT: getLatency(c, n); break;
                default: throw new IllegalStateException();
            }
        } catch (Throwable t) { throw PanMech.rethrow(t); }
    }

    void noop(long n) throws Throwable {
        final long e = env;
        int bad = 0;
        for (long i = 0; i < n; i++) bad |= Pan.kvh_noop(e);
        check(bad, "kvh_noop");
    }

    void addLatency(Ctx c, long n) throws Throwable {
        final long e = env;
        final MemorySegment sum = (MemorySegment) c.ext[5];
        final MemoryAddress sumA = sum.address();
        int x = (int) c.chain;
        for (long i = 0; i < n; i++) {
            int rc = Pan.kvh_add(e, x, 1, sumA);
            if (rc != 0) check(rc, "kvh_add");
            x = MemoryAccess.getInt(sum);
        }
        checkAdd(c, x, n);
    }

    void addThroughput(Ctx c, long n) throws Throwable {
        final long e = env;
        final MemorySegment sum = (MemorySegment) c.ext[5];
        final MemoryAddress sumA = sum.address();
        int acc = 0;
        for (long i = 0; i < n; i++) {
            int rc = Pan.kvh_add(e, (int) i, 1, sumA);
            if (rc != 0) check(rc, "kvh_add");
            acc += MemoryAccess.getInt(sum);
        }
        checkSum(acc, n);
    }

    static void getLatency(Ctx c, long n) throws Throwable {
        final long txn = c.txn;
        final MemorySegment b = (MemorySegment) c.ext[0], len = (MemorySegment) c.ext[5];
        final MemoryAddress buf = b.address(), lenA = len.address();
        final long kl = Data.keyLen, vl = Data.valLen;
        int i = (int) c.chain;
        for (long k = 0; k < n; k++) {
            int rc = Pan.kvh_get(txn, PanMech.KEYS.addOffset(i * kl), kl, buf, vl, lenA);
            if (rc != 0 || MemoryAccess.getLong(len) != vl || MemoryAccess.getIntAtOffset(b, 4) != i)
                throw wrong("get: key " + i + ": " + rc);
            i = MemoryAccess.getInt(b);
        }
        c.chain = i;
    }
}
