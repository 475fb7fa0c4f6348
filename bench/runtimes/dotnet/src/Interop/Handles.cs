// Handles.cs — SafeHandle wrappers, the origin sample's way of binding engine objects: the runtime
// reference-counts a SafeHandle around every P/Invoke that takes one, so a finalizer (or a racing
// Dispose) cannot free the object while a call is using it.
using System.Runtime.InteropServices;

namespace FfiBench.Interop;

/// <summary>A kv_env* that Stores closes when the worker ends: the wrapper does not own it.</summary>
internal sealed class KvEnvSafeHandle : SafeHandle
{
    public KvEnvSafeHandle() : base(0, ownsHandle: false) { }
    public KvEnvSafeHandle(nint env) : base(0, ownsHandle: false) => SetHandle(env);
    public override bool IsInvalid => handle == 0;
    protected override bool ReleaseHandle() => true;
}

/// <summary>An owned kv_txn*: releasing it frees the transaction (aborting it if still active).</summary>
internal sealed class KvTxnSafeHandle : SafeHandle
{
    public KvTxnSafeHandle() : base(0, ownsHandle: true) { }
    public override bool IsInvalid => handle == 0;
    protected override bool ReleaseHandle() => PtrNative.TxnFree(handle) == Kv.Ok;
}

/// <summary>A handle of the handle ABI (a u64, kept in the IntPtr: this worker is 64-bit only).
/// An owned handle is released with kvh_release, which takes any handle from any thread (so from the
/// finalizer thread too): a transaction is aborted and freed. An environment handle is not owned.</summary>
internal sealed class KvHandle : SafeHandle
{
    public KvHandle() : base(0, ownsHandle: true) { }
    public KvHandle(ulong h, bool owns) : base(0, owns) => SetHandle((nint)h);
    public ulong Value => (ulong)handle;
    public override bool IsInvalid => handle == 0;
    protected override bool ReleaseHandle() => HandleNative.Release((ulong)handle) == Kv.Ok;
}
