// Pan.java — libkv through Panama (JDK 17's incubating jdk.incubator.foreign): downcall handles for
// kv.h, kv_handle.h and kv_marshal.h, each held in a static final field, so C2 treats the handle as
// a constant and inlines its linker stub into the caller. libkv ($KV_LIBRARY) is loaded with
// System.load when this class is first used; symbols come from SymbolLookup.loaderLookup().
// Each handle is made when first used (a holder class per function: making one costs tens of ms
// of class spinning), and is then a constant to C2 like any static final field.
// size_t is CLinker.C_LONG (64 bits on Linux/x86-64), carried as long; pointers are MemoryAddress.
package ffibench;

import static jdk.incubator.foreign.CLinker.C_INT;
import static jdk.incubator.foreign.CLinker.C_LONG;
import static jdk.incubator.foreign.CLinker.C_POINTER;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import jdk.incubator.foreign.CLinker;
import jdk.incubator.foreign.FunctionDescriptor;
import jdk.incubator.foreign.MemoryAddress;
import jdk.incubator.foreign.SymbolLookup;

final class Pan {
    private Pan() {}

    static { System.load(System.getenv("KV_LIBRARY")); }

    static final Class<?> A = MemoryAddress.class;

    static MemoryAddress symbol(String name) {
        return SymbolLookup.loaderLookup().lookup(name)
                .orElseThrow(() -> new IllegalStateException("libkv has no symbol " + name));
    }

    static MethodHandle handle(String name, MethodType type, FunctionDescriptor fd) {
        return CLinker.getInstance().downcallHandle(symbol(name), type, fd);
    }

    static MethodType t(Class<?> r, Class<?>... a) { return MethodType.methodType(r, a); }

    // kv.h
    static final MethodType NOOP_T = t(void.class), ADD_T = t(int.class, int.class, int.class);
    static final FunctionDescriptor NOOP_D = FunctionDescriptor.ofVoid(), ADD_D = FunctionDescriptor.of(C_INT, C_INT, C_INT);
    static final class NOOP { static final MethodHandle H = handle("kv_noop", NOOP_T, NOOP_D); }
    static final class ADD { static final MethodHandle H = handle("kv_add", ADD_T, ADD_D); }
    static final class ENV_OPEN { static final MethodHandle H = handle("kv_env_open", t(int.class, A, A, A),
            FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_POINTER)); }
    static final class ENV_CLOSE { static final MethodHandle H = handle("kv_env_close", t(int.class, A), FunctionDescriptor.of(C_INT, C_POINTER)); }
    static final class TXN_BEGIN { static final MethodHandle H = handle("kv_txn_begin", t(int.class, A, A, int.class),
            FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_INT)); }
    static final class TXN_COMMIT { static final MethodHandle H = handle("kv_txn_commit", t(int.class, A), FunctionDescriptor.of(C_INT, C_POINTER)); }
    static final class TXN_ABORT { static final MethodHandle H = handle("kv_txn_abort", t(int.class, A), FunctionDescriptor.of(C_INT, C_POINTER)); }
    static final class TXN_FREE { static final MethodHandle H = handle("kv_txn_free", t(int.class, A), FunctionDescriptor.of(C_INT, C_POINTER)); }
    static final MethodType GET_T = t(int.class, A, A, long.class, A, long.class, A);
    static final FunctionDescriptor GET_D = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_POINTER, C_LONG, C_POINTER);
    static final class GET { static final MethodHandle H = handle("kv_get", GET_T, GET_D); }
    static final class PUT { static final MethodHandle H = handle("kv_put", t(int.class, A, A, long.class, A, long.class),
            FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_POINTER, C_LONG)); }
    static final class GET_BATCH { static final MethodHandle H = handle("kv_get_batch", t(int.class, A, long.class, A, A, A, long.class, A, A),
            FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_POINTER, C_POINTER)); }
    static final class SCAN { static final MethodHandle H = handle("kv_scan", t(int.class, A, A, long.class, A, long.class, A, A, A),
            FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_POINTER, C_LONG, C_POINTER, C_POINTER, C_POINTER)); }
    /** kv_scan_fn: int (*)(const void *key, size_t, const void *val, size_t, void *payload). */
    static final FunctionDescriptor SCAN_FN_D = FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_POINTER, C_LONG, C_POINTER);
    static final MethodType SCAN_FN_T = t(int.class, A, long.class, A, long.class, A);

    // kv_handle.h: handles are uint64_t, carried as long
    static final class H_NOOP { static final MethodHandle H = handle("kvh_noop", t(int.class, long.class), FunctionDescriptor.of(C_INT, C_LONG)); }
    static final class H_ADD { static final MethodHandle H = handle("kvh_add", t(int.class, long.class, int.class, int.class, A),
            FunctionDescriptor.of(C_INT, C_LONG, C_INT, C_INT, C_POINTER)); }
    static final class H_ENV_OPEN { static final MethodHandle H = handle("kvh_env_open", t(int.class, A, A, A),
            FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_POINTER)); }
    static final class H_ENV_CLOSE { static final MethodHandle H = handle("kvh_env_close", t(int.class, long.class), FunctionDescriptor.of(C_INT, C_LONG)); }
    static final class H_TXN_BEGIN { static final MethodHandle H = handle("kvh_txn_begin", t(int.class, A, long.class, int.class),
            FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_INT)); }
    static final class H_TXN_ABORT { static final MethodHandle H = handle("kvh_txn_abort", t(int.class, long.class), FunctionDescriptor.of(C_INT, C_LONG)); }
    static final class H_GET { static final MethodHandle H = handle("kvh_get", t(int.class, long.class, A, long.class, A, long.class, A),
            FunctionDescriptor.of(C_INT, C_LONG, C_POINTER, C_LONG, C_POINTER, C_LONG, C_POINTER)); }

    // kv_marshal.h
    static final class M_CALL { static final MethodHandle H = handle("kvm_call", t(int.class, A, long.class, A, long.class, A),
            FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_POINTER, C_LONG, C_POINTER)); }

    // The functions as a binding generated by jextract has them: a static method per function that
    // calls its handle with invokeExact (checked exceptions become an AssertionError). The method is
    // the binding's call site: invoked per call, it is compiled by C2 (the handle inlined, the call
    // intrinsified) after a few thousand calls, whatever the loop around it does meanwhile.
    static void kv_noop() {
        try { NOOP.H.invokeExact(); } catch (Throwable t) { throw new AssertionError(t); }
    }
    static int kv_add(int a0, int a1) {
        try { return (int) ADD.H.invokeExact(a0, a1); } catch (Throwable t) { throw new AssertionError(t); }
    }
    static int kv_env_open(MemoryAddress a0, MemoryAddress a1, MemoryAddress a2) {
        try { return (int) ENV_OPEN.H.invokeExact(a0, a1, a2); } catch (Throwable t) { throw new AssertionError(t); }
    }
    static int kv_env_close(MemoryAddress a0) {
        try { return (int) ENV_CLOSE.H.invokeExact(a0); } catch (Throwable t) { throw new AssertionError(t); }
    }
    static int kv_txn_begin(MemoryAddress a0, MemoryAddress a1, int a2) {
        try { return (int) TXN_BEGIN.H.invokeExact(a0, a1, a2); } catch (Throwable t) { throw new AssertionError(t); }
    }
    static int kv_txn_commit(MemoryAddress a0) {
        try { return (int) TXN_COMMIT.H.invokeExact(a0); } catch (Throwable t) { throw new AssertionError(t); }
    }
    static int kv_txn_abort(MemoryAddress a0) {
        try { return (int) TXN_ABORT.H.invokeExact(a0); } catch (Throwable t) { throw new AssertionError(t); }
    }
    static int kv_txn_free(MemoryAddress a0) {
        try { return (int) TXN_FREE.H.invokeExact(a0); } catch (Throwable t) { throw new AssertionError(t); }
    }
    static int kv_get(MemoryAddress a0, MemoryAddress a1, long a2, MemoryAddress a3, long a4, MemoryAddress a5) {
        try { return (int) GET.H.invokeExact(a0, a1, a2, a3, a4, a5); } catch (Throwable t) { throw new AssertionError(t); }
    }
    static int kv_put(MemoryAddress a0, MemoryAddress a1, long a2, MemoryAddress a3, long a4) {
        try { return (int) PUT.H.invokeExact(a0, a1, a2, a3, a4); } catch (Throwable t) { throw new AssertionError(t); }
    }
    static int kv_get_batch(MemoryAddress a0, long a1, MemoryAddress a2, MemoryAddress a3, MemoryAddress a4, long a5, MemoryAddress a6, MemoryAddress a7) {
        try { return (int) GET_BATCH.H.invokeExact(a0, a1, a2, a3, a4, a5, a6, a7); } catch (Throwable t) { throw new AssertionError(t); }
    }
    static int kv_scan(MemoryAddress a0, MemoryAddress a1, long a2, MemoryAddress a3, long a4, MemoryAddress a5, MemoryAddress a6, MemoryAddress a7) {
        try { return (int) SCAN.H.invokeExact(a0, a1, a2, a3, a4, a5, a6, a7); } catch (Throwable t) { throw new AssertionError(t); }
    }
    static int kvh_noop(long a0) {
        try { return (int) H_NOOP.H.invokeExact(a0); } catch (Throwable t) { throw new AssertionError(t); }
    }
    static int kvh_add(long a0, int a1, int a2, MemoryAddress a3) {
        try { return (int) H_ADD.H.invokeExact(a0, a1, a2, a3); } catch (Throwable t) { throw new AssertionError(t); }
    }
    static int kvh_env_open(MemoryAddress a0, MemoryAddress a1, MemoryAddress a2) {
        try { return (int) H_ENV_OPEN.H.invokeExact(a0, a1, a2); } catch (Throwable t) { throw new AssertionError(t); }
    }
    static int kvh_env_close(long a0) {
        try { return (int) H_ENV_CLOSE.H.invokeExact(a0); } catch (Throwable t) { throw new AssertionError(t); }
    }
    static int kvh_txn_begin(MemoryAddress a0, long a1, int a2) {
        try { return (int) H_TXN_BEGIN.H.invokeExact(a0, a1, a2); } catch (Throwable t) { throw new AssertionError(t); }
    }
    static int kvh_txn_abort(long a0) {
        try { return (int) H_TXN_ABORT.H.invokeExact(a0); } catch (Throwable t) { throw new AssertionError(t); }
    }
    static int kvh_get(long a0, MemoryAddress a1, long a2, MemoryAddress a3, long a4, MemoryAddress a5) {
        try { return (int) H_GET.H.invokeExact(a0, a1, a2, a3, a4, a5); } catch (Throwable t) { throw new AssertionError(t); }
    }
    static int kvm_call(MemoryAddress a0, long a1, MemoryAddress a2, long a3, MemoryAddress a4) {
        try { return (int) M_CALL.H.invokeExact(a0, a1, a2, a3, a4); } catch (Throwable t) { throw new AssertionError(t); }
    }
}
