// Mech.java — one mechanism (a binding of libkv) and what its loops share: the workloads, the
// per-thread context a loop runs in, and the answer checks of bench/workloads.c.
//
// Each mechanism's loops call its foreign function directly inside the loop (a wrapper would put a
// call between the loop and the crossing measured), so they are written once per binding, in the
// mechanism's own class (Jni*.java, Pan*.java, Jna*.java).
package ffibench;

import java.nio.ByteBuffer;

abstract class Mech {
    // The workloads, by their name in manifest.txt; a mechanism says which of them it runs.
    static final int NOOP = 0, ADD_LAT = 1, ADD_THR = 2, GET_LAT = 3, GET_THR = 4, GET_MISS = 5, PUT = 6,
            BYTES = 7, SCAN = 8, BATCH = 9, NONE = 10;
    static final String[] WORKLOADS = {"noop", "add/mode:latency", "add/mode:throughput", "get/mode:latency",
            "get/mode:throughput", "get_miss", "put", "get", "scan/dir:upcall", "batch"};
    static final int[] ALL = {NOOP, ADD_LAT, ADD_THR, GET_LAT, GET_THR, GET_MISS, PUT, BYTES, SCAN, BATCH};
    static final int[] CALLS = {NOOP, ADD_LAT, ADD_THR};
    static final int[] CALLS_GET = {NOOP, ADD_LAT, ADD_THR, GET_LAT};

    /** What one thread's loop works on: the transaction and the workload's buffers (set up untimed). */
    static final class Ctx {
        int workload, param;
        boolean write;
        long txn;                    // an address (pointer API) or a handle (handle ABI)
        Object txnObj;               // the same as the binding's own type (Panama, JNA)
        long chain, done;            // latency chain / position; puts so far
        ByteBuffer buf, keys, key, keyLens, valLens, req, resp; // direct, little-endian
        Object[] ext = new Object[8]; // the binding's views of them (segments, pointers)
        long[] addr = new long[8];   // their addresses
        int scanN, scanBad;          // the scan upcall's count
    }

    final String name;

    Mech(String name) { this.name = name; }

    /** The workloads mechanism `name` runs (a subset of ALL), known without loading its binding. */
    static int[] workloads(String name) {
        switch (name) {
            case "jni": case "panama": return ALL;
            case "panama-nonfinal": return CALLS;
            default: return CALLS_GET;
        }
    }

    /** Whether it runs noop and get/mode:latency on two threads as well. */
    static boolean threads(String name) { return name.equals("jni") || name.equals("panama"); }

    abstract void open(String path);
    abstract void close();

    /** Begins the workload's transaction in the calling thread and allocates its buffers. */
    abstract Ctx begin(int workload, int param);

    /** Ends c's transaction (put commits, a read aborts), in the thread that began it. */
    abstract void end(Ctx c);

    /** Runs workload c.workload's loop n times. */
    abstract void run(Ctx c, long n);

    // ---- shared setup ----------------------------------------------------------------------------------
    /** The buffers of the pointer-API and handle-ABI loops (bench/workloads.c's setups). */
    static Ctx buffers(int workload, int param) {
        Ctx c = new Ctx();
        c.workload = workload;
        c.param = param;
        c.write = workload == PUT;
        switch (workload) {
            case GET_LAT: case GET_THR: case GET_MISS: c.buf = Data.direct(Data.valLen); break;
            case PUT: c.buf = Data.putValue(); break;
            case BYTES: c.key = Data.bytesKey(param); c.buf = Data.direct(param); break;
            case BATCH:
                c.buf = Data.direct(param * Data.valLen);
                c.keys = Data.direct(param * Data.keyLen);
                c.keyLens = Data.direct(8 * param);
                c.valLens = Data.direct(8 * param);
                for (int i = 0; i < param; i++) c.keyLens.putLong(8 * i, Data.keyLen);
                break;
            default: break;
        }
        return c;
    }

    // ---- the answer checks of bench/workloads.c ------------------------------------------------------------
    static final class WrongAnswer extends RuntimeException {
        WrongAnswer(String what) { super(what); }
    }

    static void check(long rc, String what) {
        if (rc < 0) throw new WrongAnswer(what + ": engine returned " + rc);
    }

    /** add/mode:latency: the chain goes on from the last run. */
    static void checkAdd(Ctx c, int x, long n) {
        int want = (int) (c.chain + n);
        c.chain += n;
        if (x != want) throw new WrongAnswer("add: " + x + " != " + want);
    }

    /** add/mode:throughput: the sum of add(i, 1) for i < n, mod 2^32. */
    static void checkSum(int acc, long n) {
        int want = (int) (n % 2 == 0 ? n / 2 * (n + 1) : (n + 1) / 2 * n);
        if (acc != want) throw new WrongAnswer("add/mode:throughput: " + acc + " != " + want);
    }

    static void checkScan(Ctx c, long count) {
        if (c.scanN != Data.scanRecords || count != Data.scanRecords || c.scanBad != 0)
            throw new WrongAnswer("scan: " + c.scanN + " upcalls, " + count + " counted, " + c.scanBad + " bad");
    }

    static WrongAnswer wrong(String what) { return new WrongAnswer(what); }

    static Mech create(String name) {
        switch (name) {
            case "jni": return new JniMech(name);
            case "jni-critical": return new JniCriticalMech(name);
            case "jni-handle": return new JniHandleMech(name);
            case "jni-marshal": return new JniMarshalMech(name);
            case "panama": return new PanMech(name);
            case "panama-nonfinal": return new PanNonfinalMech(name);
            case "panama-handle": return new PanHandleMech(name);
            case "panama-marshal": return new PanMarshalMech(name);
            case "jna-direct": return new JnaDirectMech(name);
            case "jna-interface": return new JnaInterfaceMech(name);
            default: throw new IllegalArgumentException("no mechanism " + name);
        }
    }

    static final String[] NAMES = {"jni", "jni-critical", "jni-handle", "jni-marshal", "panama", "panama-nonfinal",
            "panama-handle", "panama-marshal", "jna-direct", "jna-interface"};
}
