// FirstCall.cs — the first call into the engine in a fresh process (../run starts many, interleaved).
//
// The first call of a P/Invoke pays for binding it: resolving "kv" (our resolver, then dlopen) and
// looking up the symbol, and on CoreCLR building and compiling its stub. NativeAOT compiled the stub
// ahead of time; with DirectPInvoke the symbol was bound by the linker, so only the call is left.
// Prints `load_ns first_ns second_ns`, like bench/first_call.c (load: NativeLibrary.Load + GetExport,
// fnptr only).
using System.Diagnostics;
using System.Runtime.InteropServices;
using FfiBench.Interop;

namespace FfiBench.Harness;

internal static unsafe class FirstCall
{
    public static readonly string[] Mechanisms = ["dllimport", "libraryimport", "fnptr"];

    public static int Run(string mechanism)
    {
        Stopwatch.GetTimestamp(); // the clock itself warmed up
        long t0 = Stopwatch.GetTimestamp(), t1 = t0, t2, t3;
        int a, b;
        // Each call site sits in this method, compiled before it runs, so only the call's own first-use
        // work lands between the timestamps (a wrapper method would add its own JIT time).
        switch (mechanism)
        {
            case "dllimport":
                a = PtrNative.Add(40, 2); t2 = Stopwatch.GetTimestamp();
                b = PtrNative.Add(a, 1); t3 = Stopwatch.GetTimestamp();
                break;
            case "libraryimport":
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
                throw new ArgumentException($"unknown mechanism {mechanism}");
        }
        if (a != 42 || b != 43) return 1;
        double ns = 1e9 / Stopwatch.Frequency;
        Console.WriteLine($"{(long)((t1 - t0) * ns)} {(long)((t2 - t1) * ns)} {(long)((t3 - t2) * ns)}");
        return 0;
    }
}
