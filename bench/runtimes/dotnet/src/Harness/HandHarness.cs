// HandHarness.cs — BenchmarkDotNet's discipline by hand, for NativeAOT (and --smoke everywhere):
// a pilot stage sizes the invocation count to the target iteration time, warm-up runs until three
// consecutive iterations agree, then the measured iterations, with a full GC between iterations so
// none pays for another's garbage. ../run runs several processes and pools their iterations.
using System.Diagnostics;
using System.Runtime.InteropServices;
using FfiBench.Workloads;

namespace FfiBench.Harness;

internal sealed record HarnessSettings(double IterationMs, int Iterations, int MinWarmup, int MaxWarmup);

internal static class HandHarness
{
    public static string Describe(HarnessSettings s) =>
        $"hand-written (BenchmarkDotNet's discipline): pilot to {s.IterationMs} ms per iteration, warm-up until 3 iterations " +
        $"agree within 2 % ({s.MinWarmup}..{s.MaxWarmup}), {s.Iterations} measured iterations per process, GC between iterations; " +
        "real_time: Stopwatch (CLOCK_MONOTONIC); cpu_time: the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), which leaves out " +
        "the time other processes held the core";

    public static List<Measurement> Run(Case c, HarnessSettings s)
    {
        var results = new List<Measurement>(s.Iterations);
        c.Setup();
        try
        {
            JitWarmUp(c);
            double target = s.IterationMs * 1e6;
            long invokes = 1;
            for (double ns = Time(c, invokes).Wall; ns < target; ns = Time(c, invokes).Wall)
                invokes = ns < target / 16 ? invokes * 8 : (long)Math.Ceiling(invokes * target / Math.Max(ns, 1) * 1.05);

            var warm = new List<double>();
            for (int i = 0; i < s.MaxWarmup; i++)
            {
                warm.Add(Time(c, invokes).Wall);
                if (warm.Count >= s.MinWarmup && Steady(warm)) break;
            }
            for (int i = 0; i < s.Iterations; i++)
            {
                GC.Collect();
                var (wall, cpu) = Time(c, invokes);
                results.Add(new Measurement(c.Name, invokes * c.Batch, wall, c.Ops, cpu));
            }
        }
        finally
        {
            c.Teardown();
        }
        return results;
    }

    /// <summary>CoreCLR: brings the loop to its final tier before the pilot. Tiered compilation promotes
    /// a method after 30 calls (tier 0, then tier 0 instrumented for PGO, then tier 1), compiling each
    /// tier in the background; the pauses let each promotion land. Without them some processes were
    /// measured on an intermediate tier (~6 ns per dllimport call instead of ~2 ns) until, mid-run, tier 1
    /// arrived. NativeAOT code is final from the start.</summary>
    static void JitWarmUp(Case c)
    {
#if !NATIVEAOT
        for (int round = 0; round < 5; round++)
        {
            for (int i = 0; i < 40; i++) c.Run(c.Batch);
            Thread.Sleep(20);
        }
#endif
    }

    /// <summary>The last three warm-up iterations within 2 % of their median.</summary>
    static bool Steady(List<double> w)
    {
        if (w.Count < 3) return false;
        var last = w.TakeLast(3).Order().ToArray();
        return (last[2] - last[0]) / last[1] < 0.02;
    }

    static readonly double NsPerTick = 1e9 / Stopwatch.Frequency;

    static (double Wall, double Cpu) Time(Case c, long invokes)
    {
        long batch = c.Batch;
        long cpu0 = ThreadCpu.Now();
        long t0 = Stopwatch.GetTimestamp();
        for (long i = 0; i < invokes; i++) c.Run(batch);
        long t1 = Stopwatch.GetTimestamp();
        return ((t1 - t0) * NsPerTick, ThreadCpu.Now() - cpu0);
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
