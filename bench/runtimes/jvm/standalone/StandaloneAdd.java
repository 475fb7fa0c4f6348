// StandaloneAdd.java — a user's own loop for kv_add through JNI, sharing no code with the worker:
// its own native method, bound to its own two-line glue (standalone/standalone_add.c, built into
// libstandaloneadd.so by ../build), called as x = add(x, 1) in a static method's loop, timed with
// System.nanoTime. The cross-check of jvm/jni/add/mode:latency (--validate). Prints the median of the
// last 5 of 20 rounds of 10^6 calls, in ns per call, loop included (the first rounds warm C2 up).
public final class StandaloneAdd {
    static native int add(int a, int b);

    static int loop(int n, int x) {
        for (int i = 0; i < n; i++) x = add(x, 1);
        return x;
    }

    public static void main(String[] args) {
        System.load(args[0]);
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
