// Program.cs — the simplest standalone loop for kv_add from C#, sharing no code with the worker: a
// blittable [DllImport] called in a static method's loop, `x = Add(x, 1)`, timed with Stopwatch
// after tiered compilation has settled. The cross-check of dotnet-coreclr/dllimport/add/mode:latency
// and, published with NativeAOT, of dotnet-nativeaot/dllimport/add/mode:latency (--validate).
// Prints the median of the last 5 of 40 rounds of 10^7 calls, in ns per call, loop included.
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
        NativeLibrary.SetDllImportResolver(typeof(Program).Assembly, (name, _, _) =>
            name == "kv" ? NativeLibrary.Load(Environment.GetEnvironmentVariable("KV_LIBRARY")!) : 0);
        const int N = 10_000_000, Rounds = 40;
        var ns = new double[Rounds];
        int x = 0;
        for (int r = 0; r < Rounds; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            x = Loop(N, x);
            ns[r] = (double)(Stopwatch.GetTimestamp() - t0) * 1e9 / Stopwatch.Frequency / N;
        }
        if (x != N * Rounds) return 1;
        var last = ns[^5..];
        Array.Sort(last);
        Console.WriteLine(last[2].ToString("F4", CultureInfo.InvariantCulture));
        return 0;
    }
}
