// BdnDriver.cs — BenchmarkDotNet for the CoreCLR builds (Release and Debug).
//
// One benchmark class; its parameter is the index of a Case, so every workload of the catalog is one
// BenchmarkDotNet benchmark with its own GlobalSetup. The in-process toolchain runs them in this very
// process (no child project to build: the harness stays within its time budget), on one thread, which
// also runs GlobalSetup — so each case's LMDB transaction belongs to the thread that uses it.
// After the run, the full JSON report's raw measurements (IterationMode Workload, stage Actual: before
// BenchmarkDotNet's overhead subtraction and outlier removal, as google-benchmark reports them) become
// this process's fragment, one entry per measured iteration.
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Exporters.Csv;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.NoEmit;
using FfiBench.Harness;
using FfiBench.Workloads;
using Perfolizer.Horology;

namespace FfiBench.Bdn;

public class WarmCalls
{
    internal static List<Case> Cases = [];
    public static IEnumerable<int> Indices => Enumerable.Range(0, Cases.Count);

    [ParamsSource(nameof(Indices))]
    public int Case { get; set; }

    Case _case = null!;

    [GlobalSetup]
    public void Setup()
    {
        _case = Cases[Case];
        _case.Setup();
    }

    [GlobalCleanup]
    public void Cleanup() => _case.Teardown();

    /// <summary>One invocation = Batch iterations of the workload's loop.</summary>
    [Benchmark]
    public void Run() => _case.Run(_case.Batch);
}

internal static class BdnDriver
{
    public static string Version => typeof(BenchmarkRunner).Assembly.GetName().Version?.ToString(3) ?? "?";

    public static string Describe(HarnessSettings s, bool dry) => dry
        ? $"BenchmarkDotNet {Version}, InProcessNoEmitToolchain, Job.Dry (smoke)"
        : $"BenchmarkDotNet {Version}, InProcessNoEmitToolchain: IterationTime {s.IterationMs} ms, warm-up {s.MinWarmup}..{s.MaxWarmup} " +
          $"(BenchmarkDotNet's auto warm-up), {s.Iterations} measured iterations per process, overhead evaluation off (raw Workload/Actual " +
          "measurements are reported; the control loop is measured as a benchmark)";

    public static List<Measurement> Run(List<Case> cases, HarnessSettings s, string artifacts, bool dry)
    {
        WarmCalls.Cases = cases;
        var job = (dry ? Job.Dry : Job.Default
                .WithIterationTime(TimeInterval.FromMilliseconds(s.IterationMs))
                .WithIterationCount(s.Iterations)
                .WithMinWarmupCount(s.MinWarmup)
                .WithMaxWarmupCount(s.MaxWarmup))
            .WithLaunchCount(1)
            .WithEvaluateOverhead(false)
            .WithToolchain(InProcessNoEmitToolchain.Instance)
            .WithId("ffibench");
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddLogger(ConsoleLogger.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddExporter(JsonExporter.Full, CsvMeasurementsExporter.Default)
            .WithArtifactsPath(artifacts)
            // The Debug build is the point of dotnet-coreclr-debug: let BenchmarkDotNet measure it.
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        var summary = BenchmarkRunner.Run<WarmCalls>(config);
        if (summary.HasCriticalValidationErrors)
            throw new InvalidOperationException("BenchmarkDotNet: critical validation errors (see its log)");

        var report = Directory.GetFiles(summary.ResultsDirectoryPath, "*-report-full.json").Single();
        var results = new List<Measurement>();
        var seen = new HashSet<int>();
        using var doc = JsonDocument.Parse(File.ReadAllBytes(report));
        foreach (var b in doc.RootElement.GetProperty("Benchmarks").EnumerateArray())
        {
            // "Parameters": "Case=17"
            int index = int.Parse(b.GetProperty("Parameters").GetString()!.Split('=')[1]);
            var c = cases[index];
            foreach (var m in b.GetProperty("Measurements").EnumerateArray())
            {
                if (m.GetProperty("IterationMode").GetString() != "Workload" || m.GetProperty("IterationStage").GetString() != "Actual")
                    continue;
                long invokes = m.GetProperty("Operations").GetInt64();
                results.Add(new Measurement(c.Name, invokes * c.Batch, m.GetProperty("Nanoseconds").GetDouble(), c.Ops));
                seen.Add(index);
            }
        }
        var failed = cases.Where((_, i) => !seen.Contains(i)).Select(c => c.Name).ToList();
        if (failed.Count > 0)
            throw new InvalidOperationException($"BenchmarkDotNet measured nothing for: {string.Join(", ", failed)} (see its log)");
        return results;
    }
}
