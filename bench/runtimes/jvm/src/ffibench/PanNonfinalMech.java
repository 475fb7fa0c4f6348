// PanNonfinalMech.java — panama-nonfinal: kv_noop and kv_add through downcall handles held in plain
// instance fields of the binding object (not static final), as a binding that creates its handles
// at run time holds them. C2 cannot treat such a handle as a constant: invokeExact goes through the
// handle's generic invoker (a type check, then its LambdaForm) instead of the inlined linker stub.
package ffibench;

import java.lang.invoke.MethodHandle;

final class PanNonfinalMech extends PanMech {
    MethodHandle noop, add; // created at open, not static final

    // The binding's methods, as Pan's are, over the instance's handles.
    void kvNoop() {
        try { noop.invokeExact(); } catch (Throwable t) { throw new AssertionError(t); }
    }

    int kvAdd(int a, int b) {
        try { return (int) add.invokeExact(a, b); } catch (Throwable t) { throw new AssertionError(t); }
    }

    PanNonfinalMech(String name) { super(name); }


    @Override void open(String path) {
        noop = Pan.handle("kv_noop", Pan.NOOP_T, Pan.NOOP_D);
        add = Pan.handle("kv_add", Pan.ADD_T, Pan.ADD_D);
        super.open(path);
    }

    @Override void run(Ctx c, long n) {
        try {
            switch (c.workload) {
                case NOOP: noopN(n); break;
                case ADD_LAT: addLatencyN(c, n); break;
                case ADD_THR: addThroughputN(n); break;
                default: throw new IllegalStateException();
            }
        } catch (Throwable t) { throw rethrow(t); }
    }

    void noopN(long n) throws Throwable { for (long i = 0; i < n; i++) kvNoop(); }

    void addLatencyN(Ctx c, long n) throws Throwable {
        int x = (int) c.chain;
        for (long i = 0; i < n; i++) x = kvAdd(x, 1);
        checkAdd(c, x, n);
    }

    void addThroughputN(long n) throws Throwable {
        int acc = 0;
        for (long i = 0; i < n; i++) acc += kvAdd((int) i, 1);
        checkSum(acc, n);
    }
}
