// Bindings.cs — the binding variants behind one static interface.
//
// IBinding's members are static abstract, and every binding is a struct, so Workloads<TB, ...> is
// compiled once per binding (generic code over value types is never shared): each call in a
// workload's loop is a direct, inlinable call to that binding's P/Invoke, exactly as hand-written
// code for that binding would be. One workload loop serves every binding.
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FfiBench.Interop;

/// <summary>A key as the bindings take it: a struct around the bytes, not the byte[] itself. Generic
/// code over a reference-type argument is shared (compiled once for __Canon) on CoreCLR, and shared
/// code reaches TB's static members through a run-time lookup: the loop then makes an indirect call
/// to a non-inlined TB.Add, which sets up its own P/Invoke frame per call (README.md, "The call
/// site"). With value types only, each binding's loops are compiled for it alone, its calls inlined.
/// `fixed (byte* p = key)` pins the array (GetPinnableReference).</summary>
internal readonly struct Bytes(byte[] bytes)
{
    public readonly byte[] Array = bytes;
    public int Length => Array.Length;
    public ref byte GetPinnableReference() => ref MemoryMarshal.GetArrayDataReference(Array);
    public static implicit operator ReadOnlySpan<byte>(Bytes b) => b.Array;
}

/// <summary>A string key (dllimport-marshaled), a struct for the same reason as Bytes.</summary>
internal readonly struct Str(string s)
{
    public readonly string S = s;
    public int Length => S.Length;
    public static implicit operator string(Str s) => s.S;
}

/// <summary>An engine object in a SafeHandle (dllimport-safehandle, handle-safehandle), a struct for
/// the same reason as Bytes; it converts to the SafeHandle the P/Invokes take.</summary>
internal readonly struct Safe(SafeHandle h)
{
    public readonly SafeHandle H = h;
    public static implicit operator SafeHandle(Safe s) => s.H;
    public static implicit operator Safe(SafeHandle h) => new(h);
}

/// <summary>What a workload needs from a binding. TObj is how engine objects travel (a kv_env*/kv_txn*
/// as nint, a handle as ulong, either in a SafeHandle (Safe)); TKey is how keys do (Bytes, or a Str
/// string for the marshaled variant).</summary>
internal unsafe interface IBinding<TObj, TKey>
{
    /// <summary>The mechanism part of the benchmark names.</summary>
    static abstract string Mechanism { get; }

    // ---- Setup (not timed) ----
    /// <summary>Opens an environment on path (Stores: once per mechanism and process).</summary>
    static abstract TObj Open(string path);
    static abstract void Close(TObj env);
    static abstract TKey Key(byte[] bytes);
    static abstract TObj Begin(TObj env, bool write);
    static abstract void End(TObj txn, bool commit);

    // ---- The timed calls; they return the engine's status (Add returns the sum, checked inside) ----
    static abstract int Noop(TObj env);
    static abstract int Add(TObj env, int a, int b);
    static abstract int Get(TObj txn, TKey key, byte[] buf, out nuint len);
    static abstract int Put(TObj txn, TKey key, byte[] val);
    static virtual int GetBatch(TObj txn, int n, byte[] keys, nuint[] keyLens, byte[] buf, nuint[] valLens, out nuint found)
        => throw new NotSupportedException("this binding has no batch get");
    static virtual int Scan(TObj txn, TKey lo, TKey hi, nint fn, void* payload, out nuint count)
        => throw new NotSupportedException("this binding has no scan");
}

/// <summary>The pointer API's setup, shared by every binding of kv.h (a kv_env*, a kv_txn*).</summary>
internal unsafe interface IPtrBinding<TKey> : IBinding<nint, TKey>
{
    static nint IBinding<nint, TKey>.Open(string path) => Stores.OpenPtr(path);
    static void IBinding<nint, TKey>.Close(nint env) => Kv.Check(PtrNative.EnvClose(env), "kv_env_close");

    static nint IBinding<nint, TKey>.Begin(nint env, bool write)
    {
        nint txn;
        Kv.Check(PtrNative.TxnBegin(&txn, env, write ? Kv.TxnWrite : Kv.TxnRead), "kv_txn_begin");
        return txn;
    }

    static void IBinding<nint, TKey>.End(nint txn, bool commit)
    {
        Kv.Check(commit ? PtrNative.TxnCommit(txn) : PtrNative.TxnAbort(txn), "kv_txn_end");
        Kv.Check(PtrNative.TxnFree(txn), "kv_txn_free");
    }
}

/// <summary>`dllimport`: [DllImport], blittable signatures, arrays pinned with `fixed`.</summary>
internal readonly unsafe struct PtrDllImport : IPtrBinding<Bytes>
{
    public static string Mechanism => "dllimport";
    public static Bytes Key(byte[] bytes) => new(bytes);
    public static int Noop(nint env) { PtrNative.Noop(); return Kv.Ok; }
    public static int Add(nint env, int a, int b) => PtrNative.Add(a, b);

    public static int Get(nint txn, Bytes key, byte[] buf, out nuint len)
    {
        fixed (byte* k = key, b = buf)
        fixed (nuint* l = &len)
            return PtrNative.Get(txn, k, (nuint)key.Length, b, (nuint)buf.Length, l);
    }

    public static int Put(nint txn, Bytes key, byte[] val)
    {
        fixed (byte* k = key, v = val)
            return PtrNative.Put(txn, k, (nuint)key.Length, v, (nuint)val.Length);
    }

    public static int GetBatch(nint txn, int n, byte[] keys, nuint[] keyLens, byte[] buf, nuint[] valLens, out nuint found)
    {
        fixed (byte* k = keys, b = buf)
        fixed (nuint* kl = keyLens, vl = valLens, f = &found)
            return PtrNative.GetBatch(txn, (nuint)n, k, kl, b, (nuint)buf.Length, vl, f);
    }

    public static int Scan(nint txn, Bytes lo, Bytes hi, nint fn, void* payload, out nuint count)
    {
        fixed (byte* l = lo, h = hi)
        fixed (nuint* c = &count)
            return PtrNative.Scan(txn, l, (nuint)lo.Length, h, (nuint)hi.Length, fn, payload, c);
    }
}

/// <summary>`dllimport-suppressgc`: the calibration calls without the GC transition.</summary>
internal readonly struct PtrSuppressGc : IPtrBinding<Bytes>
{
    public static string Mechanism => "dllimport-suppressgc";
    public static Bytes Key(byte[] bytes) => new(bytes);
    public static int Noop(nint env) { PtrNativeNoTransition.Noop(); return Kv.Ok; }
    public static int Add(nint env, int a, int b) => PtrNativeNoTransition.Add(a, b);
    public static int Get(nint txn, Bytes key, byte[] buf, out nuint len) => throw new NotSupportedException();
    public static int Put(nint txn, Bytes key, byte[] val) => throw new NotSupportedException();
}

/// <summary>`libraryimport`: source-generated P/Invokes, blittable signatures.</summary>
internal readonly unsafe struct PtrLibraryImport : IPtrBinding<Bytes>
{
    public static string Mechanism => "libraryimport";
    public static Bytes Key(byte[] bytes) => new(bytes);
    public static int Noop(nint env) { PtrGenerated.Noop(); return Kv.Ok; }
    public static int Add(nint env, int a, int b) => PtrGenerated.Add(a, b);

    public static int Get(nint txn, Bytes key, byte[] buf, out nuint len)
    {
        fixed (byte* k = key, b = buf)
        fixed (nuint* l = &len)
            return PtrGenerated.Get(txn, k, (nuint)key.Length, b, (nuint)buf.Length, l);
    }

    public static int Put(nint txn, Bytes key, byte[] val)
    {
        fixed (byte* k = key, v = val)
            return PtrGenerated.Put(txn, k, (nuint)key.Length, v, (nuint)val.Length);
    }
}

/// <summary>`fnptr`: unmanaged function pointers from NativeLibrary.GetExport (no P/Invoke
/// declarations at all). The caller's code does the GC transition inline, as for a blittable DllImport.</summary>
internal readonly unsafe struct PtrFnPtr : IPtrBinding<Bytes>
{
    public static string Mechanism => "fnptr";
    public static Bytes Key(byte[] bytes) => new(bytes);
    public static int Noop(nint env) { PtrExports.Noop(); return Kv.Ok; }
    public static int Add(nint env, int a, int b) => PtrExports.Add(a, b);

    public static int Get(nint txn, Bytes key, byte[] buf, out nuint len)
    {
        fixed (byte* k = key, b = buf)
        fixed (nuint* l = &len)
            return PtrExports.Get(txn, k, (nuint)key.Length, b, (nuint)buf.Length, l);
    }

    public static int Put(nint txn, Bytes key, byte[] val)
    {
        fixed (byte* k = key, v = val)
            return PtrExports.Put(txn, k, (nuint)key.Length, v, (nuint)val.Length);
    }
}

/// <summary>`dllimport-marshaled`: string keys and byte[] buffers handed to the marshaller.</summary>
internal readonly struct PtrMarshaled : IPtrBinding<Str>
{
    public static string Mechanism => "dllimport-marshaled";
    public static Str Key(byte[] bytes) => new(System.Text.Encoding.ASCII.GetString(bytes));
    public static int Noop(nint env) => throw new NotSupportedException();
    public static int Add(nint env, int a, int b) => throw new NotSupportedException();
    public static int Get(nint txn, Str key, byte[] buf, out nuint len)
        => PtrMarshaledNative.Get(txn, key, (nuint)key.Length, buf, (nuint)buf.Length, out len);
    public static int Put(nint txn, Str key, byte[] val)
        => PtrMarshaledNative.Put(txn, key, (nuint)key.Length, val, (nuint)val.Length);
}

/// <summary>`dllimport-safehandle`: the pointer API with the transaction in a SafeHandle.</summary>
internal readonly unsafe struct PtrSafeHandle : IBinding<Safe, Bytes>
{
    public static string Mechanism => "dllimport-safehandle";
    public static Safe Open(string path) => new KvEnvSafeHandle(Stores.OpenPtr(path));

    public static void Close(Safe env)
    {
        Kv.Check(PtrNative.EnvClose(env.H.DangerousGetHandle()), "kv_env_close");
        env.H.Dispose();
    }

    public static Bytes Key(byte[] bytes) => new(bytes);

    public static Safe Begin(Safe env, bool write)
    {
        Kv.Check(PtrSafeNative.TxnBegin(out var txn, env, write ? Kv.TxnWrite : Kv.TxnRead), "kv_txn_begin");
        return txn;
    }

    public static void End(Safe txn, bool commit)
    {
        Kv.Check(commit ? PtrSafeNative.TxnCommit(txn) : PtrSafeNative.TxnAbort(txn), "kv_txn_end");
        txn.H.Dispose(); // kv_txn_free
    }

    public static int Noop(Safe env) => throw new NotSupportedException();
    public static int Add(Safe env, int a, int b) => throw new NotSupportedException();

    public static int Get(Safe txn, Bytes key, byte[] buf, out nuint len)
    {
        fixed (byte* k = key, b = buf)
        fixed (nuint* l = &len)
            return PtrSafeNative.Get(txn, k, (nuint)key.Length, b, (nuint)buf.Length, l);
    }

    public static int Put(Safe txn, Bytes key, byte[] val)
    {
        fixed (byte* k = key, v = val)
            return PtrSafeNative.Put(txn, k, (nuint)key.Length, v, (nuint)val.Length);
    }
}

/// <summary>`handle`: the handle ABI with handles as plain 64-bit integers (the IntPtr way).</summary>
internal readonly unsafe struct HandleBinding : IBinding<ulong, Bytes>
{
    public static string Mechanism => "handle";
    public static ulong Open(string path) => Stores.OpenHandle(path);
    public static void Close(ulong env) => Kv.Check(HandleNative.EnvClose(env), "kvh_env_close");
    public static Bytes Key(byte[] bytes) => new(bytes);

    public static ulong Begin(ulong env, bool write)
    {
        ulong txn;
        Kv.Check(HandleNative.TxnBegin(&txn, env, write ? Kv.TxnWrite : Kv.TxnRead), "kvh_txn_begin");
        return txn;
    }

    public static void End(ulong txn, bool commit)
        => Kv.Check(commit ? HandleNative.TxnCommit(txn) : HandleNative.TxnAbort(txn), "kvh_txn_end");

    public static int Noop(ulong env) => HandleNative.Noop(env);

    public static int Add(ulong env, int a, int b)
    {
        int sum;
        int rc = HandleNative.Add(env, a, b, &sum);
        if (rc != Kv.Ok) Kv.Fail(rc, "kvh_add");
        return sum;
    }

    public static int Get(ulong txn, Bytes key, byte[] buf, out nuint len)
    {
        fixed (byte* k = key, b = buf)
        fixed (nuint* l = &len)
            return HandleNative.Get(txn, k, (nuint)key.Length, b, (nuint)buf.Length, l);
    }

    public static int Put(ulong txn, Bytes key, byte[] val)
    {
        fixed (byte* k = key, v = val)
            return HandleNative.Put(txn, k, (nuint)key.Length, v, (nuint)val.Length);
    }

    public static int GetBatch(ulong txn, int n, byte[] keys, nuint[] keyLens, byte[] buf, nuint[] valLens, out nuint found)
    {
        fixed (byte* k = keys, b = buf)
        fixed (nuint* kl = keyLens, vl = valLens, f = &found)
            return HandleNative.GetBatch(txn, (nuint)n, k, kl, b, (nuint)buf.Length, vl, f);
    }

    public static int Scan(ulong txn, Bytes lo, Bytes hi, nint fn, void* payload, out nuint count)
    {
        fixed (byte* l = lo, h = hi)
        fixed (nuint* c = &count)
            return HandleNative.Scan(txn, l, (nuint)lo.Length, h, (nuint)hi.Length, fn, payload, c);
    }
}

/// <summary>`handle-safehandle`: the handle ABI with every handle in a SafeHandle (the sample's way).</summary>
internal readonly unsafe struct HandleSafeBinding : IBinding<Safe, Bytes>
{
    public static string Mechanism => "handle-safehandle";
    public static Safe Open(string path) => new KvHandle(HandleBinding.Open(path), owns: false);

    public static void Close(Safe env)
    {
        HandleBinding.Close(((KvHandle)env.H).Value);
        env.H.Dispose();
    }

    public static Bytes Key(byte[] bytes) => new(bytes);
    public static Safe Begin(Safe env, bool write) => new KvHandle(HandleBinding.Begin(((KvHandle)env.H).Value, write), owns: true);

    public static void End(Safe txn, bool commit)
    {
        if (commit)
        {
            Kv.Check(HandleNative.TxnCommit(((KvHandle)txn.H).Value), "kvh_txn_commit");
            txn.H.SetHandleAsInvalid(); // the commit released the handle
        }
        else
        {
            txn.H.Dispose(); // kvh_release: aborts and frees it
        }
    }

    public static int Noop(Safe env) => HandleSafeNative.Noop(env);

    public static int Add(Safe env, int a, int b)
    {
        int sum;
        int rc = HandleSafeNative.Add(env, a, b, &sum);
        if (rc != Kv.Ok) Kv.Fail(rc, "kvh_add");
        return sum;
    }

    public static int Get(Safe txn, Bytes key, byte[] buf, out nuint len)
    {
        fixed (byte* k = key, b = buf)
        fixed (nuint* l = &len)
            return HandleSafeNative.Get(txn, k, (nuint)key.Length, b, (nuint)buf.Length, l);
    }

    public static int Put(Safe txn, Bytes key, byte[] val)
    {
        fixed (byte* k = key, v = val)
            return HandleSafeNative.Put(txn, k, (nuint)key.Length, v, (nuint)val.Length);
    }
}

/// <summary>`marshal`: every call is a request encoded into bytes, one kvm_call, a response decoded
/// (engine/doc/PROTOCOL.md; op codes from KvAbi). Little-endian stores through BinaryPrimitives; no struct overlays.
/// The request and response buffers are allocated once, outside the GC heap (nothing to pin).</summary>
internal readonly unsafe struct MarshalBinding : IBinding<ulong, Bytes>
{
    const byte Version = KvAbi.KVM_VERSION;
    const byte OpNoop = KvAbi.KVM_OP_NOOP, OpAdd = KvAbi.KVM_OP_ADD, OpTxnBegin = KvAbi.KVM_OP_TXN_BEGIN,
               OpTxnCommit = KvAbi.KVM_OP_TXN_COMMIT, OpTxnAbort = KvAbi.KVM_OP_TXN_ABORT, OpPut = KvAbi.KVM_OP_PUT,
               OpGet = KvAbi.KVM_OP_GET, OpGetBatch = KvAbi.KVM_OP_GET_BATCH;
    const int Capacity = 4 << 20; // the largest request or response: a 1 MiB value, a batch of 1024

    static readonly byte* Req = (byte*)NativeMemory.Alloc(Capacity);
    static readonly byte* Resp = (byte*)NativeMemory.Alloc(Capacity);

    public static string Mechanism => "marshal";
    // The environment comes from the handle ABI (the marshal ABI shares its handle table).
    public static ulong Open(string path) => HandleBinding.Open(path);
    public static void Close(ulong env) => HandleBinding.Close(env);
    public static Bytes Key(byte[] bytes) => new(bytes);

    static Span<byte> Request => new(Req, Capacity);
    static ReadOnlySpan<byte> Response => new(Resp, Capacity);

    /// <summary>Sends the first len bytes of Req; returns the status (also the response's first 4 bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Call(int len, out int respLen)
    {
        nuint n;
        int rc = MarshalNative.Call(Req, (nuint)len, Resp, Capacity, &n);
        respLen = (int)n;
        return rc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Header(byte op)
    {
        Req[0] = Version;
        Req[1] = op;
        return 2;
    }

    static int PutBytes(int at, ReadOnlySpan<byte> bytes)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(Request[at..], (uint)bytes.Length);
        bytes.CopyTo(Request[(at + 4)..]);
        return at + 4 + bytes.Length;
    }

    static int TxnOp(byte op, ulong txn)
    {
        int at = Header(op);
        BinaryPrimitives.WriteUInt64LittleEndian(Request[at..], txn);
        return Call(at + 8, out _);
    }

    public static ulong Begin(ulong env, bool write)
    {
        int at = Header(OpTxnBegin);
        BinaryPrimitives.WriteUInt64LittleEndian(Request[at..], env);
        BinaryPrimitives.WriteUInt32LittleEndian(Request[(at + 8)..], write ? Kv.TxnWrite : Kv.TxnRead);
        Kv.Check(Call(at + 12, out _), "TXN_BEGIN");
        return BinaryPrimitives.ReadUInt64LittleEndian(Response[4..]);
    }

    public static void End(ulong txn, bool commit) => Kv.Check(TxnOp(commit ? OpTxnCommit : OpTxnAbort, txn), "TXN_END");

    public static int Noop(ulong env) => Call(Header(OpNoop), out _);

    public static int Add(ulong env, int a, int b)
    {
        int at = Header(OpAdd);
        BinaryPrimitives.WriteInt32LittleEndian(Request[at..], a);
        BinaryPrimitives.WriteInt32LittleEndian(Request[(at + 4)..], b);
        int rc = Call(at + 8, out _);
        if (rc != Kv.Ok) Kv.Fail(rc, "ADD");
        return BinaryPrimitives.ReadInt32LittleEndian(Response[4..]);
    }

    public static int Get(ulong txn, Bytes key, byte[] buf, out nuint len)
    {
        int at = Header(OpGet);
        BinaryPrimitives.WriteUInt64LittleEndian(Request[at..], txn);
        int rc = Call(PutBytes(at + 8, key), out _);
        len = 0;
        if (rc != Kv.Ok) return rc;
        int v = (int)BinaryPrimitives.ReadUInt32LittleEndian(Response[4..]);
        len = (nuint)v;
        if (v > buf.Length) return Kv.BufferTooSmall;
        Response.Slice(8, v).CopyTo(buf); // the binding hands the value back in the caller's buffer
        return Kv.Ok;
    }

    public static int Put(ulong txn, Bytes key, byte[] val)
    {
        int at = Header(OpPut);
        BinaryPrimitives.WriteUInt64LittleEndian(Request[at..], txn);
        return Call(PutBytes(PutBytes(at + 8, key), val), out _);
    }

    public static int GetBatch(ulong txn, int n, byte[] keys, nuint[] keyLens, byte[] buf, nuint[] valLens, out nuint found)
    {
        var req = Request;
        int at = Header(OpGetBatch);
        BinaryPrimitives.WriteUInt64LittleEndian(req[at..], txn);
        BinaryPrimitives.WriteUInt32LittleEndian(req[(at + 8)..], (uint)n);
        at += 12;
        int total = 0;
        for (int i = 0; i < n; i++, at += 4)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(req[at..], (uint)keyLens[i]);
            total += (int)keyLens[i];
        }
        keys.AsSpan(0, total).CopyTo(req[at..]);
        found = 0;
        int rc = Call(at + total, out _);
        if (rc != Kv.Ok) return rc;

        var resp = Response;
        found = BinaryPrimitives.ReadUInt32LittleEndian(resp[8..]);
        int lens = 12 + n, values = 12 + 5 * n, copied = 0; // hit[n] at 12, u32 V[n] at 12+n
        for (int i = 0; i < n; i++)
        {
            int v = (int)BinaryPrimitives.ReadUInt32LittleEndian(resp[(lens + 4 * i)..]);
            valLens[i] = resp[12 + i] != 0 ? (nuint)v : nuint.MaxValue;
            copied += v;
        }
        if (copied > buf.Length) return Kv.BufferTooSmall;
        resp.Slice(values, copied).CopyTo(buf);
        return Kv.Ok;
    }
}
