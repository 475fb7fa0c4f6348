// Workloads.cs — the workloads of bench/workloads.h, written once for every binding.
//
// A Case is one benchmark: Run(n) makes n iterations of one workload's loop and checks every answer
// (a wrong one throws, which fails the run). The worker times one Run call per repeat, with the n the
// driver asks for; nothing sits between the clock and the loop (Worker.cs).
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FfiBench.Interop;

namespace FfiBench.Workloads;

/// <summary>How every timed loop (each Case's Run) is compiled. NoInlining: the loop stays a method
/// of its own, the mechanism's call site as written. Without it, CoreCLR's tier-1 Worker.Run inlined
/// the case's Run by guarded devirtualization after its first few dozen requests, into the try region
/// around the timing, where the JIT does not inline a P/Invoke on 64-bit targets: the loop then called
/// the import's IL stub and add went from 2.5-3 ns to 7-17 ns from one run to the next (README.md,
/// "The call site"). CallLoop adds AggressiveOptimization: compiled once, fully optimised.</summary>
internal static class Timed
{
    public const MethodImplOptions Loop = MethodImplOptions.NoInlining;
    public const MethodImplOptions CallLoop = MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization;
}

internal abstract class Case(string name, string mechanism, int ops)
{
    public string Name { get; } = name;
    /// <summary>The mechanism part of the name; its environment is $FFIBENCH_SCRATCH/<mechanism>.kv.</summary>
    public string Mechanism { get; } = mechanism;
    /// <summary>Engine operations per iteration (the `ops` of `list`: batch n, scan 1024).</summary>
    public int Ops { get; } = ops;

    /// <summary>Untimed, before the first Run: the environment, the transaction, the buffers.</summary>
    public virtual void Setup() { }
    /// <summary>n iterations of the loop, every answer checked (a wrong one throws).</summary>
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
internal sealed class ControlLoop(string runtime) : Case($"{runtime}/control/loop", "control", 1)
{
    ulong _sink;

    [MethodImpl(Timed.Loop)]
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
    /// <summary>The payload: what each record should be, and what the scan saw.</summary>
    public struct State
    {
        public nuint KeyLen, ValLen, Count, Bad;
    }

    public delegate int RecordFn(void* key, nuint keyLen, void* val, nuint valLen, void* payload);

    static int Count(nuint keyLen, nuint valLen, void* payload)
    {
        var st = (State*)payload;
        st->Bad += keyLen != st->KeyLen || valLen != st->ValLen ? 1u : 0u;
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
    /// <summary>A workload on its mechanism's environment (TB's, or a variant's: TB.Mechanism + suffix);
    /// variant: further /key:value parts of the name (the call site's shape).</summary>
    public abstract class OnEnv(string rt, string workload, int value = 0, string suffix = "", string variant = "")
        : Case($"{rt}/{TB.Mechanism}{suffix}/{Manifest.Name(workload, value)}{variant}", TB.Mechanism + suffix, Manifest.Ops(workload, value))
    {
        protected TObj Env = default!;
        public override void Setup() => Env = Stores.Env<TB, TObj, TKey>(Mechanism);
    }

    public sealed class Noop(string rt) : OnEnv(rt, "noop")
    {
        [MethodImpl(Timed.CallLoop)]
        public override void Run(long n)
        {
            var env = Env;
            int rc = 0;
            for (long i = 0; i < n; i++) rc |= TB.Noop(env);
            Check(rc);
        }
    }

    /// <summary>The origin sample's Add, each call taking the previous result (latency).</summary>
    public sealed class AddLatency(string rt) : OnEnv(rt, "add/mode:latency")
    {
        int _chain;

        [MethodImpl(Timed.CallLoop)]
        public override void Run(long n)
        {
            var env = Env;
            int x = _chain;
            for (long i = 0; i < n; i++) x = TB.Add(env, x, 1);
            int want = unchecked(_chain + (int)n);
            if (x != want) Wrong($"add chain {x} != {want}");
            _chain = want;
        }
    }

    /// <summary>Independent calls whose results are only summed (throughput): the processor may
    /// overlap one call with the next.</summary>
    public sealed class AddThroughput(string rt) : OnEnv(rt, "add/mode:throughput")
    {
        [MethodImpl(Timed.CallLoop)]
        public override void Run(long n)
        {
            var env = Env;
            uint acc = 0;
            for (long i = 0; i < n; i++) acc += (uint)TB.Add(env, (int)i, 1);
            // 1 + 2 + ... + n = n (n + 1) / 2, modulo 2^32 as acc wraps: halve the even factor first.
            ulong a = (ulong)n, b = a + 1;
            if (a % 2 == 0) a /= 2; else b /= 2;
            if (acc != (uint)(a * b)) Wrong($"sum {acc} != {(uint)(a * b)}");
        }
    }

    /// <summary>The isolated call site, `/site:isolated`: TB's call in a method of its own that the
    /// compiler may not inline, called once per iteration, as code calls a foreign function through a
    /// small wrapper method. The loop site (the names without /site:) has the call in the loop itself,
    /// where the JIT sets the inlined P/Invoke's frame up once in the loop method's prolog; here the
    /// wrapper sets it up and tears it down on every call (README.md, "The call site").</summary>
    static class Isolated
    {
        const MethodImplOptions Opts = MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization;
        [MethodImpl(Opts)] public static int Noop(TObj env) => TB.Noop(env);
        [MethodImpl(Opts)] public static int Add(TObj env, int a, int b) => TB.Add(env, a, b);
    }

    public const string IsolatedSite = "/site:isolated";

    public sealed class NoopIsolated(string rt) : OnEnv(rt, "noop", variant: IsolatedSite)
    {
        [MethodImpl(Timed.CallLoop)]
        public override void Run(long n)
        {
            var env = Env;
            int rc = 0;
            for (long i = 0; i < n; i++) rc |= Isolated.Noop(env);
            Check(rc);
        }
    }

    public sealed class AddLatencyIsolated(string rt) : OnEnv(rt, "add/mode:latency", variant: IsolatedSite)
    {
        int _chain;

        [MethodImpl(Timed.CallLoop)]
        public override void Run(long n)
        {
            var env = Env;
            int x = _chain;
            for (long i = 0; i < n; i++) x = Isolated.Add(env, x, 1);
            int want = unchecked(_chain + (int)n);
            if (x != want) Wrong($"add chain {x} != {want}");
            _chain = want;
        }
    }

    public sealed class AddThroughputIsolated(string rt) : OnEnv(rt, "add/mode:throughput", variant: IsolatedSite)
    {
        [MethodImpl(Timed.CallLoop)]
        public override void Run(long n)
        {
            var env = Env;
            uint acc = 0;
            for (long i = 0; i < n; i++) acc += (uint)Isolated.Add(env, (int)i, 1);
            ulong a = (ulong)n, b = a + 1;
            if (a % 2 == 0) a /= 2; else b /= 2;
            if (acc != (uint)(a * b)) Wrong($"sum {acc} != {(uint)(a * b)}");
        }
    }

    /// <summary>A workload inside one transaction of the measuring thread (LMDB: a transaction
    /// belongs to the thread that began it, so Setup runs on the thread that runs the loop).</summary>
    public abstract class InTxn(string rt, string workload, bool write, int value = 0, string suffix = "")
        : OnEnv(rt, workload, value, suffix)
    {
        protected TObj Txn = default!;

        public override void Setup()
        {
            base.Setup();
            Txn = TB.Begin(Env, write);
        }

        public override void Teardown() => TB.End(Txn, commit: write);
    }

    /// <summary>get/mode:latency: the next key comes out of the value just read.</summary>
    public sealed class GetLatency(string rt) : InTxn(rt, "get/mode:latency", write: false)
    {
        TKey[] _keys = [];
        byte[] _buf = [];
        uint _i;

        public override void Setup()
        {
            base.Setup();
            _keys = Array.ConvertAll(Tables.Key, TB.Key);
            _buf = new byte[Manifest.ValLen];
        }

        [MethodImpl(Timed.Loop)]
        public override void Run(long n)
        {
            var (txn, keys, buf) = (Txn, _keys, _buf);
            nuint valLen = (nuint)buf.Length;
            uint i = _i;
            for (long k = 0; k < n; k++)
            {
                Check(TB.Get(txn, keys[i], buf, out var len));
                if (len != valLen || Manifest.U32(buf, 4) != i) Wrong($"record {i}");
                i = Manifest.U32(buf, 0);
            }
            _i = i;
        }
    }

    /// <summary>put/commit_every:N, into the put keys, no-sync commits.</summary>
    public sealed class Put(string rt) : InTxn(rt, "put", write: true, value: Manifest.PutEvery)
    {
        TKey[] _keys = [];
        byte[] _val = [];
        long _done;

        public override void Setup()
        {
            base.Setup();
            _keys = Array.ConvertAll(Tables.PutKey, TB.Key);
            _val = Enumerable.Repeat((byte)0x5a, Manifest.ValLen).ToArray();
        }

        [MethodImpl(Timed.Loop)]
        public override void Run(long n)
        {
            int every = Manifest.PutEvery;
            for (long k = 0; k < n; k++)
            {
                Check(TB.Put(Txn, _keys[_done % _keys.Length], _val));
                if (++_done % every == 0)
                {
                    TB.End(Txn, commit: true);
                    Txn = TB.Begin(Env, write: true);
                }
            }
        }
    }

    /// <summary>get/bytes:N: one value of N bytes copied into the caller's buffer.</summary>
    public sealed class GetBytes(string rt, int size) : InTxn(rt, "get", write: false, value: size)
    {
        readonly int _size = size;
        TKey _key = default!;
        byte[] _buf = [];

        public override void Setup()
        {
            base.Setup();
            _key = TB.Key(Manifest.BytesKey(_size));
            _buf = new byte[_size];
        }

        [MethodImpl(Timed.Loop)]
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
    public sealed class Batch(string rt, int n) : InTxn(rt, "batch", write: false, value: n)
    {
        readonly int _size = n;
        byte[][] _all = [];
        uint[] _order = [];
        byte[] _keys = [], _buf = [];
        nuint[] _keyLens = [], _valLens = [];
        int _pos;

        public override void Setup()
        {
            base.Setup();
            (_all, _order) = (Tables.Key, Tables.Order); // the tables load here, not in the first Run
            _keys = new byte[_size * Manifest.KeyLen];
            _keyLens = Enumerable.Repeat((nuint)Manifest.KeyLen, _size).ToArray();
            _valLens = new nuint[_size];
            _buf = new byte[_size * Manifest.ValLen];
        }

        [MethodImpl(Timed.Loop)]
        public override void Run(long n)
        {
            var (keys, order) = (_all, _order);
            int size = _size, keyLen = Manifest.KeyLen, pos = _pos;
            for (long k = 0; k < n; k++)
            {
                uint first = order[pos];
                for (int i = 0; i < size; i++)
                {
                    keys[order[pos]].CopyTo(_keys.AsSpan(i * keyLen));
                    if (++pos == order.Length) pos = 0;
                }
                Check(TB.GetBatch(Txn, size, _keys, _keyLens, _buf, _valLens, out var found));
                if (found != (nuint)size || Manifest.U32(_buf, 4) != first) Wrong($"found {found}");
            }
            _pos = pos;
        }
    }

    /// <summary>scan/dir:upcall: the manifest's records per scan, the engine calling back into managed
    /// code for each (viaDelegate: through a delegate's thunk, the mechanism TB.Mechanism-delegate).</summary>
    public sealed class ScanUpcall(string rt, bool viaDelegate)
        : InTxn(rt, "scan/dir:upcall", write: false, suffix: viaDelegate ? "-delegate" : "")
    {
        TKey _lo = default!, _hi = default!;
        readonly nint _fn = viaDelegate ? ScanCallbacks.Delegate : ScanCallbacks.UnmanagedCallersOnly;

        public override void Setup()
        {
            base.Setup();
            (_lo, _hi) = (TB.Key(Tables.Key[0]), TB.Key(Tables.Key[Manifest.ScanRecords]));
        }

        [MethodImpl(Timed.Loop)]
        public override void Run(long n)
        {
            nuint records = (nuint)Manifest.ScanRecords;
            for (long k = 0; k < n; k++)
            {
                var st = new ScanCallbacks.State { KeyLen = (nuint)Manifest.KeyLen, ValLen = (nuint)Manifest.ValLen };
                Check(TB.Scan(Txn, _lo, _hi, _fn, &st, out var count));
                if (st.Count != records || count != records || st.Bad != 0)
                    Wrong($"scan saw {st.Count} records, {st.Bad} bad");
            }
        }
    }
}
