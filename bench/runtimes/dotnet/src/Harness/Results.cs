// Results.cs — measurements into google-benchmark's JSON schema (bench/runtimes/README.md).
//
// Each process writes a fragment: its context and one entry per measured iteration (real_time in ns
// per workload iteration, `iterations` = workload iterations timed, `ops` = engine operations per
// iteration). `merge` joins the fragments of every process and runtime, and the first-call rows, into
// OUT_DIR/dotnet.json, numbering the repetitions of each name across processes. Utf8JsonWriter and
// JsonDocument only: no reflection, so the NativeAOT builds use the same code.
using System.Globalization;
using System.Text.Json;

namespace FfiBench.Harness;

/// <summary>One timed measurement: `iterations` workload iterations took `ns` nanoseconds of wall-clock
/// time and `cpuNs` of the measuring thread's CPU time (NaN when the harness cannot tell).</summary>
internal readonly record struct Measurement(string Name, long Iterations, double Ns, int Ops, double CpuNs = double.NaN);

internal static class Results
{
    public static void WriteFragment(string path, IReadOnlyDictionary<string, string> context, IEnumerable<Measurement> ms)
    {
        using var f = File.Create(path);
        using var w = new Utf8JsonWriter(f, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteStartObject("context");
        foreach (var (k, v) in context) w.WriteString(k, v);
        w.WriteEndObject();
        w.WriteStartArray("benchmarks");
        foreach (var m in ms)
        {
            w.WriteStartObject();
            w.WriteString("name", m.Name);
            w.WriteNumber("iterations", m.Iterations);
            w.WriteNumber("real_time", m.Ns / m.Iterations);
            w.WriteNumber("cpu_time", double.IsNaN(m.CpuNs) ? m.Ns / m.Iterations : m.CpuNs / m.Iterations);
            w.WriteNumber("ops", m.Ops);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Joins fragments and first-call rows (lines "name ns") into one google-benchmark file.</summary>
    public static void Merge(string outPath, IEnumerable<string> fragments, string? firstCallRows, IReadOnlyDictionary<string, string> extraContext)
    {
        var context = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var rows = new List<(string Name, long Iterations, double RealTime, double CpuTime, double Ops)>();
        foreach (var path in fragments)
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            foreach (var p in doc.RootElement.GetProperty("context").EnumerateObject()) context[p.Name] = p.Value.GetString() ?? "";
            foreach (var b in doc.RootElement.GetProperty("benchmarks").EnumerateArray())
                rows.Add((b.GetProperty("name").GetString()!, b.GetProperty("iterations").GetInt64(),
                          b.GetProperty("real_time").GetDouble(), b.GetProperty("cpu_time").GetDouble(), b.GetProperty("ops").GetDouble()));
        }
        if (firstCallRows is not null && File.Exists(firstCallRows))
        {
            foreach (var line in File.ReadLines(firstCallRows))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length != 2) continue;
                double ns = double.Parse(parts[1], CultureInfo.InvariantCulture);
                rows.Add((parts[0], 1, ns, ns, 1));
            }
        }
        foreach (var (k, v) in extraContext) context[k] = v;

        // Group by name in order of first appearance; number repetitions across processes.
        var order = new List<string>();
        var byName = new Dictionary<string, List<(string Name, long Iterations, double RealTime, double CpuTime, double Ops)>>();
        foreach (var r in rows)
        {
            if (!byName.TryGetValue(r.Name, out var list)) byName[r.Name] = list = [];
            if (list.Count == 0) order.Add(r.Name);
            list.Add(r);
        }

        using var f = File.Create(outPath);
        using var w = new Utf8JsonWriter(f, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteStartObject("context");
        w.WriteString("date", DateTimeOffset.Now.ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture));
        w.WriteString("host_name", Environment.MachineName);
        w.WriteNumber("num_cpus", Environment.ProcessorCount);
        foreach (var (k, v) in context) w.WriteString(k, v);
        w.WriteEndObject();
        w.WriteStartArray("benchmarks");
        foreach (var name in order)
        {
            var list = byName[name];
            for (int i = 0; i < list.Count; i++)
            {
                var r = list[i];
                w.WriteStartObject();
                w.WriteString("name", name);
                w.WriteString("run_name", name);
                w.WriteString("run_type", "iteration");
                w.WriteNumber("repetitions", list.Count);
                w.WriteNumber("repetition_index", i);
                w.WriteNumber("threads", 1);
                w.WriteNumber("iterations", r.Iterations);
                w.WriteNumber("real_time", r.RealTime);
                w.WriteNumber("cpu_time", r.CpuTime);
                w.WriteString("time_unit", "ns");
                w.WriteNumber("ops", r.Ops);
                w.WriteEndObject();
            }
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
