// Native.cs — the raw declarations of libkv's three ABIs, once per binding style.
//
// Every style names the library "kv". A dynamic build resolves it to $KV_LIBRARY through
// NativeResolver (the dlopen of the C suite's plt/dlopen rows); the static NativeAOT build lists "kv"
// as a DirectPInvoke, so the same declarations become direct calls into libkv.a bound by the linker.
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FfiBench.Interop;

/// <summary>kv_options (kv.h): 24 bytes, no padding; blittable.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvOptions
{
    public uint Version;
    public uint Flags;
    public ulong MapSize;
    public uint Durability;
    public uint Reserved;

    /// <summary>wl_env_options(): no-sync (benchmarks never fsync), a 1 GiB map.</summary>
    public static KvOptions Bench => new() { Version = KvAbi.KV_OPTIONS_VERSION, MapSize = 1UL << 30, Durability = KvAbi.KV_DURABLE_NOSYNC };
}

internal static unsafe class Kv
{
    public const string Lib = "kv";
    // libkv's constants come from KvAbi (generated from kv_abi.json by ../build).
    public const int Ok = KvAbi.KV_OK, NotFound = KvAbi.KV_E_NOT_FOUND, BufferTooSmall = KvAbi.KV_E_BUFFER_TOO_SMALL;
    public const uint TxnRead = KvAbi.KV_TXN_READ, TxnWrite = KvAbi.KV_TXN_WRITE;

    public static void Check(int rc, string what)
    {
        if (rc != Ok) Fail(rc, what);
    }

    /// <summary>Throws for a failed engine call; kept out of line so the hot loops stay small.</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void Fail(int rc, string what)
        => throw new InvalidOperationException($"{what}: engine error {rc}: {Marshal.PtrToStringUTF8((nint)PtrNative.LastError())}");

    public static string Version => Marshal.PtrToStringUTF8((nint)PtrNative.VersionString()) ?? "?";
}

/// <summary>The pointer API (kv.h) with [DllImport] and only blittable parameters: pointers and
/// integers. The JIT inlines such a P/Invoke's transition into the caller (no IL stub).</summary>
internal static unsafe class PtrNative
{
    [DllImport(Kv.Lib, EntryPoint = "kv_noop")] public static extern void Noop();
    [DllImport(Kv.Lib, EntryPoint = "kv_add")] public static extern int Add(int a, int b);
    [DllImport(Kv.Lib, EntryPoint = "kv_version_string")] public static extern byte* VersionString();
    [DllImport(Kv.Lib, EntryPoint = "kv_last_error")] public static extern byte* LastError();
    [DllImport(Kv.Lib, EntryPoint = "kv_env_open")] public static extern int EnvOpen(nint* env, byte* path, KvOptions* opts);
    [DllImport(Kv.Lib, EntryPoint = "kv_env_close")] public static extern int EnvClose(nint env);
    [DllImport(Kv.Lib, EntryPoint = "kv_txn_begin")] public static extern int TxnBegin(nint* txn, nint env, uint flags);
    [DllImport(Kv.Lib, EntryPoint = "kv_txn_commit")] public static extern int TxnCommit(nint txn);
    [DllImport(Kv.Lib, EntryPoint = "kv_txn_abort")] public static extern int TxnAbort(nint txn);
    [DllImport(Kv.Lib, EntryPoint = "kv_txn_free")] public static extern int TxnFree(nint txn);
    [DllImport(Kv.Lib, EntryPoint = "kv_get")] public static extern int Get(nint txn, byte* key, nuint keyLen, byte* buf, nuint cap, nuint* len);
    [DllImport(Kv.Lib, EntryPoint = "kv_put")] public static extern int Put(nint txn, byte* key, nuint keyLen, byte* val, nuint valLen);
    [DllImport(Kv.Lib, EntryPoint = "kv_get_batch")]
    public static extern int GetBatch(nint txn, nuint n, byte* keys, nuint* keyLens, byte* buf, nuint cap, nuint* valLens, nuint* found);
    [DllImport(Kv.Lib, EntryPoint = "kv_scan")]
    public static extern int Scan(nint txn, byte* lo, nuint loLen, byte* hi, nuint hiLen, nint fn, void* payload, nuint* count);
}

/// <summary>The calibration calls with [SuppressGCTransition]: no switch to preemptive GC mode around
/// the call. Only legal for short calls that never block nor call back, which these are.</summary>
internal static class PtrNativeNoTransition
{
    [DllImport(Kv.Lib, EntryPoint = "kv_noop"), SuppressGCTransition] public static extern void Noop();
    [DllImport(Kv.Lib, EntryPoint = "kv_add"), SuppressGCTransition] public static extern int Add(int a, int b);
}

/// <summary>The pointer API with [LibraryImport]: the marshalling code is generated at compile time.
/// With blittable signatures the generator emits a plain inner [DllImport] — nothing to marshal.</summary>
internal static unsafe partial class PtrGenerated
{
    [LibraryImport(Kv.Lib, EntryPoint = "kv_noop")] public static partial void Noop();
    [LibraryImport(Kv.Lib, EntryPoint = "kv_add")] public static partial int Add(int a, int b);
    [LibraryImport(Kv.Lib, EntryPoint = "kv_get")] public static partial int Get(nint txn, byte* key, nuint keyLen, byte* buf, nuint cap, nuint* len);
    [LibraryImport(Kv.Lib, EntryPoint = "kv_put")] public static partial int Put(nint txn, byte* key, nuint keyLen, byte* val, nuint valLen);
}

/// <summary>The pointer API through unmanaged function pointers from NativeLibrary.Load/GetExport:
/// the dlopen/dlsym analogue. Static readonly fields: after the class is initialised, tier-1 JIT
/// code embeds the addresses as constants.</summary>
internal static unsafe class PtrExports
{
    public static readonly nint Library = NativeLibrary.Load(NativeResolver.LibraryPath);
    public static readonly delegate* unmanaged<void> Noop = (delegate* unmanaged<void>)Export("kv_noop");
    public static readonly delegate* unmanaged<int, int, int> Add = (delegate* unmanaged<int, int, int>)Export("kv_add");
    public static readonly delegate* unmanaged<nint, byte*, nuint, byte*, nuint, nuint*, int> Get =
        (delegate* unmanaged<nint, byte*, nuint, byte*, nuint, nuint*, int>)Export("kv_get");
    public static readonly delegate* unmanaged<nint, byte*, nuint, byte*, nuint, int> Put =
        (delegate* unmanaged<nint, byte*, nuint, byte*, nuint, int>)Export("kv_put");

    static nint Export(string name) => NativeLibrary.GetExport(Library, name);
}

/// <summary>The pointer API with SafeHandle objects, as the origin sample bound its engine: the
/// marshaller AddRefs the handle before the call and Releases it after (an IL stub per call).</summary>
internal static unsafe class PtrSafeNative
{
    [DllImport(Kv.Lib, EntryPoint = "kv_txn_begin")] public static extern int TxnBegin(out KvTxnSafeHandle txn, SafeHandle env, uint flags);
    [DllImport(Kv.Lib, EntryPoint = "kv_txn_commit")] public static extern int TxnCommit(SafeHandle txn);
    [DllImport(Kv.Lib, EntryPoint = "kv_txn_abort")] public static extern int TxnAbort(SafeHandle txn);
    [DllImport(Kv.Lib, EntryPoint = "kv_get")] public static extern int Get(SafeHandle txn, byte* key, nuint keyLen, byte* buf, nuint cap, nuint* len);
    [DllImport(Kv.Lib, EntryPoint = "kv_put")] public static extern int Put(SafeHandle txn, byte* key, nuint keyLen, byte* val, nuint valLen);
}

/// <summary>The pointer API with non-blittable, marshaled parameters — the "natural" managed
/// signature: a string key (converted to UTF-8 on every call, NUL added) and byte[] buffers (pinned
/// by the marshaller, which also writes back the out length).</summary>
internal static class PtrMarshaledNative
{
    [DllImport(Kv.Lib, EntryPoint = "kv_get")]
    public static extern int Get(nint txn, [MarshalAs(UnmanagedType.LPUTF8Str)] string key, nuint keyLen,
                                 [Out] byte[] buf, nuint cap, out nuint len);
    [DllImport(Kv.Lib, EntryPoint = "kv_put")]
    public static extern int Put(nint txn, [MarshalAs(UnmanagedType.LPUTF8Str)] string key, nuint keyLen,
                                 [In] byte[] val, nuint valLen);
}

/// <summary>The handle ABI (kv_handle.h): 64-bit integer handles, validated on every call. Blittable.</summary>
internal static unsafe class HandleNative
{
    [DllImport(Kv.Lib, EntryPoint = "kvh_noop")] public static extern int Noop(ulong env);
    [DllImport(Kv.Lib, EntryPoint = "kvh_add")] public static extern int Add(ulong env, int a, int b, int* sum);
    [DllImport(Kv.Lib, EntryPoint = "kvh_env_open")] public static extern int EnvOpen(ulong* env, byte* path, KvOptions* opts);
    [DllImport(Kv.Lib, EntryPoint = "kvh_env_close")] public static extern int EnvClose(ulong env);
    [DllImport(Kv.Lib, EntryPoint = "kvh_txn_begin")] public static extern int TxnBegin(ulong* txn, ulong env, uint flags);
    [DllImport(Kv.Lib, EntryPoint = "kvh_txn_commit")] public static extern int TxnCommit(ulong txn);
    [DllImport(Kv.Lib, EntryPoint = "kvh_txn_abort")] public static extern int TxnAbort(ulong txn);
    [DllImport(Kv.Lib, EntryPoint = "kvh_release")] public static extern int Release(ulong handle);
    [DllImport(Kv.Lib, EntryPoint = "kvh_get")] public static extern int Get(ulong txn, byte* key, nuint keyLen, byte* buf, nuint cap, nuint* len);
    [DllImport(Kv.Lib, EntryPoint = "kvh_put")] public static extern int Put(ulong txn, byte* key, nuint keyLen, byte* val, nuint valLen);
    [DllImport(Kv.Lib, EntryPoint = "kvh_get_batch")]
    public static extern int GetBatch(ulong txn, nuint n, byte* keys, nuint* keyLens, byte* buf, nuint cap, nuint* valLens, nuint* found);
    [DllImport(Kv.Lib, EntryPoint = "kvh_scan")]
    public static extern int Scan(ulong txn, byte* lo, nuint loLen, byte* hi, nuint hiLen, nint fn, void* payload, nuint* count);
}

/// <summary>The handle ABI with the handles wrapped in SafeHandles (ref-counted around every call).</summary>
internal static unsafe class HandleSafeNative
{
    [DllImport(Kv.Lib, EntryPoint = "kvh_noop")] public static extern int Noop(SafeHandle env);
    [DllImport(Kv.Lib, EntryPoint = "kvh_add")] public static extern int Add(SafeHandle env, int a, int b, int* sum);
    [DllImport(Kv.Lib, EntryPoint = "kvh_get")] public static extern int Get(SafeHandle txn, byte* key, nuint keyLen, byte* buf, nuint cap, nuint* len);
    [DllImport(Kv.Lib, EntryPoint = "kvh_put")] public static extern int Put(SafeHandle txn, byte* key, nuint keyLen, byte* val, nuint valLen);
}

/// <summary>The marshal ABI (kv_marshal.h): one entry point, requests and responses as bytes.</summary>
internal static unsafe class MarshalNative
{
    [DllImport(Kv.Lib, EntryPoint = "kvm_call")]
    public static extern int Call(byte* req, nuint reqLen, byte* resp, nuint respCap, nuint* respLen);
}

/// <summary>Resolves the library name "kv" to $KV_LIBRARY (dynamic builds). Registered once at
/// start-up; the first P/Invoke then pays the dlopen inside its first call, as the stub is bound.</summary>
internal static class NativeResolver
{
    public static string LibraryPath =>
        Environment.GetEnvironmentVariable("KV_LIBRARY") is { Length: > 0 } p ? p : "libkv.so";

    public static void Register()
    {
#if !KV_STATIC
        NativeLibrary.SetDllImportResolver(typeof(NativeResolver).Assembly, static (name, _, _) =>
            name == Kv.Lib ? NativeLibrary.Load(LibraryPath) : 0);
#endif
    }
}
