// FirstCall.java — a fresh process's first call into libkv, for one mechanism: "LOAD FIRST SECOND".
//
// LOAD: from the clock's first reading until the call can be made: the binding's class initialised
// (jni: System.load of the glue, which loads libkv; panama: System.load of libkv, the symbol lookup
// and the downcall handle, linker included; jna-*: JNA's own classes and libjnidispatch, the library
// opened and the methods registered or the proxy made). FIRST: the first kv_add(2, 3) (jni: JNI's
// lazy linking of the native method — a dlsym — happens here, in the interpreter). SECOND: the same
// call from the same call site. The JVM's start is before the clock; nothing of a binding is touched
// before it (the JVM initialises a class at its first active use, which is inside LOAD).
package ffibench;

import java.lang.invoke.MethodHandle;

final class FirstCall {
    private FirstCall() {}

    static final class FcPan {
        static final MethodHandle ADD;
        static {
            System.load(System.getenv("KV_LIBRARY"));
            ADD = jdk.incubator.foreign.CLinker.getInstance().downcallHandle(
                    jdk.incubator.foreign.SymbolLookup.loaderLookup().lookup("kv_add").orElseThrow(),
                    java.lang.invoke.MethodType.methodType(int.class, int.class, int.class),
                    jdk.incubator.foreign.FunctionDescriptor.of(jdk.incubator.foreign.CLinker.C_INT,
                            jdk.incubator.foreign.CLinker.C_INT, jdk.incubator.foreign.CLinker.C_INT));
        }
    }

    static final class FcJna {
        static native int kv_add(int a, int b);
        static {
            com.sun.jna.Native.register(FcJna.class, com.sun.jna.NativeLibrary.getInstance(System.getenv("KV_LIBRARY")));
        }
    }

    static void init(String cls) throws ClassNotFoundException {
        Class.forName(cls, true, FirstCall.class.getClassLoader());
    }

    static int call(int which) throws Throwable {
        switch (which) {
            case 0: return Jni.add(2, 3);
            case 1: return (int) FcPan.ADD.invokeExact(2, 3);
            default: return FcJna.kv_add(2, 3);
        }
    }

    static int run(String mech) throws Throwable {
        if (mech.equals("none")) return 0; // the whole-process control: the runtime alone
        int which = java.util.Arrays.asList("jni", "panama", "jna-direct").indexOf(mech);
        if (which < 0) {
            System.err.println("jvm: no first-call mechanism " + mech + " (jni, panama, jna-direct, none)");
            return 2;
        }
        String cls = which == 0 ? "ffibench.Jni" : which == 1 ? "ffibench.FirstCall$FcPan" : "ffibench.FirstCall$FcJna";
        System.nanoTime();
        long t0 = System.nanoTime();
        init(cls);
        long t1 = System.nanoTime();
        int a = call(which);
        long t2 = System.nanoTime();
        int b = call(which);
        long t3 = System.nanoTime();
        if (a != 5 || b != 5) {
            System.err.println("jvm: first-call " + mech + ": got " + a + ", " + b + ", want 5");
            return 1;
        }
        System.out.println((t1 - t0) + " " + (t2 - t1) + " " + (t3 - t2));
        return 0;
    }
}
