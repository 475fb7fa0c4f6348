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

    /// <summary>kv_env_open on path with wl_env_options(): no-sync, a 1 GiB map.</summary>
    public static nint OpenPtr(string path)
    {
        var opts = KvOptions.Bench;
        nint env;
        fixed (byte* p = Encoding.UTF8.GetBytes(path + "\0"))
            Kv.Check(PtrNative.EnvOpen(&env, p, &opts), "kv_env_open");
        return env;
    }

    /// <summary>kvh_env_open, the same options: the handle and marshal ABIs' environment.</summary>
    public static ulong OpenHandle(string path)
    {
        var opts = KvOptions.Bench;
        ulong env;
        fixed (byte* p = Encoding.UTF8.GetBytes(path + "\0"))
            Kv.Check(HandleNative.EnvOpen(&env, p, &opts), "kvh_env_open");
        return env;
    }
}
