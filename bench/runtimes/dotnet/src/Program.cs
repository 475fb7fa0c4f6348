// Program.cs — ffibench's .NET harness (bench/runtimes/dotnet/run drives it):
//   ffibench-dotnet make-dataset PATH
//   ffibench-dotnet bench --data BASE --dir DIR --tag TAG --out FRAGMENT --raw RAWDIR
//                        [--filter REGEX] [--quick] [--smoke] [--iterations N] [--iteration-ms X]
//                        [--min-warmup N] [--max-warmup N] [--flags TEXT]
//   ffibench-dotnet first-call MECHANISM
//   ffibench-dotnet merge OUT.json [--first-call ROWS] [--context KEY=VALUE]... FRAGMENT...
//   ffibench-dotnet list [--filter REGEX]
// The runtime (the first part of every name) is what this binary was built as, never an argument.
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using FfiBench.Harness;
using FfiBench.Interop;
using FfiBench.Workloads;

namespace FfiBench;

internal static class Program
{
    static RuntimeKind Kind =>
#if NATIVEAOT && KV_STATIC
        RuntimeKind.NativeAotStatic;
#elif NATIVEAOT
        RuntimeKind.NativeAot;
#elif DEBUG
        RuntimeKind.CoreClrDebug;
#else
        RuntimeKind.CoreClr;
#endif

    static int Main(string[] args)
    {
        NativeResolver.Register();
        if (args.Length == 0) return Usage();
        var rest = args[1..];
        try
        {
            return args[0] switch
            {
                "first-call" when rest.Length == 1 => FirstCall.Run(rest[0]),
                "make-dataset" when rest.Length == 1 => MakeDataset(rest[0]),
                "bench" => Bench(new Options(rest)),
                "merge" => Merge(rest),
                "list" => List(new Options(rest)),
                _ => Usage(),
            };
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"ffibench-dotnet ({Catalog.RuntimeName(Kind)}): {e.Message}");
            return 1;
        }
    }

    static int Usage()
    {
        Console.Error.WriteLine("usage: ffibench-dotnet make-dataset PATH | bench ... | first-call MECH | merge OUT FRAGMENTS... | list");
        return 2;
    }

    static int MakeDataset(string path)
    {
        Dataset.Create(path);
        return 0;
    }

    static List<Case> Selected(Options o)
    {
        // Every --filter must match (../run passes the caller's filter and, for a cross-check, its own).
        var filters = o.All("--filter").Select(f => new Regex(f)).ToList();
        return Catalog.Build(Kind, o.Has("--quick")).Where(c => filters.All(f => f.IsMatch(c.Name))).ToList();
    }

    static int List(Options o)
    {
        foreach (var c in Selected(o)) Console.WriteLine(c.Name);
        return 0;
    }

    static int Bench(Options o)
    {
        var cases = Selected(o);
        if (cases.Count == 0) return 0;
        Stores.Open(o.Require("--data"), o.Require("--dir"), o.Require("--tag"));
        bool smoke = o.Has("--smoke");
        var s = new HarnessSettings(o.Double("--iteration-ms", 20), o.Int("--iterations", 10),
                                    o.Int("--min-warmup", 3), o.Int("--max-warmup", 12));
        List<Measurement> results;
        string harness;
        if (smoke)
        {
            // Every workload once with a tiny time, every answer checked, without a harness...
            foreach (var c in cases)
            {
                c.Setup();
                try { c.Run(Math.Min(c.Batch, 4)); } finally { c.Teardown(); }
            }
            // ...then the harness itself once over every case (BenchmarkDotNet's Dry job with --harness bdn).
            results = RunHarness(cases, s with { IterationMs = 0.01, Iterations = 1, MinWarmup = 1, MaxWarmup = 1 }, o, dry: true, out harness);
        }
        else
        {
            results = RunHarness(cases, s, o, dry: false, out harness);
        }
        Stores.Close();

        string rt = Catalog.RuntimeName(Kind);
        var context = new Dictionary<string, string>
        {
            [$"dotnet.{rt}.runtime"] = $"{RuntimeInformation.FrameworkDescription} ({RuntimeInformation.RuntimeIdentifier})",
            [$"dotnet.{rt}.mode"] = Mode(),
            [$"dotnet.{rt}.flags"] = o.Get("--flags") ?? "",
            [$"dotnet.{rt}.harness"] = harness,
            ["dotnet.kv_version"] = Kv.Version,
        };
        Results.WriteFragment(o.Require("--out"), context, results);
        return 0;
    }

    /// <summary>The hand-written harness everywhere, so every runtime is measured by the same code;
    /// on CoreCLR, --harness bdn runs BenchmarkDotNet instead (../run uses it as a cross-check: its
    /// in-process host adds a few ns to every P/Invoke it measures, see README.md).</summary>
    static List<Measurement> RunHarness(List<Case> cases, HarnessSettings s, Options o, bool dry, out string harness)
    {
#if !NATIVEAOT
        if (o.Get("--harness") == "bdn")
        {
            harness = Bdn.BdnDriver.Describe(s, dry);
            return Bdn.BdnDriver.Run(cases, s, o.Require("--raw"), dry);
        }
#endif
        harness = HandHarness.Describe(s);
        return cases.SelectMany(c => HandHarness.Run(c, s)).ToList();
    }

    /// <summary>DOTNET_* variables of the SDK and its CLI, which the runtime never reads.</summary>
    static readonly string[] SdkOnly = ["DOTNET_CLI_", "DOTNET_NOLOGO", "DOTNET_SKIP_FIRST_TIME_EXPERIENCE", "DOTNET_GENERATE_ASPNET_CERTIFICATE"];

    /// <summary>How the code runs: the JIT's tiering settings, or ahead-of-time compilation.</summary>
    static string Mode()
    {
#if NATIVEAOT
        return Kind == RuntimeKind.NativeAotStatic
            ? "NativeAOT, libkv.a linked statically, P/Invokes bound at link time (DirectPInvoke)"
            : "NativeAOT, libkv.so loaded at run time (lazy P/Invoke binding through NativeLibrary)";
#else
        static string Switch(string name) => AppContext.GetData(name)?.ToString() ?? "default";
        var env = string.Join(" ", Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("DOTNET_", StringComparison.Ordinal) && !SdkOnly.Any(k.StartsWith)).Order()
            .Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}"));
        return $"CoreCLR JIT ({(Kind == RuntimeKind.CoreClrDebug ? "Debug build: optimisations off" : "Release build")}), " +
               $"TieredCompilation={Switch("System.Runtime.TieredCompilation")}, TieredPGO={Switch("System.Runtime.TieredPGO")}" +
               (env.Length > 0 ? $", {env}" : "");
#endif
    }

    static int Merge(string[] args)
    {
        var o = new Options(args[1..]);
        var context = o.All("--context").Select(kv => kv.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Results.Merge(args[0], o.Positional, o.Get("--first-call"), context);
        return 0;
    }
}

/// <summary>--name value options, flags and positional arguments.</summary>
internal sealed class Options
{
    static readonly HashSet<string> Flags = ["--quick", "--smoke"];
    readonly List<(string Key, string Value)> _named = [];
    public List<string> Positional { get; } = [];

    public Options(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            if (Flags.Contains(args[i])) _named.Add((args[i], ""));
            else if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length) _named.Add((args[i], args[++i]));
            else Positional.Add(args[i]);
        }
    }

    public bool Has(string key) => _named.Any(p => p.Key == key);
    public string? Get(string key) => _named.LastOrDefault(p => p.Key == key).Value;
    public IEnumerable<string> All(string key) => _named.Where(p => p.Key == key).Select(p => p.Value);
    public string Require(string key) => Get(key) ?? throw new ArgumentException($"{key} is required");
    public int Int(string key, int fallback) => Get(key) is { } v ? int.Parse(v) : fallback;
    public double Double(string key, double fallback) => Get(key) is { } v ? double.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;
}
