// Worker.cs — the worker protocol (bench/runtimes/README.md): one request per line on stdin, data
// lines then `ok` or `error<TAB>message` on stdout, flushed after each answer.
//
// It holds no measurement method: the driver says how many iterations and repeats; this runs the
// case's loop (Workloads.cs), reads the clocks immediately around that one call, and reports.
using System.Diagnostics;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using FfiBench.Interop;
using FfiBench.Workloads;

namespace FfiBench;

internal static class Worker
{
    static Dictionary<string, Case>? _cases;
    static Case? _current; // the case set up last; switching to another tears it down

    static Dictionary<string, Case> Cases => _cases ??= Catalog.Build().ToDictionary(c => c.Name);

    public static int Serve()
    {
        var input = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));
        var output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { NewLine = "\n" };
        Console.SetOut(Console.Error); // nothing but answers on stdout
        NativeResolver.Register();
        ThreadCpu.Now(); // binds clock_gettime before any timing
        try
        {
            for (string? line; (line = input.ReadLine()) is not null && line != "quit";)
            {
                try
                {
                    var rows = line.Split('\t') switch
                    {
                        ["hello"] => Hello(),
                        ["list"] => List(),
                        ["data"] => Data(),
                        ["run", var name, var iterations, var repeats] => Run(name, Count(iterations), Count(repeats)),
                        _ => throw new ArgumentException($"bad request '{line}'"),
                    };
                    foreach (var row in rows) output.WriteLine(row);
                    output.WriteLine("ok");
                }
                catch (Exception e)
                {
                    output.WriteLine($"error\t{Describe(e)}");
                }
                output.Flush();
            }
        }
        finally
        {
            End();
            Stores.CloseAll();
        }
        return 0;
    }

    static string Describe(Exception e)
    {
        while (e is TypeInitializationException { InnerException: { } inner }) e = inner;
        return $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ").Replace('\t', ' ');
    }

    static long Count(string s) => long.TryParse(s, out long n) && n > 0 ? n : throw new ArgumentException($"'{s}' is not a positive count");

    static List<string> Hello() =>
    [
        $"context\truntime_name\t{ThisRuntime.Framework}",
        $"context\truntime_version\t{Environment.Version}",
        $"context\truntime_flags\t{ThisRuntime.BuildFlags}" +
            (ThisRuntime.DotnetEnvironment is { Length: > 0 } env ? $"; {env}" : ""),
        $"context\truntime_mode\t{ThisRuntime.Mode()}",
        $"context\tdotnet_gc\t{(GCSettings.IsServerGC ? "server" : "workstation")}, {GCSettings.LatencyMode}",
        $"context\tkv_version\t{Kv.Version}",
        "protocol\t1",
    ];

    static List<string> Data() => [$"checksum\t{Tables.Checksum()}"];

    static List<string> List()
    {
        var rows = Cases.Values.Select(c => $"bench\t{c.Name}\t{c.Ops}\t1").ToList();
        rows.AddRange(FirstCall.Mechanisms.Select(m => $"first-call\t{m}"));
        return rows;
    }

    static Case Select(string name)
    {
        if (_current?.Name == name) return _current;
        if (!Cases.TryGetValue(name, out var c)) throw new ArgumentException($"no benchmark {name}");
        End();
        c.Setup();
        return _current = c;
    }

    static void End()
    {
        var c = _current;
        _current = null;
        c?.Teardown();
    }

    static readonly double NsPerTick = 1e9 / Stopwatch.Frequency;

    /// <summary>REPEATS timed calls of the case's loop, ITERATIONS iterations each: wall-clock
    /// (Stopwatch: CLOCK_MONOTONIC) and this thread's CPU time, read immediately around the call.</summary>
    static List<string> Run(string name, long iterations, long repeats)
    {
        var c = Select(name);
        var samples = new (long Wall, long Cpu)[repeats];
        try
        {
            for (long r = 0; r < repeats; r++)
            {
                long c0 = ThreadCpu.Now();
                long t0 = Stopwatch.GetTimestamp();
                c.Run(iterations);
                long t1 = Stopwatch.GetTimestamp();
                long c1 = ThreadCpu.Now();
                samples[r] = ((long)((t1 - t0) * NsPerTick), c1 - c0);
            }
        }
        catch
        {
            try { End(); } catch (Exception) { } // a failed loop leaves its case for a fresh setup
            throw;
        }
        var lines = samples.Select(s => $"sample\t{s.Wall}\t{s.Cpu}").ToList();
        // Methods the JIT has compiled so far, in any thread: the driver takes a warm-up as steady only
        // while this stands still, so a tier-up landing in the background cannot pass for a plateau.
        // (NativeAOT compiles nothing at run time: the count stays put.)
        lines.Add($"jit\t{System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: false)}");
        return lines;
    }
}

/// <summary>The calling thread's CPU time in ns (clock_gettime(CLOCK_THREAD_CPUTIME_ID), libc).</summary>
internal static unsafe partial class ThreadCpu
{
    const int ClockThreadCpuTime = 3;

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, long* ts);

    public static long Now()
    {
        long* ts = stackalloc long[2]; // struct timespec { time_t tv_sec; long tv_nsec; } on 64-bit Linux
        return ClockGetTime(ClockThreadCpuTime, ts) == 0 ? ts[0] * 1_000_000_000 + ts[1] : 0;
    }
}
