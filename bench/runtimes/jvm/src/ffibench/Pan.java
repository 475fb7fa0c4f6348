// Pan.java — libkv through Panama (JDK 17's incubating jdk.incubator.foreign): downcall handles for
// kv.h, kv_handle.h and kv_marshal.h, each held in a static final field, so C2 treats the handle as
// a constant and inlines its linker stub into the caller. libkv ($KV_LIBRARY) is loaded with
// System.load when this class is first used; symbols come from SymbolLookup.loaderLookup().
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
    static final MethodHandle NOOP = handle("kv_noop", NOOP_T, NOOP_D);
    static final MethodHandle ADD = handle("kv_add", ADD_T, ADD_D);
    static final MethodHandle ENV_OPEN = handle("kv_env_open", t(int.class, A, A, A),
            FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_POINTER));
    static final MethodHandle ENV_CLOSE = handle("kv_env_close", t(int.class, A), FunctionDescriptor.of(C_INT, C_POINTER));
    static final MethodHandle TXN_BEGIN = handle("kv_txn_begin", t(int.class, A, A, int.class),
            FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_INT));
    static final MethodHandle TXN_COMMIT = handle("kv_txn_commit", t(int.class, A), FunctionDescriptor.of(C_INT, C_POINTER));
    static final MethodHandle TXN_ABORT = handle("kv_txn_abort", t(int.class, A), FunctionDescriptor.of(C_INT, C_POINTER));
    static final MethodHandle TXN_FREE = handle("kv_txn_free", t(int.class, A), FunctionDescriptor.of(C_INT, C_POINTER));
    static final MethodType GET_T = t(int.class, A, A, long.class, A, long.class, A);
    static final FunctionDescriptor GET_D = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_POINTER, C_LONG, C_POINTER);
    static final MethodHandle GET = handle("kv_get", GET_T, GET_D);
    static final MethodHandle PUT = handle("kv_put", t(int.class, A, A, long.class, A, long.class),
            FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_POINTER, C_LONG));
    static final MethodHandle GET_BATCH = handle("kv_get_batch", t(int.class, A, long.class, A, A, A, long.class, A, A),
            FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_POINTER, C_POINTER));
    static final MethodHandle SCAN = handle("kv_scan", t(int.class, A, A, long.class, A, long.class, A, A, A),
            FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_POINTER, C_LONG, C_POINTER, C_POINTER, C_POINTER));
    /** kv_scan_fn: int (*)(const void *key, size_t, const void *val, size_t, void *payload). */
    static final FunctionDescriptor SCAN_FN_D = FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_POINTER, C_LONG, C_POINTER);
    static final MethodType SCAN_FN_T = t(int.class, A, long.class, A, long.class, A);

    // kv_handle.h: handles are uint64_t, carried as long
    static final MethodHandle H_NOOP = handle("kvh_noop", t(int.class, long.class), FunctionDescriptor.of(C_INT, C_LONG));
    static final MethodHandle H_ADD = handle("kvh_add", t(int.class, long.class, int.class, int.class, A),
            FunctionDescriptor.of(C_INT, C_LONG, C_INT, C_INT, C_POINTER));
    static final MethodHandle H_ENV_OPEN = handle("kvh_env_open", t(int.class, A, A, A),
            FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_POINTER));
    static final MethodHandle H_ENV_CLOSE = handle("kvh_env_close", t(int.class, long.class), FunctionDescriptor.of(C_INT, C_LONG));
    static final MethodHandle H_TXN_BEGIN = handle("kvh_txn_begin", t(int.class, A, long.class, int.class),
            FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_INT));
    static final MethodHandle H_TXN_ABORT = handle("kvh_txn_abort", t(int.class, long.class), FunctionDescriptor.of(C_INT, C_LONG));
    static final MethodHandle H_GET = handle("kvh_get", t(int.class, long.class, A, long.class, A, long.class, A),
            FunctionDescriptor.of(C_INT, C_LONG, C_POINTER, C_LONG, C_POINTER, C_LONG, C_POINTER));

    // kv_marshal.h
    static final MethodHandle M_CALL = handle("kvm_call", t(int.class, A, long.class, A, long.class, A),
            FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_POINTER, C_LONG, C_POINTER));
}
