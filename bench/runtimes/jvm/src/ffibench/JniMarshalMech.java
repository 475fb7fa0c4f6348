// JniMarshalMech.java — jni-marshal: the marshal ABI (kv_marshal.h, one entry point, requests and
// responses as bytes) through the JNI glue's kvm_call. noop, add and get/mode:latency.
package ffibench;

import java.nio.ByteBuffer;

final class JniMarshalMech extends MarshalBase {
    final long reqA = Jni.address(req), respA = Jni.address(resp);

    JniMarshalMech(String name) { super(name); }

    @Override long call(int reqLen) { return Jni.mCall(reqA, reqLen, respA, resp.capacity()); }

    @Override void run(Ctx c, long n) {
        final long rq = Jni.address(c.req), rs = Jni.address(c.resp);
        switch (c.workload) {
            case NOOP: noop(rq, rs, n); break;
            case ADD_LAT: addLatency(c, rq, rs, n); break;
            case ADD_THR: addThroughput(c, rq, rs, n); break;
            case GET_LAT: getLatency(c, rq, rs, n); break;
            default: throw new IllegalStateException();
        }
    }

    static void noop(long rq, long rs, long n) {
        long bad = 0;
        for (long i = 0; i < n; i++) bad |= Jni.mCall(rq, 2, rs, 4);
        if (bad != 4) check(bad < 0 ? bad : -1, "NOOP");
    }

    static void addLatency(Ctx c, long rq, long rs, long n) {
        final ByteBuffer q = c.req, r = c.resp;
        int x = (int) c.chain;
        for (long i = 0; i < n; i++) {
            q.putInt(2, x);
            long len = Jni.mCall(rq, 10, rs, 8);
            if (len != 8) check(len < 0 ? len : -1, "ADD");
            x = r.getInt(4);
        }
        checkAdd(c, x, n);
    }

    static void addThroughput(Ctx c, long rq, long rs, long n) {
        final ByteBuffer q = c.req, r = c.resp;
        int acc = 0;
        for (long i = 0; i < n; i++) {
            q.putInt(2, (int) i);
            long len = Jni.mCall(rq, 10, rs, 8);
            if (len != 8) check(len < 0 ? len : -1, "ADD");
            acc += r.getInt(4);
        }
        checkSum(acc, n);
    }

    static void getLatency(Ctx c, long rq, long rs, long n) {
        final ByteBuffer q = c.req, r = c.resp;
        final int kl = Data.keyLen, vl = Data.valLen, rqLen = 14 + kl, cap = 8 + vl;
        int i = (int) c.chain;
        for (long k = 0; k < n; k++) {
            q.put(14, Data.keyBytes, i * kl, kl);
            long len = Jni.mCall(rq, rqLen, rs, cap);
            if (len != cap || r.getInt(4) != vl || r.getInt(12) != i) throw wrong("GET: key " + i + ": " + len);
            i = r.getInt(8);
        }
        c.chain = i;
    }
}
