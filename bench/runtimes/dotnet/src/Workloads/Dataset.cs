// Dataset.cs — the data set of bench/workloads.c, rebuilt bit for bit: the same keys, the same
// random cycle (splitmix64 with the same seed, the same draws in the same order), the same values.
using System.Buffers.Binary;
using System.Text;
using FfiBench.Interop;

namespace FfiBench.Workloads;

internal static unsafe class Dataset
{
    public const int Keys = 100_000, KeyLen = 16, ValLen = 64, ScanRecords = 1024;
    const int MissKeys = 4096, PutKeys = 10_000;
    public static readonly int[] BytesSizes = [8, 64, 512, 4096, 32768, 262144, 1048576];

    /// <summary>"key:NNNNNNNNNNNN", i = 0..Keys-1.</summary>
    public static readonly byte[][] Key = new byte[Keys][];
    /// <summary>"put:NNNNNNNNNNNN": the keys the put workload writes.</summary>
    public static readonly byte[][] PutKey = new byte[PutKeys][];
    /// <summary>One random cycle through every key: value i's bytes 0..3.</summary>
    public static readonly uint[] Next = new uint[Keys];
    /// <summary>A random permutation (the batch workload's key order).</summary>
    public static readonly uint[] Order = new uint[Keys];

    static Dataset()
    {
        ulong s = 20261125;
        for (uint i = 0; i < Keys; i++)
        {
            Key[i] = MakeKey("key:", i);
            Order[i] = i;
        }
        for (int i = 0; i < MissKeys; i++) Rand(ref s); // workloads.c draws its miss keys here
        for (uint i = 0; i < PutKeys; i++) PutKey[i] = MakeKey("put:", i);
        var perm = new uint[Keys];
        for (uint i = 0; i < Keys; i++) perm[i] = i;
        for (uint i = Keys - 1; i > 0; i--) // Sattolo: a permutation that is a single cycle
        {
            uint j = (uint)(Rand(ref s) % i);
            (perm[i], perm[j]) = (perm[j], perm[i]);
        }
        perm.CopyTo(Next, 0);
        for (uint i = Keys - 1; i > 0; i--) // Fisher-Yates
        {
            uint j = (uint)(Rand(ref s) % (i + 1));
            (Order[i], Order[j]) = (Order[j], Order[i]);
        }
    }

    static ulong Rand(ref ulong s) // splitmix64
    {
        ulong z = s += 0x9e3779b97f4a7c15UL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
        return z ^ (z >> 31);
    }

    static byte[] MakeKey(string prefix, uint i) => Encoding.ASCII.GetBytes($"{prefix}{i:D12}");

    public static byte[] BytesKey(int n) => Encoding.ASCII.GetBytes($"bytes:{n}");

    public static uint U32(byte[] b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at));

    static void Value(Span<byte> v, uint i)
    {
        for (int b = 8; b < ValLen; b++) v[b] = (byte)(i * 31u + (uint)b);
        BinaryPrimitives.WriteUInt32LittleEndian(v, Next[i]);
        BinaryPrimitives.WriteUInt32LittleEndian(v[4..], i);
    }

    /// <summary>wl_dataset_create: every key, then one "bytes:N" record per size, in one write
    /// transaction through the pointer API.</summary>
    public static void Create(string path)
    {
        File.Delete(path);
        File.Delete(path + "-lock");
        var opts = KvOptions.Bench;
        nint env, txn;
        fixed (byte* p = Encoding.UTF8.GetBytes(path + "\0"))
            Kv.Check(PtrNative.EnvOpen(&env, p, &opts), "kv_env_open");
        Kv.Check(PtrNative.TxnBegin(&txn, env, Kv.TxnWrite), "kv_txn_begin");
        byte* v = stackalloc byte[ValLen];
        for (uint i = 0; i < Keys; i++)
        {
            Value(new Span<byte>(v, ValLen), i);
            fixed (byte* k = Key[i])
                Kv.Check(PtrNative.Put(txn, k, KeyLen, v, ValLen), "kv_put");
        }
        for (int i = 0; i < BytesSizes.Length; i++)
        {
            var big = new byte[BytesSizes[i]];
            big.AsSpan().Fill((byte)(i + 1));
            var key = BytesKey(BytesSizes[i]);
            fixed (byte* k = key, b = big)
                Kv.Check(PtrNative.Put(txn, k, (nuint)key.Length, b, (nuint)big.Length), "kv_put");
        }
        Kv.Check(PtrNative.TxnCommit(txn), "kv_txn_commit");
        Kv.Check(PtrNative.TxnFree(txn), "kv_txn_free");
        Kv.Check(PtrNative.EnvClose(env), "kv_env_close");
    }
}
