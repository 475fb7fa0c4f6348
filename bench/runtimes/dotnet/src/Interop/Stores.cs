// Stores.cs — each mechanism's environment, opened on first use on its own copy of the data set:
// base.kv copied to $FFIBENCH_SCRATCH/<mechanism>.kv (LMDB allows one open per file per process, and
// a put must not change what the next process reads), as each C row does.
using System.Text;
using FfiBench.Workloads;

namespace FfiBench.Interop;

internal static unsafe class Stores
{
    static readonly Dictionary<string, (object Env, Action Close)> Opened = [];

    /// <summary>Mechanism's environment through binding TB, opened once per process.</summary>
    public static TObj Env<TB, TObj, TKey>(string mechanism) where TB : IBinding<TObj, TKey>
    {
        if (Opened.TryGetValue(mechanism, out var o)) return (TObj)o.Env;
        var scratch = Environment.GetEnvironmentVariable("FFIBENCH_SCRATCH") is { Length: > 0 } s
            ? s : throw new InvalidOperationException("FFIBENCH_SCRATCH is not set (bench/runtimes/README.md)");
        var path = Path.Combine(scratch, mechanism + ".kv");
        File.Copy(Manifest.BasePath, path, overwrite: true);
        TObj env = TB.Open(path);
        Opened[mechanism] = (env!, () => TB.Close(env));
        return env;
    }

    public static void CloseAll()
    {
        foreach (var (_, close) in Opened.Values) close();
        Opened.Clear();
    }

    /// <summary>The pointer API's environment (kv_env_open).</summary>
    public static nint OpenPtr(string path) => Open<nint>(path, &PtrNative.EnvOpen, "kv_env_open");

    /// <summary>The handle and marshal ABIs' environment (kvh_env_open).</summary>
    public static ulong OpenHandle(string path) => Open<ulong>(path, &HandleNative.EnvOpen, "kvh_env_open");

    /// <summary>Opens path through an ABI's env_open with wl_env_options(): no-sync, a 1 GiB map.</summary>
    static T Open<T>(string path, delegate*<T*, byte*, KvOptions*, int> envOpen, string what) where T : unmanaged
    {
        var opts = KvOptions.Bench;
        T env;
        fixed (byte* p = Encoding.UTF8.GetBytes(path + "\0"))
            Kv.Check(envOpen(&env, p, &opts), what);
        return env;
    }
}
