// Add.cs — the simplest standalone loop for kv_add from C# under Mono, sharing no code with the
// worker: a blittable [DllImport] called in a static method's loop, `x = Add(x, 1)`, timed with
// Stopwatch. The cross-check of mono-jit/dllimport/add/mode:latency (--validate); "kv" is mapped to
// $KV_LIBRARY by the <dllmap> beside it. Prints the median of the last 5 of 20 rounds of 10^6 calls,
// in ns per call, loop included.
using System;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

static class Program
{
    [DllImport("kv", EntryPoint = "kv_add")] static extern int Add(int a, int b);

    static int Loop(int n, int x)
    {
        for (int i = 0; i < n; i++) x = Add(x, 1);
        return x;
    }

    static int Main()
    {
        const int N = 1000000, Rounds = 20;
        var ns = new double[Rounds];
        int x = 0;
        for (int r = 0; r < Rounds; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            x = Loop(N, x);
            ns[r] = (double)(Stopwatch.GetTimestamp() - t0) * 1e9 / Stopwatch.Frequency / N;
        }
        if (x != N * Rounds) return 1;
        var last = new double[5];
        Array.Copy(ns, Rounds - 5, last, 0, 5);
        Array.Sort(last);
        Console.WriteLine(last[2].ToString("F4", CultureInfo.InvariantCulture));
        return 0;
    }
}
