// Stores.cs — the process's two open copies of the data set: one through the pointer API (kv_env*),
// one through the handle ABI (kvh handle, which the marshal ABI shares). LMDB allows one open per file
// per process, so each ABI gets its own copy, as each C shim does.
using System.Text;

namespace FfiBench.Interop;

internal static unsafe class Stores
{
    public static nint PtrEnv;
    public static ulong HandleEnv;
    public static KvEnvSafeHandle PtrEnvSafe = null!;
    public static KvHandle HandleEnvSafe = null!;

    /// <summary>Copies the data set at basePath to dir/tag-{ptr,handle}.kv and opens both.</summary>
    public static void Open(string basePath, string dir, string tag)
    {
        var opts = KvOptions.Bench;
        fixed (byte* p = Copy(basePath, Path.Combine(dir, $"{tag}-ptr.kv")))
        fixed (nint* env = &PtrEnv)
            Kv.Check(PtrNative.EnvOpen(env, p, &opts), "kv_env_open");
        fixed (byte* p = Copy(basePath, Path.Combine(dir, $"{tag}-handle.kv")))
        fixed (ulong* env = &HandleEnv)
            Kv.Check(HandleNative.EnvOpen(env, p, &opts), "kvh_env_open");
        PtrEnvSafe = new KvEnvSafeHandle(PtrEnv);
        HandleEnvSafe = new KvHandle(HandleEnv, owns: false);
    }

    public static void Close()
    {
        Kv.Check(PtrNative.EnvClose(PtrEnv), "kv_env_close");
        Kv.Check(HandleNative.EnvClose(HandleEnv), "kvh_env_close");
        PtrEnv = 0;
        HandleEnv = 0;
    }

    /// <summary>A fresh copy (and no stale lock file); returns the NUL-terminated UTF-8 path.</summary>
    static byte[] Copy(string from, string to)
    {
        File.Delete(to + "-lock");
        File.Copy(from, to, overwrite: true);
        return Encoding.UTF8.GetBytes(to + "\0");
    }
}
