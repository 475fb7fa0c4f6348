// Harness.cs — the Mono harness: timing discipline, processes, first calls, JSON.
//
// BenchmarkDotNet does not run on Mono 6.8 here, so its discipline is applied by hand: per benchmark
// and process, calibrate the iteration count until one run takes min_time (Stopwatch), warm up until
// two consecutive runs agree within 2 % (this is also where the JIT compiles the loop and its
// P/Invoke stubs), then time `reps` runs; repeat in several processes per runtime, interleaved, so
// per-process accidents show as spread, not bias. Every loop checks its answers (WrongAnswer fails).
//
//   Bench.exe run OUT_DIR BUILD_DIR [--quick] [--filter REGEX] [--repetitions N] [--smoke]
//   Bench.exe worker RUNTIME BASE DIR TAG MIN_TIME_MS REPS CALIB_REPS WARMUPS SMOKE FILTER SEED
//   Bench.exe first MECHANISM|none     (prints the first and second call's ns)
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace FfiBench
{
    static class Harness
    {
        const double WarmTolerance = 0.02;

        // Every benchmark of a runtime: (mechanism, method, name, param, ops).
        static IEnumerable<Tuple<string, string, string, int, int>> Plan(string rt)
        {
            yield return Tuple.Create("control", "loop", rt + "/control/loop", 0, 1);
            foreach (var m in Mechanism.Names)
            {
                string p = rt + "/" + m + "/";
                yield return Tuple.Create(m, "noop", p + "noop", 0, 1);
                yield return Tuple.Create(m, "add", p + "add/mode:latency", 0, 1);
                yield return Tuple.Create(m, "get", p + "get/mode:latency", 0, 1);
                yield return Tuple.Create(m, "put", p + "put/commit_every:" + Data.PutEvery, 0, 1);
                foreach (int n in Data.BytesSizes) yield return Tuple.Create(m, "get_bytes", p + "get/bytes:" + n, n, 1);
                yield return Tuple.Create(m, "scan", p + "scan/dir:upcall", 0, Data.ScanRecords);
                foreach (int n in Data.BatchNs) yield return Tuple.Create(m, "batch", p + "batch/n:" + n, n, n);
            }
        }

        // ---- worker: one measuring process -----------------------------------------------------
        static void ControlLoop(long n)
        {
            for (long i = 0; i < n; i++) { } // Mono's JIT and AOT compilers keep empty loops (no LLVM)
        }

        static long Timed(Action<long> fn, long n, out long cpuNs)
        {
            var proc = Process.GetCurrentProcess();
            TimeSpan c0 = proc.TotalProcessorTime;
            long t0 = Stopwatch.GetTimestamp();
            fn(n);
            long t1 = Stopwatch.GetTimestamp();
            proc.Refresh();
            cpuNs = (long)((proc.TotalProcessorTime - c0).Ticks * 100);
            return (long)((t1 - t0) * (1e9 / Stopwatch.Frequency));
        }

        static int Worker(string[] a)
        {
            string rt = a[1], basePath = a[2], dir = a[3], tag = a[4];
            double minNs = double.Parse(a[5], CultureInfo.InvariantCulture) * 1e6;
            int reps = int.Parse(a[6]), calibReps = int.Parse(a[7]), warmups = int.Parse(a[8]);
            bool smoke = a[9] == "1";
            var filter = new Regex(a[10]);
            var plan = Plan(rt).Where(b => filter.IsMatch(b.Item3)).ToList();
            var rng = new Random(int.Parse(a[11]));
            plan = plan.OrderBy(_ => rng.Next()).ToList(); // each process its own order
            var opened = new Dictionary<string, Mechanism>();
            try
            {
                foreach (var b in plan)
                {
                    Mechanism m = null;
                    Action<long> fn;
                    if (b.Item1 == "control") fn = ControlLoop;
                    else
                    {
                        if (!opened.TryGetValue(b.Item1, out m))
                        {
                            string path = Path.Combine(dir, tag + "-" + b.Item1 + ".kv");
                            File.Delete(path + "-lock");
                            File.Copy(basePath, path, true);
                            opened[b.Item1] = m = Mechanism.Open(b.Item1, path);
                        }
                        m.Setup(b.Item2);
                        var mm = m;
                        fn = n => mm.Run(b.Item2, n, b.Item4);
                    }
                    try
                    {
                        Measure(b.Item3, b.Item5, fn, smoke, minNs, b.Item2 == "noop" || b.Item2 == "add" || b.Item2 == "loop" ? calibReps : reps, warmups);
                    }
                    finally
                    {
                        if (m != null) m.Teardown();
                    }
                }
            }
            finally
            {
                foreach (var kv in opened)
                {
                    kv.Value.Close();
                    File.Delete(Path.Combine(dir, tag + "-" + kv.Key + ".kv"));
                    File.Delete(Path.Combine(dir, tag + "-" + kv.Key + ".kv-lock"));
                }
            }
            return 0;
        }

        static void Measure(string name, int ops, Action<long> fn, bool smoke, double minNs, int reps, int warmups)
        {
            long cpu, n = 1, t;
            if (smoke)
            {
                t = Timed(fn, 1, out cpu);
                Console.WriteLine(Row(name, ops, 1, t, cpu));
                return;
            }
            while ((t = Timed(fn, n, out cpu)) < minNs) // calibrate
                n = Math.Min(n * 100, Math.Max(n * 2, (long)(n * minNs / Math.Max(t, 1) * 1.05)));
            double prev = (double)t / n;
            for (int w = 0; w < warmups; w++) // warm up until two runs agree
            {
                double cur = (double)Timed(fn, n, out cpu) / n;
                if (Math.Abs(cur - prev) <= WarmTolerance * prev) break;
                prev = cur;
            }
            for (int r = 0; r < reps; r++)
            {
                t = Timed(fn, n, out cpu);
                Console.WriteLine(Row(name, ops, n, t, cpu));
            }
        }

        static string Row(string name, int ops, long n, long t, long cpu) =>
            string.Join("\t", name, ops, n, t, cpu);

        // ---- first call in a fresh process ------------------------------------------------------------
        static unsafe int First(string mech)
        {
            long t0 = Stopwatch.GetTimestamp();
            int first = 0, second = 0, want = 5;
            long t1 = t0, t2 = t0;
            switch (mech)
            {
                case "none": want = 0; break; // the runtime alone: the control of the process times
                case "dllimport":
                    first = Native.kv_add(2, 3); t1 = Stopwatch.GetTimestamp();
                    second = Native.kv_add(2, 3); t2 = Stopwatch.GetTimestamp();
                    break;
                case "handle": // KVH_NULL: the call crosses, validates and answers KV_E_BAD_HANDLE
                    int sum;
                    want = -16;
                    first = Handles.kvh_add(0, 2, 3, &sum); t1 = Stopwatch.GetTimestamp();
                    second = Handles.kvh_add(0, 2, 3, &sum); t2 = Stopwatch.GetTimestamp();
                    break;
                case "marshal":
                    byte* rq = stackalloc byte[10];
                    byte* rs = stackalloc byte[8];
                    UIntPtr len;
                    // ADD 2 3, written here byte by byte: touching Data would run its static
                    // constructor (the key tables) inside the timed call.
                    for (int b = 0; b < 10; b++) rq[b] = 0;
                    rq[0] = 1; rq[1] = 1; rq[2] = 2; rq[6] = 3;
                    first = Wire.kvm_call(rq, (UIntPtr)10, rs, (UIntPtr)8, &len) == 0 ? rs[4] : -1;
                    t1 = Stopwatch.GetTimestamp();
                    second = Wire.kvm_call(rq, (UIntPtr)10, rs, (UIntPtr)8, &len) == 0 ? rs[4] : -1;
                    t2 = Stopwatch.GetTimestamp();
                    break;
                default: throw new ArgumentException(mech);
            }
            if (first != want || second != want) { Console.Error.WriteLine("first_call " + mech + ": got " + first + ", " + second); return 1; }
            double ns = 1e9 / Stopwatch.Frequency;
            Console.WriteLine((long)((t1 - t0) * ns) + " " + (long)((t2 - t1) * ns));
            return 0;
        }

        // ---- driver -----------------------------------------------------------------------------
        static readonly string[] Runtimes = { "mono-jit", "mono-aot", "mono-fullaot" };
        static readonly string[] FirstMechs = { "dllimport", "handle", "marshal" };

        // The command that runs Bench.exe under one runtime, and its environment.
        static ProcessStartInfo Start(string build, string rt, string args)
        {
            string sub = rt.Substring(5); // jit, aot, fullaot
            var psi = new ProcessStartInfo("mono", (rt == "mono-fullaot" ? "--full-aot " : "") +
                                           Path.Combine(build, sub, "Bench.exe") + " " + args)
            { UseShellExecute = false, RedirectStandardOutput = true };
            if (rt == "mono-fullaot") psi.EnvironmentVariables["MONO_PATH"] = Path.Combine(build, sub); // the AOT-compiled mscorlib/System
            return psi;
        }

        static string Exec(ProcessStartInfo psi, string rawFile)
        {
            using (var p = Process.Start(psi))
            {
                string output = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                if (rawFile != null) File.WriteAllText(rawFile, output);
                if (p.ExitCode != 0) throw new Exception(psi.FileName + " " + psi.Arguments + ": exit " + p.ExitCode);
                return output;
            }
        }

        static int Run(string[] a)
        {
            string outDir = a[1], build = a[2];
            bool quick = a.Contains("--quick"), smoke = a.Contains("--smoke");
            int fi = Array.IndexOf(a, "--filter"), ri = Array.IndexOf(a, "--repetitions");
            string filter = fi > 0 ? a[fi + 1] : "";
            // processes, min time (ms), reps, calibration reps, max warm-ups, first-call rounds, hyperfine runs
            int procs = 3, reps = 3, calibReps = 10, warmups = 6, rounds = 15, hfRuns = 15;
            double minMs = 5;
            if (quick) { procs = 2; reps = 3; calibReps = 4; warmups = 2; rounds = 3; hfRuns = 0; minMs = 1; }
            if (smoke) { procs = 1; reps = calibReps = 1; warmups = 0; rounds = 1; hfRuns = 0; minMs = 0; }
            if (ri > 0) reps = calibReps = int.Parse(a[ri + 1]);
            string raw = Path.Combine(outDir, "mono");
            string data = Path.Combine(Environment.GetEnvironmentVariable("FFIBENCH_DATA") ?? Path.GetTempPath(), "mono");
            Directory.CreateDirectory(raw);
            Directory.CreateDirectory(data);
            string basePath = Path.Combine(data, "base.kv");
            var clock = Stopwatch.StartNew();
            Data.Create(basePath);

            var rx = new Regex(filter);
            var samples = Runtimes.ToDictionary(r => r, r => new Dictionary<string, List<double[]>>());
            var ops = new Dictionary<string, int>();
            var rng = new Random(20261125);
            for (int p = 0; p < procs; p++)
                foreach (var rt in Runtimes.OrderBy(_ => rng.Next())) // interleaved: drift hits all alike
                {
                    if (!Plan(rt).Any(b => rx.IsMatch(b.Item3))) continue;
                    string args = string.Join(" ", "worker", rt, basePath, data, "w" + p, minMs.ToString(CultureInfo.InvariantCulture),
                                              reps, calibReps, warmups, smoke ? "1" : "0", "'" + filter + "'", 7 * p + 1);
                    var psi = Start(build, rt, args.Replace("'", "\""));
                    foreach (var line in Exec(psi, Path.Combine(raw, rt + "-worker-" + p + ".tsv")).Split('\n').Where(l => l.Length > 0))
                    {
                        var f = line.Split('\t');
                        if (!samples[rt].ContainsKey(f[0])) samples[rt][f[0]] = new List<double[]>();
                        samples[rt][f[0]].Add(new[] { double.Parse(f[2]), double.Parse(f[3]), double.Parse(f[4]) });
                        ops[f[0]] = int.Parse(f[1]);
                    }
                }

            // First calls, interleaved and shuffled per round; hyperfine over whole processes.
            var first = Runtimes.ToDictionary(r => r, r => new Dictionary<string, List<long[]>>());
            var firstRaw = new StringBuilder();
            for (int round = 0; round < rounds; round++)
                foreach (var pair in (from rt in Runtimes from m in FirstMechs select Tuple.Create(rt, m)).OrderBy(_ => rng.Next()))
                {
                    string name = pair.Item1 + "/" + pair.Item2 + "/first_call";
                    if (!rx.IsMatch(name)) continue;
                    var f = Exec(Start(build, pair.Item1, "first " + pair.Item2), null).Trim().Split(' ');
                    firstRaw.AppendLine(name + " " + f[0] + " " + f[1]);
                    if (!first[pair.Item1].ContainsKey(pair.Item2)) first[pair.Item1][pair.Item2] = new List<long[]>();
                    first[pair.Item1][pair.Item2].Add(new[] { long.Parse(f[0]), long.Parse(f[1]) });
                }
            File.WriteAllText(Path.Combine(raw, "first_call.txt"), firstRaw.ToString());
            if (hfRuns > 0) Hyperfine(build, raw, hfRuns, rx);

            string version = Exec(new ProcessStartInfo("mono", "--version") { UseShellExecute = false, RedirectStandardOutput = true }, null).Split('\n')[0];
            foreach (var rt in Runtimes)
            {
                var json = new StringBuilder();
                json.Append("{\n  \"context\": {\n");
                var ctx = Context(rt, version, procs, reps, calibReps, minMs, warmups, rounds, quick ? "quick" : smoke ? "smoke" : "full", filter);
                json.Append(string.Join(",\n", ctx.Select(kv => "    " + Str(kv.Key) + ": " + Str(kv.Value))));
                json.Append("\n  },\n  \"benchmarks\": [\n");
                var entries = new List<string>();
                var ordered = Plan(rt).Where(b => samples[rt].ContainsKey(b.Item3)).Select(b => new KeyValuePair<string, List<double[]>>(b.Item3, samples[rt][b.Item3])).ToList();
                foreach (var kv in ordered)
                    for (int i = 0; i < kv.Value.Count; i++)
                        entries.Add(Entry(kv.Key, i, kv.Value.Count, (long)kv.Value[i][0], kv.Value[i][1], kv.Value[i][2], ops[kv.Key]));
                foreach (var kv in first[rt])
                {
                    string name = rt + "/" + kv.Key + "/first_call";
                    for (int i = 0; i < kv.Value.Count; i++)
                    {
                        entries.Add(Entry(name, i, kv.Value.Count, 1, kv.Value[i][0], kv.Value[i][0], 1));
                        entries.Add(Entry(name + "/call:second", i, kv.Value.Count, 1, kv.Value[i][1], kv.Value[i][1], 1));
                    }
                }
                json.Append(string.Join(",\n", entries)).Append("\n  ]\n}\n");
                if (entries.Count > 0) File.WriteAllText(Path.Combine(outDir, rt + ".json"), json.ToString());
                foreach (var kv in ordered)
                {
                    var xs = kv.Value.Select(s => s[1] / s[0] / ops[kv.Key]).OrderBy(x => x).ToList();
                    var ci = MedianCi(xs);
                    Console.WriteLine("{0,-58} {1,12:F2} ns  [{2:F2}, {3:F2}]  n={4}", kv.Key, Median(xs), ci.Item1, ci.Item2, xs.Count);
                }
            }
            Console.WriteLine("mono: done in {0:F0} s -> {1}/mono-*.json", clock.Elapsed.TotalSeconds, outDir);
            return 0;
        }

        static void Hyperfine(string build, string raw, int runs, Regex rx)
        {
            var args = new StringBuilder("-N --warmup 2 --style none --runs " + runs + " --export-json " + Path.Combine(raw, "hyperfine.json"));
            foreach (var rt in Runtimes)
                foreach (var m in new[] { "none" }.Concat(FirstMechs))
                {
                    string name = rt + "/" + (m == "none" ? "control" : m) + "/process";
                    if (!rx.IsMatch(name)) continue;
                    var psi = Start(build, rt, "first " + m);
                    // hyperfine -N runs commands without a shell: pass MONO_PATH through env(1).
                    string cmd = (rt == "mono-fullaot" ? "env MONO_PATH=" + Path.Combine(build, "fullaot") + " " : "") + "mono " + psi.Arguments;
                    args.Append(" -n " + name + " \"" + cmd + "\"");
                }
            if (!args.ToString().Contains(" -n ")) return; // the filter left no process to time
            try
            {
                Exec(new ProcessStartInfo("hyperfine", args.ToString()) { UseShellExecute = false, RedirectStandardOutput = true }, null);
            }
            catch (System.ComponentModel.Win32Exception)
            {
                Console.Error.WriteLine("mono: hyperfine not installed; whole-process times skipped");
            }
        }

        static Dictionary<string, string> Context(string rt, string version, int procs, int reps, int calibReps, double minMs,
                                                  int warmups, int rounds, string mode, string filter)
        {
            string flags = rt == "mono-jit" ? "mono Bench.exe (mcs -optimize+ -unsafe)"
                         : rt == "mono-aot" ? "mono --aot Bench.exe (Bench.exe.so beside it); the class libraries and anything AOT left out are JIT-compiled"
                         : "mono --aot=full of Bench.exe, mscorlib.dll, System.dll, System.Core.dll in the build folder; run with mono --full-aot, MONO_PATH=<build>/fullaot";
            return new Dictionary<string, string>
            {
                ["date"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
                ["host_name"] = Environment.MachineName,
                ["num_cpus"] = Environment.ProcessorCount.ToString(),
                ["ffibench.runtime"] = rt,
                ["ffibench.runtime_name"] = "Mono (Debian's mono-runtime)",
                ["ffibench.runtime_version"] = version,
                ["ffibench.runtime_flags"] = flags,
                ["ffibench.runtime_mode"] = rt == "mono-jit" ? "jit" : rt == "mono-aot" ? "aot (with JIT fallback)" : "full-aot (no JIT)",
                ["ffibench.harness"] = "by hand, BenchmarkDotNet's discipline: " + procs + " processes per runtime (interleaved), " + reps +
                                       " repetitions each (" + calibReps + " for noop/add/loop), runs of >= " + minMs + " ms after calibration, up to " +
                                       warmups + " warm-ups until two agree within 2 %; Stopwatch",
                ["ffibench.mode"] = mode,
                ["ffibench.filter"] = filter,
                ["ffibench.first_call"] = rounds + " fresh processes per mechanism, interleaved; DllImport resolves (dlopen + dlsym) inside the first call",
                ["ffibench.durability"] = "nosync (KV_DURABLE_NOSYNC) for every write",
                ["ffibench.time_field"] = "real_time (per iteration; divide by ops)",
                ["ffibench.kv_library"] = Environment.GetEnvironmentVariable("KV_LIBRARY") ?? "",
            };
        }

        static string Entry(string name, int i, int count, long iters, double realNs, double cpuNs, int ops)
        {
            var c = CultureInfo.InvariantCulture;
            return "    {" + string.Format(c, "\"name\": {0}, \"run_name\": {0}, \"run_type\": \"iteration\", \"repetitions\": {1}, " +
                "\"repetition_index\": {2}, \"threads\": 1, \"iterations\": {3}, \"real_time\": {4:R}, \"cpu_time\": {5:R}, \"time_unit\": \"ns\"" +
                (ops != 1 ? ", \"ops\": {6}.0" : ""), Str(name), count, i, iters, realNs / iters, cpuNs / iters, ops) + "}";
        }

        static string Str(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

        static double Median(List<double> s) => s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;

        // scripts/lib/results.py median_ci: order statistics j and n-1-j from binomial(n, 1/2).
        static Tuple<double, double> MedianCi(List<double> s)
        {
            int n = s.Count, best = -1;
            for (int j = 0; j <= n / 2; j++)
            {
                double cover = 0, c = 1; // C(n, i) / 2^n summed over j < i < n-1-j+1
                for (int i = 0; i <= n; i++) { if (i > j && i < n - j) cover += c; c = c * (n - i) / (i + 1); }
                if (cover / Math.Pow(2, n) >= 0.95) best = j; else break;
            }
            return best < 0 || n < 2 ? Tuple.Create(double.NaN, double.NaN) : Tuple.Create(s[best], s[n - 1 - best]);
        }

        static int Main(string[] a)
        {
            try
            {
                switch (a.Length > 0 ? a[0] : "")
                {
                    case "run": return Run(a);
                    case "worker": return Worker(a);
                    case "first": return First(a[1]);
                    default: Console.Error.WriteLine("usage: Bench.exe run|worker|first ..."); return 2;
                }
            }
            catch (WrongAnswer e)
            {
                Console.Error.WriteLine("mono: wrong answer: " + e.Message);
                return 1;
            }
        }
    }
}
