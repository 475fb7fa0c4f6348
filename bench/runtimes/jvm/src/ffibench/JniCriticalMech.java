// JniCriticalMech.java — jni-critical: kv_noop, kv_add and kv_get through JniCritical, whose glue has
// JavaCritical_ entry points. Opening it checks that HotSpot really links the critical entry once a
// call site is compiled (probe(), in a loop until the JIT took it): without -XX:+CriticalJNINatives,
// or under -Xint, the mechanism fails instead of measuring plain JNI under another name.
package ffibench;

import java.nio.ByteBuffer;

final class JniCriticalMech extends JniMech {
    JniCriticalMech(String name) { super(name); }


    static int probeLoop(int n) {
        int s = 0;
        for (int i = 0; i < n; i++) s += JniCritical.probe();
        return s;
    }

    /** Whether compiled code reaches the JavaCritical_ entry: up to ~2 s of probe loops. */
    static boolean criticalTaken() {
        for (int round = 0; round < 400; round++) {
            if (probeLoop(20000) == 20000) return true;
            try { Thread.sleep(5); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
        }
        return false;
    }

    @Override void open(String path) {
        if (!criticalTaken())
            throw new IllegalStateException("jni-critical: HotSpot never called the JavaCritical_ entry point "
                    + "(is -XX:+CriticalJNINatives on, and the JIT?)");
        super.open(path);
    }

    @Override void run(Ctx c, long n) {
        switch (c.workload) {
            case NOOP: noopC(n); break;
            case ADD_LAT: addLatencyC(c, n); break;
            case ADD_THR: addThroughputC(n); break;
            case GET_LAT: getLatencyC(c, n); break;
            default: throw new IllegalStateException();
        }
    }

    static void noopC(long n) { for (long i = 0; i < n; i++) JniCritical.noop(); }

    static void addLatencyC(Ctx c, long n) {
        int x = (int) c.chain;
        for (long i = 0; i < n; i++) x = JniCritical.add(x, 1);
        checkAdd(c, x, n);
    }

    static void addThroughputC(long n) {
        int acc = 0;
        for (long i = 0; i < n; i++) acc += JniCritical.add((int) i, 1);
        checkSum(acc, n);
    }

    static void getLatencyC(Ctx c, long n) {
        final long txn = c.txn, buf = c.addr[0], kl = Data.keyLen, vl = Data.valLen;
        final ByteBuffer b = c.buf;
        int i = (int) c.chain;
        for (long k = 0; k < n; k++) {
            long len = JniCritical.get(txn, KEYS + i * kl, kl, buf, vl);
            if (len != vl || b.getInt(4) != i) throw wrong("get: key " + i + ": " + len);
            i = b.getInt(0);
        }
        c.chain = i;
    }
}
