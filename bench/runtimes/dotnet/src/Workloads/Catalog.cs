// Catalog.cs — which workloads each binding runs: noop and add for every call style, the data
// workloads where the binding style changes what a call costs. Parameter values come from the data
// folder's manifest (the C workload table).
using System.Runtime.InteropServices;
using FfiBench.Interop;

namespace FfiBench.Workloads;

[Flags]
internal enum Work
{
    Calls = 1, Get = 2, Put = 4, Bytes = 8, Batch = 16, Scan = 32, ScanDelegate = 64,
    /// <summary>noop and add again with the call isolated in a non-inlined method (`/site:isolated`).</summary>
    Isolated = 128,
    All = Calls | Get | Put | Bytes | Batch | Scan,
}

internal static class Catalog
{
    /// <summary>Every benchmark of this runtime, the control first.</summary>
    public static List<Case> Build()
    {
        string rt = ThisRuntime.Name;
        var kind = ThisRuntime.Kind;
        // The Debug build answers the origin sample's figure: its calls only (no site:isolated: it
        // inlines nothing, so every call site there is isolated already).
        Work W(Work w) => kind == RuntimeKind.CoreClrDebug ? w & Work.Calls : w;
        var cases = new List<Case> { new ControlLoop(rt) };
        cases.AddRange(For<PtrDllImport, nint, Bytes>(rt, W(Work.All | Work.ScanDelegate | Work.Isolated)));
        cases.AddRange(For<PtrSuppressGc, nint, Bytes>(rt, W(Work.Calls | Work.Isolated)));
        cases.AddRange(For<PtrLibraryImport, nint, Bytes>(rt, W(Work.Calls | Work.Isolated | Work.Get)));
        // In the static build fnptr still dlopens libkv.so: a second copy of the engine, whose calls
        // cannot take the transactions of the linked-in copy. Only its calls are measured there.
        cases.AddRange(For<PtrFnPtr, nint, Bytes>(rt, W(Work.Isolated | (kind == RuntimeKind.NativeAotStatic ? Work.Calls : Work.Calls | Work.Get))));
        cases.AddRange(For<PtrSafeHandle, Safe, Bytes>(rt, W(Work.Get | Work.Put)));
        cases.AddRange(For<PtrMarshaled, nint, Str>(rt, W(Work.Get | Work.Put)));
        cases.AddRange(For<HandleBinding, ulong, Bytes>(rt, W(Work.Calls | Work.Get | Work.Put | Work.Bytes | Work.Scan)));
        cases.AddRange(For<HandleSafeBinding, Safe, Bytes>(rt, W(Work.Calls | Work.Get)));
        cases.AddRange(For<MarshalBinding, ulong, Bytes>(rt, W(Work.Calls | Work.Get | Work.Put | Work.Bytes | Work.Batch)));
        return cases;
    }

    static IEnumerable<Case> For<TB, TObj, TKey>(string rt, Work w) where TB : IBinding<TObj, TKey>
    {
        if (w.HasFlag(Work.Calls))
        {
            yield return new Workloads<TB, TObj, TKey>.Noop(rt);
            yield return new Workloads<TB, TObj, TKey>.AddLatency(rt);
            yield return new Workloads<TB, TObj, TKey>.AddThroughput(rt);
        }
        if (w.HasFlag(Work.Isolated))
        {
            yield return new Workloads<TB, TObj, TKey>.NoopIsolated(rt);
            yield return new Workloads<TB, TObj, TKey>.AddLatencyIsolated(rt);
            yield return new Workloads<TB, TObj, TKey>.AddThroughputIsolated(rt);
        }
        if (w.HasFlag(Work.Get)) yield return new Workloads<TB, TObj, TKey>.GetLatency(rt);
        if (w.HasFlag(Work.Put)) yield return new Workloads<TB, TObj, TKey>.Put(rt);
        if (w.HasFlag(Work.Bytes))
            foreach (int n in Manifest.Values("get")) yield return new Workloads<TB, TObj, TKey>.GetBytes(rt, n);
        if (w.HasFlag(Work.Batch))
            foreach (int n in Manifest.Values("batch")) yield return new Workloads<TB, TObj, TKey>.Batch(rt, n);
        if (w.HasFlag(Work.Scan)) yield return new Workloads<TB, TObj, TKey>.ScanUpcall(rt, viaDelegate: false);
        if (w.HasFlag(Work.ScanDelegate)) yield return new Workloads<TB, TObj, TKey>.ScanUpcall(rt, viaDelegate: true);
    }
}
