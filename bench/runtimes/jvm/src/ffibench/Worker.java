// Worker.java — the jvm runtimes' worker (bench/runtimes/README.md is the protocol).
//
//   java … ffibench.Worker worker                    answers the driver's requests on stdin/stdout
//   java … ffibench.Worker worker first-call MECH    prints "LOAD FIRST SECOND" (ns) and exits
//
// It holds no measurement method: the driver says how many iterations and repeats; this runs the
// mechanisms' loops, reads the clocks immediately around each run, and reports. The runtime it is
// (jvm: tiered C1/C2; jvm-int: -Xint) comes from -Dffibench.runtime, checked against the VM itself.
package ffibench;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;

public final class Worker {
    static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    static final String RUNTIME = System.getProperty("ffibench.runtime", "jvm");
    static final boolean INTERPRETED = RUNTIME.equals("jvm-int");

    /** One benchmark: its mechanism ("control" for the empty loop), workload, parameter, threads. */
    static final class Bench {
        String name, mech, ops;
        int workload, param, threads;
    }

    final Map<String, Bench> benches = new LinkedHashMap<>();
    final Map<String, Mech> opened = new HashMap<>();
    final List<String> firstCalls = new ArrayList<>();
    Bench current;
    Mech currentMech;
    Mech.Ctx ctx;
    Pair pair;

    static String env(String name) {
        String v = System.getenv(name);
        if (v == null || v.isEmpty()) throw new IllegalStateException(name + " is not set");
        return v;
    }

    // ---- which runtime this process is ---------------------------------------------------------------------
    static List<String> vmArgs() { return ManagementFactory.getRuntimeMXBean().getInputArguments(); }

    static String problem() {
        boolean xint = vmArgs().contains("-Xint"), interp = System.getProperty("java.vm.info", "").contains("interpreted");
        if (INTERPRETED != (xint && interp))
            return RUNTIME + " runs with java.vm.info '" + System.getProperty("java.vm.info") + "', arguments " + vmArgs();
        if (!RUNTIME.equals("jvm") && !INTERPRETED) return "unknown runtime " + RUNTIME;
        return null;
    }

    // The mechanisms, and what each runs, per runtime. jvm-int runs the calls only (its figures are
    // the interpreter's cost of a call, the rest would be the interpreter's cost of the loop).
    static String[] mechanisms() {
        return INTERPRETED ? new String[] {"jni", "panama", "jna-direct"} : Mech.NAMES;
    }

    static final String[] FIRST_CALL_JVM = {"jni", "panama", "jna-direct"}, FIRST_CALL_INT = {};

    // What a run lists, to keep a full run within the jvm's share of its time (5 forks of a JVM cost
    // ~0.6 s each): every mechanism's noop and add/mode:latency; jni every workload, at the ends of
    // the payload curve and one batch size; panama the calls, a get, put, scan and one batch size.
    // FFIBENCH_LIST=all in the environment lists everything the loops can do (every mechanism's workloads, every size).
    static final boolean ALL = "all".equals(System.getenv("FFIBENCH_LIST"));
    static final int[] BYTES = {8, 1048576}, BATCH = {16};

    static boolean among(int v, int[] set) {
        for (int s : set) if (s == v) return true;
        return false;
    }

    /** Whether the run lists mechanism m's workload w with parameter p (0: none). */
    static boolean listed(String m, int w, int p) {
        if (INTERPRETED) return w == Mech.NOOP && m.equals("jni") || w == Mech.ADD_LAT;
        if (ALL) return true;
        if (w == Mech.NOOP || w == Mech.ADD_LAT) return true;
        if (w == Mech.BYTES && !among(p, BYTES) || w == Mech.BATCH && !among(p, BATCH)) return false;
        if (m.equals("jni")) return w != Mech.GET_THR && w != Mech.GET_MISS;
        if (m.equals("panama")) return w == Mech.ADD_THR || w == Mech.GET_LAT || w == Mech.PUT || w == Mech.SCAN || w == Mech.BATCH;
        return false;
    }

    void add(String mech, int workload, int param, String suffix, String ops, int threads) {
        if (!mech.equals("control") && !listed(mech, workload, param)) return;
        Bench b = new Bench();
        b.name = RUNTIME + "/" + mech + "/" + suffix;
        b.mech = mech;
        b.workload = workload;
        b.param = param;
        b.ops = ops;
        b.threads = threads;
        benches.put(b.name, b);
    }

    void plan() throws IOException {
        if (!benches.isEmpty()) return;
        Data.load(env("FFIBENCH_DATA"));
        add("control", Mech.NONE, 0, "loop", "1", 1);
        for (String m : mechanisms()) {
            int[] ws = Mech.workloads(m);
            for (Data.Workload w : Data.workloads) {
                int code = Mech.NONE;
                for (int c : ws) if (Mech.WORKLOADS[c].equals(w.name)) code = c;
                if (code == Mech.NONE) continue;
                if (w.param.equals("-")) {
                    add(m, code, 0, w.name, w.ops, 1);
                    if (Mech.threads(m) && !INTERPRETED && (ALL || m.equals("jni")) && (code == Mech.NOOP || code == Mech.GET_LAT))
                        add(m, code, 0, w.name + "/threads:2", w.ops, 2);
                } else {
                    for (int v : w.values)
                        add(m, code, v, w.name + "/" + w.param + ":" + v, w.ops.equals(w.param) ? Integer.toString(v) : w.ops, 1);
                }
            }
        }
    }

    List<String> hello() {
        String p = problem();
        if (p != null) throw new IllegalStateException(p);
        List<String> out = new ArrayList<>();
        out.add("context\truntime_name\t" + System.getProperty("java.vm.name"));
        out.add("context\truntime_version\t" + System.getProperty("java.runtime.version") + " (" + System.getProperty("java.vendor") + ")");
        String built = "";
        try { built = "; built: " + Files.readString(Path.of(System.getProperty("ffibench.out"), "build.txt")).trim().replace("\n", "; "); }
        catch (IOException e) { built = "; build.txt missing"; }
        out.add("context\truntime_flags\t" + String.join(" ", vmArgs()) + built);
        out.add("context\truntime_mode\t" + System.getProperty("java.vm.info") + "; " + jitText());
        out.add("context\tclock\tSystem.nanoTime (CLOCK_MONOTONIC); ThreadMXBean.getCurrentThreadCpuTime (CLOCK_THREAD_CPUTIME_ID)");
        out.add("context\tkv_binding\tJNI glue " + System.getProperty("ffibench.out") + "/libkvjni.so; Panama and JNA load "
                + System.getenv("KV_LIBRARY"));
        out.add("context\tjna_version\t" + jnaVersion());
        out.add("protocol\t1");
        return out;
    }

    static String jnaVersion() {
        try { return com.sun.jna.Native.VERSION + " (native " + com.sun.jna.Native.VERSION_NATIVE + ")"; }
        catch (Throwable t) { return "unavailable: " + t; }
    }

    List<String> list() throws IOException {
        plan();
        List<String> out = new ArrayList<>();
        for (Bench b : benches.values()) out.add("bench\t" + b.name + "\t" + b.ops + "\t" + b.threads);
        for (String m : INTERPRETED ? FIRST_CALL_INT : FIRST_CALL_JVM) out.add("first-call\t" + m);
        return out;
    }

    // ---- the JIT's compile count -------------------------------------------------------------------------------
    // HotSpot's count of compiled methods (sun.ci.totalCompiles, through sun.management's internal
    // HotspotCompilationMBean; needs --add-exports java.management/sun.management=ALL-UNNAMED), or,
    // without it, the cumulative compilation time in ms: both stand still once compiling is done.
    static String jitSource = "";
    static final java.util.function.LongSupplier JIT = jitCounter();

    static java.util.function.LongSupplier jitCounter() {
        try {
            Class<?> h = Class.forName("sun.management.ManagementFactoryHelper");
            Object bean = h.getMethod("getHotspotCompilationMBean").invoke(null);
            java.lang.reflect.Method count = Class.forName("sun.management.HotspotCompilationMBean").getMethod("getTotalCompileCount");
            count.invoke(bean);
            jitSource = "jit count: HotSpot's total compiles (sun.ci.totalCompiles)";
            return () -> {
                try { return ((Number) count.invoke(bean)).longValue(); } catch (ReflectiveOperationException e) { return -1; }
            };
        } catch (Throwable t) {
            CompilationMXBean c = ManagementFactory.getCompilationMXBean();
            jitSource = "jit count: CompilationMXBean total compilation time, ms (" + t + ")";
            return c == null ? () -> 0 : c::getTotalCompilationTime;
        }
    }

    static String jitText() {
        CompilationMXBean c = ManagementFactory.getCompilationMXBean();
        return (c == null ? "no JIT" : "JIT: " + c.getName()) + "; " + (INTERPRETED ? "no jit lines (-Xint)" : jitSource);
    }

    // ---- runs -------------------------------------------------------------------------------------------------------
    static long sink; // the control loop's store

    /** The loop of every benchmark with nothing in it but a static store of its counter (no call:
     *  under -Xint a Java call would cost more than the loop; C2 may sink the store and remove the
     *  loop, which is what an empty loop costs there). */
    static void controlLoop(long n) {
        for (long i = 0; i < n; i++) sink = i;
    }

    void select(String name) throws IOException {
        if (current != null && current.name.equals(name)) return;
        plan();
        Bench b = benches.get(name);
        if (b == null) throw new IllegalArgumentException("no benchmark " + name);
        end();
        if (!b.mech.equals("control")) {
            Mech m = opened.get(b.mech);
            if (m == null) {
                Path path = Path.of(env("FFIBENCH_SCRATCH"), b.mech + ".kv");
                Files.copy(Path.of(env("FFIBENCH_DATA"), "base.kv"), path, StandardCopyOption.REPLACE_EXISTING);
                m = Mech.create(b.mech);
                m.open(path.toString());
                opened.put(b.mech, m);
            }
            if (b.threads == 2) pair = new Pair(m, b.workload, b.param);
            else ctx = m.begin(b.workload, b.param);
            currentMech = m;
        }
        current = b;
    }

    void end() {
        Mech m = currentMech;
        Mech.Ctx c = ctx;
        Pair p = pair;
        current = null;
        currentMech = null;
        ctx = null;
        pair = null;
        if (p != null) p.stop();
        if (m != null && c != null) m.end(c);
    }

    List<String> run(String name, long iterations, int repeats) throws Exception {
        select(name);
        List<String> out = new ArrayList<>(repeats + 1);
        try {
            final Mech m = currentMech;
            final Mech.Ctx c = ctx;
            for (int r = 0; r < repeats; r++) {
                long w, cpu;
                if (pair != null) {
                    long[] s = pair.run(iterations);
                    w = s[0];
                    cpu = s[1];
                } else if (m == null) {
                    long c0 = THREADS.getCurrentThreadCpuTime(), t0 = System.nanoTime();
                    controlLoop(iterations);
                    long t1 = System.nanoTime(), c1 = THREADS.getCurrentThreadCpuTime();
                    w = t1 - t0;
                    cpu = c1 - c0;
                } else {
                    long c0 = THREADS.getCurrentThreadCpuTime(), t0 = System.nanoTime();
                    m.run(c, iterations);
                    long t1 = System.nanoTime(), c1 = THREADS.getCurrentThreadCpuTime();
                    w = t1 - t0;
                    cpu = c1 - c0;
                }
                out.add("sample\t" + w + "\t" + cpu);
            }
        } catch (RuntimeException | Error e) {
            try { end(); } catch (RuntimeException ignored) { } // the next run of it starts afresh
            throw e;
        }
        if (!INTERPRETED) out.add("jit\t" + JIT.getAsLong());
        return out;
    }

    /** Two threads, each with its own context (a transaction belongs to its thread), made at setup
     *  and kept until the benchmark ends; a run starts both at once and waits for both. WALL is from
     *  the common start to the later end, CPU the sum of both threads' CPU time. */
    static final class Pair {
        final Mech m;
        final CyclicBarrier start = new CyclicBarrier(3), done = new CyclicBarrier(3);
        final Thread[] threads = new Thread[2];
        final long[] cpu = new long[2], endNs = new long[2];
        final Throwable[] failed = new Throwable[2];
        volatile long n; // iterations of the next run; 0: stop
        volatile long t0;

        Pair(Mech m, int workload, int param) {
            this.m = m;
            CyclicBarrier ready = new CyclicBarrier(3);
            for (int k = 0; k < 2; k++) {
                final int id = k;
                threads[k] = new Thread(() -> body(id, workload, param, ready), "ffibench-" + k);
                threads[k].setDaemon(true);
                threads[k].start();
            }
            await(ready);
            for (Throwable t : failed) if (t != null) throw new IllegalStateException("thread setup: " + t, t);
        }

        static void await(CyclicBarrier b) {
            try { b.await(); } catch (Exception e) { throw new IllegalStateException(e); }
        }

        void body(int id, int workload, int param, CyclicBarrier ready) {
            Mech.Ctx c = null;
            try { c = m.begin(workload, param); } catch (Throwable t) { failed[id] = t; }
            await(ready);
            if (c == null) return;
            while (true) {
                await(start);
                long iters = n;
                if (iters == 0) break;
                try {
                    long c0 = THREADS.getCurrentThreadCpuTime();
                    m.run(c, iters);
                    endNs[id] = System.nanoTime();
                    cpu[id] = THREADS.getCurrentThreadCpuTime() - c0;
                } catch (Throwable t) { failed[id] = t; }
                await(done);
            }
            m.end(c);
        }

        long[] run(long iterations) {
            n = iterations;
            long t = System.nanoTime();
            await(start);
            await(done);
            for (Throwable f : failed) if (f != null) {
                if (f instanceof RuntimeException) throw (RuntimeException) f;
                throw new IllegalStateException(f);
            }
            return new long[] {Math.max(endNs[0], endNs[1]) - t, cpu[0] + cpu[1]};
        }

        void stop() {
            n = 0;
            await(start);
            for (Thread t : threads) {
                try { t.join(); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
            }
        }
    }

    void close() {
        end();
        for (Mech m : opened.values()) m.close();
    }

    static long count(String s, long max) {
        long v;
        try { v = Long.parseLong(s); } catch (NumberFormatException e) { v = 0; }
        if (v < 1 || v > max || !s.chars().allMatch(Character::isDigit))
            throw new IllegalArgumentException("'" + s + "' is not an integer from 1 to " + max);
        return v;
    }

    List<String> answer(String line) throws Exception {
        String[] f = line.split("\t", -1);
        if (f.length == 1 && f[0].equals("hello")) return hello();
        if (f.length == 1 && f[0].equals("list")) return list();
        if (f.length == 1 && f[0].equals("data")) {
            Data.load(env("FFIBENCH_DATA"));
            return List.of("checksum\t" + Data.checksum);
        }
        if (f.length == 4 && f[0].equals("run")) return run(f[1], count(f[2], Long.MAX_VALUE), (int) count(f[3], 1000000));
        throw new IllegalArgumentException("bad request '" + line + "'");
    }

    static int serve() throws IOException {
        // stdout carries the protocol only: System.out goes to stderr from here on.
        BufferedWriter proto = new BufferedWriter(new OutputStreamWriter(new java.io.FileOutputStream(java.io.FileDescriptor.out), StandardCharsets.UTF_8));
        System.setOut(new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        Worker w = new Worker();
        String line;
        while ((line = in.readLine()) != null && !line.equals("quit")) {
            try {
                List<String> out = w.answer(line);
                for (String l : out) proto.write(l + "\n");
                proto.write("ok\n");
            } catch (Throwable e) { // every failure is an answer: a wrong answer, an engine error, a bad request
                String what = e instanceof Mech.WrongAnswer ? e.getMessage() : e.getClass().getSimpleName() + ": " + e.getMessage();
                proto.write("error\t" + what.replace('\t', ' ').replace('\r', ' ').replace('\n', ' ') + "\n");
            }
            try { proto.flush(); } catch (IOException e) { System.err.println("jvm: stdout is closed; quitting"); break; }
        }
        try { w.close(); } catch (RuntimeException e) { System.err.println("jvm: closing: " + e); }
        return 0;
    }

    public static void main(String[] a) throws Throwable {
        int rc;
        if (a.length == 1 && a[0].equals("worker")) rc = serve();
        else if (a.length == 3 && a[0].equals("worker") && a[1].equals("first-call")) rc = FirstCall.run(a[2]);
        else {
            System.err.println("usage: ffibench.Worker worker | ffibench.Worker worker first-call MECHANISM|none");
            rc = 2;
        }
        System.exit(rc);
    }
}
