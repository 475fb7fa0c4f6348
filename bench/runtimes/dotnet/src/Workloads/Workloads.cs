// Workloads.cs — the workloads of bench/workloads.h, written once for every binding.
//
// A Case is one benchmark: Run(n) makes n iterations of one workload's loop and checks every answer
// (a wrong one throws, which fails the run). The harness (BenchmarkDotNet or HandHarness) decides how
// many times to call Run; Batch is how many iterations one Run makes (workloads.c's wl_batch_size), so
// the harness's own per-invocation cost is spread over many calls.
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FfiBench.Interop;

namespace FfiBench.Workloads;

internal abstract class Case(string name, long batch, int ops = 1)
{
    public string Name { get; } = name;
    /// <summary>Workload iterations per Run call.</summary>
    public long Batch { get; } = batch;
    /// <summary>Engine operations per iteration (the `ops` of the results: batch n, scan 1024).</summary>
    public int Ops { get; } = ops;

    public virtual void Setup() { }
    public abstract void Run(long n);
    public virtual void Teardown() { }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    protected void Wrong(string what) => throw new InvalidOperationException($"{Name}: wrong answer: {what}");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected void Check(int rc)
    {
        if (rc != Kv.Ok) Kv.Fail(rc, Name);
    }
}

/// <summary>`&lt;runtime&gt;/control/loop`: the same shape of loop with no call in it.</summary>
internal sealed class ControlLoop(string runtime) : Case($"{runtime}/control/loop", 256)
{
    ulong _sink;

    public override void Run(long n)
    {
        ulong acc = _sink;
        for (long i = 0; i < n; i++) acc ^= (ulong)i; // one dependent ALU op, as cheap as a loop gets
        _sink = acc;
    }
}

/// <summary>The scan callbacks: an [UnmanagedCallersOnly] method (a direct native entry point) and a
/// delegate turned into a function pointer (a reverse-P/Invoke thunk that marshals the call).</summary>
internal static unsafe class ScanCallbacks
{
    public struct State
    {
        public nuint Count, Bad;
    }

    public delegate int RecordFn(void* key, nuint keyLen, void* val, nuint valLen, void* payload);

    static int Count(nuint keyLen, nuint valLen, void* payload)
    {
        var st = (State*)payload;
        st->Bad += keyLen != Dataset.KeyLen || valLen != Dataset.ValLen ? 1u : 0u;
        st->Count++;
        return 0;
    }

    [UnmanagedCallersOnly]
    static int OnRecord(void* key, nuint keyLen, void* val, nuint valLen, void* payload) => Count(keyLen, valLen, payload);

    public static readonly nint UnmanagedCallersOnly =
        (nint)(delegate* unmanaged<void*, nuint, void*, nuint, void*, int>)&OnRecord;

    // Kept in a static field: the thunk lives only as long as the delegate does.
    static readonly RecordFn Managed = (_, keyLen, _, valLen, payload) => Count(keyLen, valLen, payload);
    public static readonly nint Delegate = Marshal.GetFunctionPointerForDelegate(Managed);
}

/// <summary>Every workload for binding TB. The loops call TB's static members, which the compiler
/// resolves to TB's own P/Invokes: one copy of each loop, specialised per binding.</summary>
internal static unsafe class Workloads<TB, TObj, TKey> where TB : IBinding<TObj, TKey>
{
    static string Name(string runtime, string workload, string suffix = "") => $"{runtime}/{TB.Mechanism}{suffix}/{workload}";

    public sealed class Noop(string rt) : Case(Name(rt, "noop"), 256)
    {
        public override void Run(long n)
        {
            var env = TB.Env;
            int rc = 0;
            for (long i = 0; i < n; i++) rc |= TB.Noop(env);
            Check(rc);
        }
    }

    /// <summary>The origin sample's Add, each call taking the previous result (latency).</summary>
    public sealed class AddLatency(string rt) : Case(Name(rt, "add/mode:latency"), 256)
    {
        int _chain;

        public override void Run(long n)
        {
            var env = TB.Env;
            int x = _chain;
            for (long i = 0; i < n; i++) x = TB.Add(env, x, 1);
            int want = unchecked(_chain + (int)n);
            if (x != want) Wrong($"add chain {x} != {want}");
            _chain = want;
        }
    }

    /// <summary>A workload inside one transaction of the measuring thread (LMDB: a transaction
    /// belongs to the thread that began it, so Setup runs on the thread that runs the loop).</summary>
    public abstract class InTxn(string name, long batch, bool write, int ops = 1) : Case(name, batch, ops)
    {
        protected TObj Txn = default!;
        public override void Setup() => Txn = TB.Begin(write);
        public override void Teardown() => TB.End(Txn, commit: write);
    }

    /// <summary>get/mode:latency: the next key comes out of the value just read.</summary>
    public sealed class GetLatency(string rt) : InTxn(Name(rt, "get/mode:latency"), 256, write: false)
    {
        readonly TKey[] _keys = Array.ConvertAll(Dataset.Key, TB.Key);
        readonly byte[] _buf = new byte[Dataset.ValLen];
        uint _i;

        public override void Run(long n)
        {
            var (txn, keys, buf) = (Txn, _keys, _buf);
            uint i = _i;
            for (long k = 0; k < n; k++)
            {
                Check(TB.Get(txn, keys[i], buf, out var len));
                if (len != Dataset.ValLen || Dataset.U32(buf, 4) != i) Wrong($"record {i}");
                i = Dataset.U32(buf, 0);
            }
            _i = i;
        }
    }

    /// <summary>put/commit_every:100, into "put:N" keys, no-sync commits.</summary>
    public sealed class Put(string rt) : InTxn(Name(rt, "put/commit_every:100"), 100, write: true)
    {
        const int Every = 100;
        readonly TKey[] _keys = Array.ConvertAll(Dataset.PutKey, TB.Key);
        readonly byte[] _val = Enumerable.Repeat((byte)0x5a, Dataset.ValLen).ToArray();
        long _done;

        public override void Run(long n)
        {
            for (long k = 0; k < n; k++)
            {
                Check(TB.Put(Txn, _keys[_done % _keys.Length], _val));
                if (++_done % Every == 0)
                {
                    TB.End(Txn, commit: true);
                    Txn = TB.Begin(write: true);
                }
            }
        }
    }

    /// <summary>get/bytes:N: one value of N bytes copied into the caller's buffer.</summary>
    public sealed class GetBytes(string rt, int size)
        : InTxn(Name(rt, $"get/bytes:{size}"), size >= 32768 ? 1 : 16, write: false)
    {
        readonly TKey _key = TB.Key(Dataset.BytesKey(size));
        readonly byte[] _buf = new byte[size];

        public override void Run(long n)
        {
            for (long k = 0; k < n; k++)
            {
                Check(TB.Get(Txn, _key, _buf, out var len));
                if (len != (nuint)_buf.Length) Wrong($"length {len}");
            }
        }
    }

    /// <summary>batch/n:N: N keys (in the data set's random order) in one call.</summary>
    public sealed class Batch(string rt, int n)
        : InTxn(Name(rt, $"batch/n:{n}"), n >= 64 ? 1 : 16, write: false, ops: n)
    {
        readonly int size = n;
        readonly byte[] _keys = new byte[n * Dataset.KeyLen];
        readonly nuint[] _keyLens = Enumerable.Repeat((nuint)Dataset.KeyLen, n).ToArray();
        readonly nuint[] _valLens = new nuint[n];
        readonly byte[] _buf = new byte[n * Dataset.ValLen];
        long _chain;

        public override void Run(long n)
        {
            for (long k = 0; k < n; k++)
            {
                for (int i = 0; i < size; i++)
                    Dataset.Key[Dataset.Order[(_chain + i) % Dataset.Keys]].CopyTo(_keys, i * Dataset.KeyLen);
                uint first = Dataset.Order[_chain % Dataset.Keys];
                _chain += size;
                Check(TB.GetBatch(Txn, size, _keys, _keyLens, _buf, _valLens, out var found));
                if (found != (nuint)size || Dataset.U32(_buf, 4) != first) Wrong($"found {found}");
            }
        }
    }

    /// <summary>scan/dir:upcall: 1024 records, the engine calling back into managed code for each.</summary>
    public sealed class ScanUpcall(string rt, bool viaDelegate)
        : InTxn(Name(rt, "scan/dir:upcall", viaDelegate ? "-delegate" : ""), 1, write: false, ops: Dataset.ScanRecords)
    {
        readonly TKey _lo = TB.Key(Dataset.Key[0]), _hi = TB.Key(Dataset.Key[Dataset.ScanRecords]);
        readonly nint _fn = viaDelegate ? ScanCallbacks.Delegate : ScanCallbacks.UnmanagedCallersOnly;

        public override void Run(long n)
        {
            for (long k = 0; k < n; k++)
            {
                ScanCallbacks.State st = default;
                Check(TB.Scan(Txn, _lo, _hi, _fn, &st, out var count));
                if (st.Count != Dataset.ScanRecords || count != Dataset.ScanRecords || st.Bad != 0)
                    Wrong($"scan saw {st.Count} records, {st.Bad} bad");
            }
        }
    }
}
