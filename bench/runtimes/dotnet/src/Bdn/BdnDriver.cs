// BdnDriver.cs — `bdn OUT_DIR [--dry]`: BenchmarkDotNet over this build's control loop, noop and add
// (CoreCLR builds only), a cross-check of the driver's figures by an independent harness. The driver
// does not run it; its reports (BenchmarkDotNet's own: markdown, CSV, JSON) go to OUT_DIR.
//
// The in-process NoEmit toolchain runs the benchmarks in this very process on one thread, which also
// runs GlobalSetup (LMDB: a transaction belongs to its thread); its Emit toolchain left the control
// loop at tier-0 speed. The workload cases are the worker's own (needs FFIBENCH_DATA; FFIBENCH_SCRATCH
// defaults to OUT_DIR).
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.NoEmit;
using FfiBench.Interop;
using FfiBench.Workloads;

namespace FfiBench.Bdn;

public class WarmCalls
{
    /// <summary>Loop iterations per invocation; BenchmarkDotNet divides by it (per-call figures).</summary>
    const int PerInvoke = 256;

    internal static List<Case> Cases = [];
    public static IEnumerable<string> Names => Cases.Select(c => c.Name);

    [ParamsSource(nameof(Names))]
    public string Name { get; set; } = "";

    Case _case = null!;

    [GlobalSetup]
    public void Setup()
    {
        _case = Cases.Single(c => c.Name == Name);
        _case.Setup();
    }

    [GlobalCleanup]
    public void Cleanup() => _case.Teardown();

    [Benchmark(OperationsPerInvoke = PerInvoke)]
    public void Run() => _case.Run(PerInvoke);
}

internal static class BdnDriver
{
    public static int Run(string outDir, bool dry)
    {
        Directory.CreateDirectory(outDir);
        if (Environment.GetEnvironmentVariable("FFIBENCH_SCRATCH") is not { Length: > 0 })
            Environment.SetEnvironmentVariable("FFIBENCH_SCRATCH", Path.GetFullPath(outDir));
        string[] wanted = ["control/loop", "dllimport/noop", "dllimport/add/mode:latency", "dllimport-suppressgc/add/mode:latency"];
        WarmCalls.Cases = Catalog.Build().Where(c => wanted.Any(w => c.Name == $"{ThisRuntime.Name}/{w}")).ToList();
        var job = (dry ? Job.Dry : Job.Default).WithToolchain(InProcessNoEmitToolchain.Instance).WithId(ThisRuntime.Name);
        var config = DefaultConfig.Instance.AddJob(job).AddLogger(ConsoleLogger.Default).WithArtifactsPath(outDir)
            // The Debug build is the point of dotnet-coreclr-debug: let BenchmarkDotNet measure it.
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        var summary = BenchmarkRunner.Run<WarmCalls>(config);
        Stores.CloseAll();
        return summary.HasCriticalValidationErrors || summary.Reports.Any(r => !r.Success) ? 1 : 0;
    }
}
