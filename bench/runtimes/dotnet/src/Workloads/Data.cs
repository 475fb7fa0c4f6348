// Data.cs — the data folder ($FFIBENCH_DATA, bench/dataset.h) as the workloads use it.
//
// Nothing here derives the data: the workload vocabulary (parameter values, records per scan, the
// commit interval, key and value lengths) comes from the folder's manifest.txt, the tables from its
// files. The worker proves what it loaded by the checksum it answers to `data`.
using System.Buffers.Binary;
using System.Text;

namespace FfiBench.Workloads;

/// <summary>manifest.txt: one fact per line, tab-separated; `workload` lines are the C workload table.</summary>
internal static class Manifest
{
    public static readonly string Folder = Environment.GetEnvironmentVariable("FFIBENCH_DATA") is { Length: > 0 } d
        ? d : throw new InvalidOperationException("FFIBENCH_DATA is not set (bench/runtimes/README.md)");

    static readonly Dictionary<string, string[]> Facts = [];
    /// <summary>name -> (parameter name or "-", values, operations per iteration: a number or the parameter).</summary>
    static readonly Dictionary<string, (string Param, string Values, string Ops)> Table = [];

    public static readonly int KeyLen, ValLen, ScanRecords, PutEvery;

    static Manifest()
    {
        foreach (var line in File.ReadLines(Path.Combine(Folder, "manifest.txt")))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var f = line.Split('\t');
            if (f[0] == "workload" && f.Length == 5) Table[f[1]] = (f[2], f[3], f[4]);
            else Facts[f[0]] = f[1..];
        }
        KeyLen = int.Parse(Fact("keys", 2));
        ValLen = int.Parse(Fact("value_length", 0));
        ScanRecords = int.Parse(Workload("scan/dir:upcall").Ops);
        PutEvery = Values("put").Single();
    }

    public static string BasePath => Path.Combine(Folder, "base.kv");

    public static string Fact(string name, int field) =>
        Facts.TryGetValue(name, out var f) && field < f.Length ? f[field]
            : throw new InvalidDataException($"{Folder}/manifest.txt has no '{name}' fact with {field + 1} fields");

    static (string Param, string Values, string Ops) Workload(string name) =>
        Table.TryGetValue(name, out var w) ? w : throw new InvalidDataException($"{Folder}/manifest.txt has no workload '{name}'");

    /// <summary>The values of a workload's parameter (get: the bytes sizes; batch: n).</summary>
    public static int[] Values(string workload) => Workload(workload).Values.Split(',').Select(int.Parse).ToArray();

    /// <summary>The workload part of a benchmark name: "noop", "get/bytes:64", "put/commit_every:100".</summary>
    public static string Name(string workload, int value)
    {
        var w = Workload(workload);
        return w.Param == "-" ? workload : $"{workload}/{w.Param}:{value}";
    }

    /// <summary>Engine operations per iteration: the manifest's number, or the parameter's value.</summary>
    public static int Ops(string workload, int value)
    {
        var w = Workload(workload);
        return w.Ops == w.Param ? value : int.Parse(w.Ops);
    }

    /// <summary>The key of the bytes record of n bytes ("bytes:%u").</summary>
    public static byte[] BytesKey(int n) => Encoding.ASCII.GetBytes(Fact("bytes_key", 0).Replace("%u", n.ToString()));

    public static uint U32(byte[] b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at));
}

/// <summary>The tables: keys.bin, order.u32, miss.bin, put.bin (loaded on first use).</summary>
internal static class Tables
{
    public static readonly byte[][] Key = Rows("keys");
    /// <summary>A random permutation of the key indices: the batch order.</summary>
    public static readonly uint[] Order = LoadOrder();
    public static readonly byte[][] Miss = Rows("miss");
    public static readonly byte[][] PutKey = Rows("put_keys");

    static byte[] Read(string table, out int rows, out int width)
    {
        rows = int.Parse(Manifest.Fact(table, 1));
        width = int.Parse(Manifest.Fact(table, 2));
        var path = Path.Combine(Manifest.Folder, Manifest.Fact(table, 0));
        var blob = File.ReadAllBytes(path);
        if (blob.Length != (long)rows * width)
            throw new InvalidDataException($"{path}: {blob.Length} bytes, the manifest says {rows} x {width}");
        return blob;
    }

    static byte[][] Rows(string table)
    {
        var blob = Read(table, out int rows, out int width);
        var out_ = new byte[rows][];
        for (int i = 0; i < rows; i++) out_[i] = blob.AsSpan(i * width, width).ToArray();
        return out_;
    }

    static uint[] LoadOrder()
    {
        var blob = Read("order", out int rows, out int width);
        if (width != 4 || rows != Key.Length) throw new InvalidDataException("order.u32 does not hold one u32 per key");
        var order = new uint[rows];
        for (int i = 0; i < rows; i++) order[i] = BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(4 * i));
        return order;
    }

    /// <summary>FNV-1a 64 over keys, order (re-encoded as u32 little-endian), miss and put keys, as loaded.</summary>
    public static string Checksum()
    {
        ulong h = 0xcbf29ce484222325;
        void Add(ReadOnlySpan<byte> bytes)
        {
            foreach (byte b in bytes) h = (h ^ b) * 0x100000001b3;
        }
        foreach (var k in Key) Add(k);
        Span<byte> u32 = stackalloc byte[4];
        foreach (uint o in Order)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(u32, o);
            Add(u32);
        }
        foreach (var k in Miss) Add(k);
        foreach (var k in PutKey) Add(k);
        return $"fnv1a64:{h:x16}";
    }
}
