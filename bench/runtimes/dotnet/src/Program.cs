// Program.cs — ffibench's .NET worker (bench/runtimes/README.md is the contract):
//   ffibench-dotnet worker                         answers the driver's requests on stdin/stdout (Worker.cs)
//   ffibench-dotnet [worker] first-call MECHANISM  prints "LOAD_NS FIRST_NS SECOND_NS" and exits (FirstCall.cs)
//   ffibench-dotnet [worker] first-call none       exits without loading anything (the whole-process control)
//   ffibench-dotnet bdn OUT_DIR [--dry]            CoreCLR builds only: BenchmarkDotNet over the control, noop
//                                                  and add, a cross-check the driver does not run (Bdn/)
// The runtime (the first part of every name) is what this binary was built as, never an argument.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FfiBench;

internal static class Program
{
    static int Main(string[] args)
    {
        // The driver appends the per-process mode to the worker's command line: `worker first-call MECH`.
        if (args is ["worker", "first-call", ..]) args = args[1..];
        try
        {
            return args switch
            {
                ["worker"] => Worker.Serve(),
                ["first-call", "none"] => 0,
                ["first-call", var mechanism] => FirstCall.Run(mechanism),
                ["bdn", var dir] => Bdn(dir, dry: false),
                ["bdn", var dir, "--dry"] => Bdn(dir, dry: true),
                _ => Usage(),
            };
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"ffibench-dotnet ({ThisRuntime.Name}): {e}");
            return 1;
        }
    }

    static int Usage()
    {
        Console.Error.WriteLine("usage: ffibench-dotnet worker | first-call MECHANISM|none | bdn OUT_DIR [--dry]");
        return 2;
    }

    // Out of line, so that the other modes never load BenchmarkDotNet.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static int Bdn(string dir, bool dry)
    {
#if NATIVEAOT
        Console.Error.WriteLine("ffibench-dotnet: bdn runs on the CoreCLR builds only");
        return 2;
#else
        Interop.NativeResolver.Register();
        return FfiBench.Bdn.BdnDriver.Run(dir, dry);
#endif
    }
}

/// <summary>How this process was built and run: the first part of every benchmark name.</summary>
internal enum RuntimeKind { CoreClr, CoreClrDebug, NativeAot, NativeAotStatic }

internal static class ThisRuntime
{
    public static RuntimeKind Kind =>
#if NATIVEAOT && KV_STATIC
        RuntimeKind.NativeAotStatic;
#elif NATIVEAOT
        RuntimeKind.NativeAot;
#elif DEBUG
        RuntimeKind.CoreClrDebug;
#else
        RuntimeKind.CoreClr;
#endif

    public static string Name => Kind switch
    {
        RuntimeKind.CoreClr => "dotnet-coreclr",
        RuntimeKind.CoreClrDebug => "dotnet-coreclr-debug",
        RuntimeKind.NativeAot => "dotnet-nativeaot",
        _ => "dotnet-nativeaot-static",
    };

    /// <summary>How the build script built this binary.</summary>
    public static string BuildFlags => Kind switch
    {
        RuntimeKind.CoreClr => "dotnet build -c Release (Optimize=true); apphost",
        RuntimeKind.CoreClrDebug => "dotnet build -c Debug (Optimize=false: this program's code gets the JIT's minimal optimisation); apphost",
        RuntimeKind.NativeAot => "dotnet publish -c Release -r linux-x64 -p:PublishAot=true (OptimizationPreference=Speed)",
        _ => "dotnet publish -c Release -r linux-x64 -p:PublishAot=true -p:KvStatic=true (OptimizationPreference=Speed): " +
             "DirectPInvoke kv, LinkerArg libkv.a -llmdb -lpthread",
    };

    /// <summary>DOTNET_* variables of the SDK and its CLI, which the runtime never reads.</summary>
    static readonly string[] SdkOnly = ["DOTNET_CLI_", "DOTNET_NOLOGO", "DOTNET_SKIP_FIRST_TIME_EXPERIENCE", "DOTNET_GENERATE_ASPNET_CERTIFICATE"];

    /// <summary>The DOTNET_* variables the runtime sees ("" when none).</summary>
    public static string DotnetEnvironment => string.Join(" ", Environment.GetEnvironmentVariables().Keys.Cast<string>()
        .Where(k => k.StartsWith("DOTNET_", StringComparison.Ordinal) && !SdkOnly.Any(k.StartsWith)).Order()
        .Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}"));

    /// <summary>How the code runs: the JIT's tiering settings, or ahead-of-time compilation.</summary>
    public static string Mode()
    {
#if NATIVEAOT
        return Kind == RuntimeKind.NativeAotStatic
            ? "NativeAOT, libkv.a linked statically, P/Invokes bound at link time (DirectPInvoke)"
            : "NativeAOT, libkv.so loaded at run time (lazy P/Invoke binding through NativeLibrary)";
#else
        static string Switch(string name) => AppContext.GetData(name)?.ToString() ?? "default";
        return $"CoreCLR JIT ({(Kind == RuntimeKind.CoreClrDebug ? "Debug build: optimisations off" : "Release build")}), " +
               $"TieredCompilation={Switch("System.Runtime.TieredCompilation")}, TieredPGO={Switch("System.Runtime.TieredPGO")}";
#endif
    }

    public static string Framework => $"{(Kind is RuntimeKind.NativeAot or RuntimeKind.NativeAotStatic ? "NativeAOT" : "CoreCLR")} " +
                                      $"{RuntimeInformation.FrameworkDescription} ({RuntimeInformation.RuntimeIdentifier})";
}
