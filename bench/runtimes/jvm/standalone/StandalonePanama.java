// StandalonePanama.java — a user's own loop for kv_add through Panama (jdk.incubator.foreign),
// sharing no code with the worker: a downcall handle in a static final field, x = (int)
// ADD.invokeExact(x, 1) in a static method's loop, timed with System.nanoTime. The cross-check of
// jvm/panama/add/mode:latency (--validate). Prints the median of the last 5 of 20 rounds of 10^6
// calls, in ns per call, loop included.
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import jdk.incubator.foreign.CLinker;
import jdk.incubator.foreign.FunctionDescriptor;
import jdk.incubator.foreign.SymbolLookup;

public final class StandalonePanama {
    static { System.load(System.getenv("KV_LIBRARY")); }

    static final MethodHandle ADD = CLinker.getInstance().downcallHandle(
            SymbolLookup.loaderLookup().lookup("kv_add").orElseThrow(),
            MethodType.methodType(int.class, int.class, int.class),
            FunctionDescriptor.of(CLinker.C_INT, CLinker.C_INT, CLinker.C_INT));

    static int loop(int n, int x) throws Throwable {
        for (int i = 0; i < n; i++) x = (int) ADD.invokeExact(x, 1);
        return x;
    }

    public static void main(String[] args) throws Throwable {
        final int n = 1_000_000, rounds = 20;
        double[] ns = new double[rounds];
        int x = 0;
        for (int r = 0; r < rounds; r++) {
            long t0 = System.nanoTime();
            x = loop(n, x);
            ns[r] = (System.nanoTime() - t0) / (double) n;
        }
        if (x != n * rounds) System.exit(1);
        double[] last = java.util.Arrays.copyOfRange(ns, rounds - 5, rounds);
        java.util.Arrays.sort(last);
        System.out.printf(java.util.Locale.ROOT, "%.4f%n", last[2]);
    }
}
