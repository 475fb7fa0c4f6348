// PanMarshalMech.java — panama-marshal: the marshal ABI (kv_marshal.h) through Pan's static final
// kvm_call handle; requests written and responses read with MemoryAccess. noop, add and
// get/mode:latency.
package ffibench;

import jdk.incubator.foreign.MemoryAccess;
import jdk.incubator.foreign.MemoryAddress;
import jdk.incubator.foreign.MemorySegment;
import jdk.incubator.foreign.ResourceScope;

final class PanMarshalMech extends MarshalBase {
    final MemoryAddress reqA = MemorySegment.ofByteBuffer(req).address(), respA = MemorySegment.ofByteBuffer(resp).address();
    final MemorySegment len = MemorySegment.allocateNative(8, 8, ResourceScope.newImplicitScope());

    PanMarshalMech(String name) { super(name); }

    @Override long call(int reqLen) {
        try {
            int rc = Pan.kvm_call(reqA, (long) reqLen, respA, (long) resp.capacity(), len.address());
            return rc != 0 ? rc : MemoryAccess.getLong(len);
        } catch (Throwable t) { throw PanMech.rethrow(t); }
    }

    @Override void run(Ctx c, long n) {
        MemorySegment q = MemorySegment.ofByteBuffer(c.req), r = MemorySegment.ofByteBuffer(c.resp);
        try {
            switch (c.workload) {
                case NOOP: noop(q, r, n); break;
                case ADD_LAT: addLatency(c, q, r, n); break;
                case ADD_THR: addThroughput(q, r, n); break;
                case GET_LAT: getLatency(c, q, r, n); break;
                default: throw new IllegalStateException();
            }
        } catch (Throwable t) { throw PanMech.rethrow(t); }
    }

    void noop(MemorySegment q, MemorySegment r, long n) throws Throwable {
        final MemoryAddress rq = q.address(), rs = r.address(), l = len.address();
        int bad = 0;
        for (long i = 0; i < n; i++) bad |= Pan.kvm_call(rq, 2L, rs, 4L, l);
        check(bad, "NOOP");
    }

    void addLatency(Ctx c, MemorySegment q, MemorySegment r, long n) throws Throwable {
        final MemoryAddress rq = q.address(), rs = r.address(), l = len.address();
        int x = (int) c.chain;
        for (long i = 0; i < n; i++) {
            MemoryAccess.setIntAtOffset(q, 2, x);
            int rc = Pan.kvm_call(rq, 10L, rs, 8L, l);
            if (rc != 0) check(rc, "ADD");
            x = MemoryAccess.getIntAtOffset(r, 4);
        }
        checkAdd(c, x, n);
    }

    void addThroughput(MemorySegment q, MemorySegment r, long n) throws Throwable {
        final MemoryAddress rq = q.address(), rs = r.address(), l = len.address();
        int acc = 0;
        for (long i = 0; i < n; i++) {
            MemoryAccess.setIntAtOffset(q, 2, (int) i);
            int rc = Pan.kvm_call(rq, 10L, rs, 8L, l);
            if (rc != 0) check(rc, "ADD");
            acc += MemoryAccess.getIntAtOffset(r, 4);
        }
        checkSum(acc, n);
    }

    void getLatency(Ctx c, MemorySegment q, MemorySegment r, long n) throws Throwable {
        final MemoryAddress rq = q.address(), rs = r.address(), l = len.address();
        final MemorySegment keys = MemorySegment.ofByteBuffer(Data.keyBytes), qk = q.asSlice(14, Data.keyLen);
        final int kl = Data.keyLen, vl = Data.valLen;
        final long rqLen = 14 + kl, cap = 8 + vl;
        int i = (int) c.chain;
        for (long k = 0; k < n; k++) {
            qk.copyFrom(keys.asSlice((long) i * kl, kl));
            int rc = Pan.kvm_call(rq, rqLen, rs, cap, l);
            if (rc != 0 || MemoryAccess.getIntAtOffset(r, 4) != vl || MemoryAccess.getIntAtOffset(r, 12) != i)
                throw wrong("GET: key " + i + ": " + rc);
            i = MemoryAccess.getIntAtOffset(r, 8);
        }
        c.chain = i;
    }
}
