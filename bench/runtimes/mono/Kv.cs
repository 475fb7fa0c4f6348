// Kv.cs — libkv's P/Invoke declarations, one class per mechanism.
//
// "kv" is mapped to the absolute path of libkv.so by Bench.exe.config (a Mono <dllmap>, written by
// `build`), so no LD_LIBRARY_PATH is involved. Mono resolves a DllImport lazily: the JIT when it
// compiles the calling method, AOT code at the first call.
using System;
using System.Runtime.InteropServices;

namespace FfiBench
{
    [StructLayout(LayoutKind.Sequential)]
    struct KvOptions // kv.h's kv_options, version 1: 24 bytes, no padding
    {
        public uint Version, Flags;
        public ulong MapSize;
        public uint Durability, Reserved;

        public static KvOptions NoSync() =>
            new KvOptions { Version = KvAbi.KV_OPTIONS_VERSION, MapSize = 1UL << 30, Durability = KvAbi.KV_DURABLE_NOSYNC };
    }

    // kv_scan_fn. Marshaled as a delegate: Mono makes a native-to-managed thunk for it. Full AOT must
    // generate that thunk ahead of time, which it does for methods carrying MonoPInvokeCallback.
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate int ScanFn(IntPtr key, UIntPtr keyLen, IntPtr val, UIntPtr valLen, IntPtr payload);

    // Mono recognises this attribute by name; there is no assembly to reference for it.
    [AttributeUsage(AttributeTargets.Method)]
    sealed class MonoPInvokeCallbackAttribute : Attribute
    {
        public MonoPInvokeCallbackAttribute(Type t) { }
    }

    // dllimport: blittable signatures only (pointers, integers): no marshaling stub work per call
    // beyond the transition; the caller pins with `fixed`.
    static unsafe class Native
    {
        const string Lib = "kv";
        [DllImport(Lib)] public static extern void kv_noop();
        [DllImport(Lib)] public static extern int kv_add(int a, int b);
        [DllImport(Lib)] public static extern IntPtr kv_version_string();
        [DllImport(Lib)] public static extern int kv_env_open(out IntPtr env, byte* path, ref KvOptions opts);
        [DllImport(Lib)] public static extern int kv_env_close(IntPtr env);
        [DllImport(Lib)] public static extern int kv_txn_begin(out IntPtr txn, IntPtr env, uint flags);
        [DllImport(Lib)] public static extern int kv_txn_commit(IntPtr txn);
        [DllImport(Lib)] public static extern int kv_txn_abort(IntPtr txn);
        [DllImport(Lib)] public static extern int kv_txn_free(IntPtr txn);
        [DllImport(Lib)] public static extern int kv_put(IntPtr txn, byte* key, UIntPtr keyLen, byte* val, UIntPtr valLen);
        [DllImport(Lib)] public static extern int kv_get(IntPtr txn, byte* key, UIntPtr keyLen, byte* buf, UIntPtr cap, UIntPtr* len);
        [DllImport(Lib)] public static extern int kv_get_batch(IntPtr txn, UIntPtr n, byte* keys, UIntPtr* keyLens, byte* buf, UIntPtr cap, UIntPtr* valLens, UIntPtr* found);
        [DllImport(Lib)] public static extern int kv_scan(IntPtr txn, byte* lo, UIntPtr loLen, byte* hi, UIntPtr hiLen, ScanFn fn, IntPtr payload, UIntPtr* count);
    }

    // dllimport-marshaled: what a binding writes without thinking about pinning: byte[] and string
    // parameters, out/ref sizes. Mono pins blittable arrays (byte[], UIntPtr[]) in place, but a
    // string key is converted to a fresh NUL-terminated UTF-8 copy on every call (and freed after).
    static class Marshaled
    {
        const string Lib = "kv";
        [DllImport(Lib)] public static extern int kv_get(IntPtr txn, [MarshalAs(UnmanagedType.LPStr)] string key, UIntPtr keyLen, [Out] byte[] buf, UIntPtr cap, out UIntPtr len);
        [DllImport(Lib)] public static extern int kv_put(IntPtr txn, [MarshalAs(UnmanagedType.LPStr)] string key, UIntPtr keyLen, byte[] val, UIntPtr valLen);
        [DllImport(Lib)] public static extern int kv_get_batch(IntPtr txn, UIntPtr n, byte[] keys, UIntPtr[] keyLens, [Out] byte[] buf, UIntPtr cap, [Out] UIntPtr[] valLens, out UIntPtr found);
        [DllImport(Lib)] public static extern int kv_scan(IntPtr txn, [MarshalAs(UnmanagedType.LPStr)] string lo, UIntPtr loLen, [MarshalAs(UnmanagedType.LPStr)] string hi, UIntPtr hiLen, ScanFn fn, IntPtr payload, out UIntPtr count);
    }

    // handle: kv_handle.h — 64-bit handles validated by the engine on every call.
    static unsafe class Handles
    {
        const string Lib = "kv";
        [DllImport(Lib)] public static extern int kvh_noop(ulong env);
        [DllImport(Lib)] public static extern int kvh_add(ulong env, int a, int b, int* sum);
        [DllImport(Lib)] public static extern int kvh_env_open(out ulong env, byte* path, ref KvOptions opts);
        [DllImport(Lib)] public static extern int kvh_env_close(ulong env);
        [DllImport(Lib)] public static extern int kvh_txn_begin(out ulong txn, ulong env, uint flags);
        [DllImport(Lib)] public static extern int kvh_txn_commit(ulong txn);
        [DllImport(Lib)] public static extern int kvh_txn_abort(ulong txn);
        [DllImport(Lib)] public static extern int kvh_put(ulong txn, byte* key, UIntPtr keyLen, byte* val, UIntPtr valLen);
        [DllImport(Lib)] public static extern int kvh_get(ulong txn, byte* key, UIntPtr keyLen, byte* buf, UIntPtr cap, UIntPtr* len);
        [DllImport(Lib)] public static extern int kvh_get_batch(ulong txn, UIntPtr n, byte* keys, UIntPtr* keyLens, byte* buf, UIntPtr cap, UIntPtr* valLens, UIntPtr* found);
        [DllImport(Lib)] public static extern int kvh_scan(ulong txn, byte* lo, UIntPtr loLen, byte* hi, UIntPtr hiLen, ScanFn fn, IntPtr payload, UIntPtr* count);
    }

    // marshal: kv_marshal.h — one entry point, request and response as bytes (PROTOCOL.md).
    static unsafe class Wire
    {
        [DllImport("kv")] public static extern int kvm_call(byte* req, UIntPtr reqLen, byte* resp, UIntPtr respCap, UIntPtr* respLen);
    }
}
