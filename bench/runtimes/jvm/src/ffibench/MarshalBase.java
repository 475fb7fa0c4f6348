// MarshalBase.java — what the two marshal-ABI mechanisms (jni-marshal, panama-marshal) share: the
// requests around the workloads (ENV_OPEN, TXN_BEGIN, …, engine/doc/PROTOCOL.md), written into
// direct buffers and sent through the subclass's kvm_call. The loops are the subclasses' own.
package ffibench;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

abstract class MarshalBase extends Mech {
    static final byte V = (byte) KvAbi.KVM_VERSION;
    long env;
    final ByteBuffer req = Data.direct(8192), resp = Data.direct(64);

    MarshalBase(String name) { super(name); }


    /** kvm_call on req/resp (setup only): the response's length, or the status. */
    abstract long call(int reqLen);

    long simple(int op, long h, String what) {
        req.put(0, V).put(1, (byte) op).putLong(2, h);
        long r = call(10);
        check(r, what);
        return r;
    }

    @Override void open(String path) {
        byte[] p = path.getBytes(StandardCharsets.UTF_8);
        req.put(0, V).put(1, (byte) KvAbi.KVM_OP_ENV_OPEN).putInt(2, p.length).put(6, p);
        int o = 6 + p.length;
        req.putInt(o, KvAbi.KV_OPTIONS_VERSION).putInt(o + 4, 0).putLong(o + 8, 1L << 30)
                .putInt(o + 16, KvAbi.KV_DURABLE_NOSYNC).putInt(o + 20, 0);
        check(call(o + 24), "ENV_OPEN");
        env = resp.getLong(4);
    }

    @Override void close() { simple(KvAbi.KVM_OP_ENV_CLOSE, env, "ENV_CLOSE"); }

    @Override Ctx begin(int workload, int param) {
        Ctx c = new Ctx();
        c.workload = workload;
        c.param = param;
        req.put(0, V).put(1, (byte) KvAbi.KVM_OP_TXN_BEGIN).putLong(2, env).putInt(10, KvAbi.KV_TXN_READ);
        check(call(14), "TXN_BEGIN");
        c.txn = resp.getLong(4);
        // The workload's own request and response buffers.
        switch (workload) {
            case NOOP:
                c.req = Data.direct(2).put(0, V).put(1, (byte) KvAbi.KVM_OP_NOOP);
                c.resp = Data.direct(4);
                break;
            case ADD_LAT: case ADD_THR:
                c.req = Data.direct(10).put(0, V).put(1, (byte) KvAbi.KVM_OP_ADD).putInt(6, 1);
                c.resp = Data.direct(8);
                break;
            case GET_LAT:
                c.req = Data.direct(14 + Data.keyLen).put(0, V).put(1, (byte) KvAbi.KVM_OP_GET).putLong(2, c.txn)
                        .putInt(10, Data.keyLen);
                c.resp = Data.direct(8 + Data.valLen);
                break;
            default: throw new IllegalStateException();
        }
        return c;
    }

    @Override void end(Ctx c) { simple(KvAbi.KVM_OP_TXN_ABORT, c.txn, "TXN_ABORT"); }
}
