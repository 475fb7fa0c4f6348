// FirstCall.cs — `first-call MECHANISM`: the first call into the engine in a fresh process (the driver
// starts many, interleaved, and times whole processes with hyperfine).
//
// The first call of a P/Invoke pays for binding it: resolving "kv" (our resolver, then dlopen) and
// looking up the symbol, and on CoreCLR building and compiling its stub. NativeAOT compiled the stub
// ahead of time; with DirectPInvoke the symbol was bound by the linker, so only the call is left.
// Prints "LOAD_NS FIRST_NS SECOND_NS" (bench/runtimes/README.md): LOAD is what comes before the call
// can be made — registering the resolver (dllimport, libraryimport; the library itself is loaded
// inside the first call), or NativeLibrary.Load + GetExport (fnptr).
using System.Diagnostics;
using System.Runtime.InteropServices;
using FfiBench.Interop;

namespace FfiBench;

internal static unsafe class FirstCall
{
    public static readonly string[] Mechanisms = ["dllimport", "libraryimport", "fnptr"];

    public static int Run(string mechanism)
    {
        Stopwatch.GetTimestamp(); // the clock itself warmed up
        long t0 = Stopwatch.GetTimestamp(), t1, t2, t3;
        int a, b;
        // Each call site sits in this method, compiled before it runs, so only the call's own first-use
        // work lands between the timestamps (a wrapper method would add its own JIT time).
        switch (mechanism)
        {
            case "dllimport":
                NativeResolver.Register(); t1 = Stopwatch.GetTimestamp();
                a = PtrNative.Add(40, 2); t2 = Stopwatch.GetTimestamp();
                b = PtrNative.Add(a, 1); t3 = Stopwatch.GetTimestamp();
                break;
            case "libraryimport":
                NativeResolver.Register(); t1 = Stopwatch.GetTimestamp();
                a = PtrGenerated.Add(40, 2); t2 = Stopwatch.GetTimestamp();
                b = PtrGenerated.Add(a, 1); t3 = Stopwatch.GetTimestamp();
                break;
            case "fnptr":
                var add = (delegate* unmanaged<int, int, int>)NativeLibrary.GetExport(NativeLibrary.Load(NativeResolver.LibraryPath), "kv_add");
                t1 = Stopwatch.GetTimestamp();
                a = add(40, 2); t2 = Stopwatch.GetTimestamp();
                b = add(a, 1); t3 = Stopwatch.GetTimestamp();
                break;
            default:
                Console.Error.WriteLine($"first-call: no mechanism {mechanism} (there are: {string.Join(", ", Mechanisms)}, none)");
                return 2;
        }
        if (a != 42 || b != 43)
        {
            Console.Error.WriteLine($"first-call {mechanism}: kv_add gave {a}, {b}; want 42, 43");
            return 1;
        }
        double ns = 1e9 / Stopwatch.Frequency;
        Console.WriteLine($"{(long)((t1 - t0) * ns)} {(long)((t2 - t1) * ns)} {(long)((t3 - t2) * ns)}");
        return 0;
    }
}
