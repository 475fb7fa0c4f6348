// Worker.cs — the Mono runtimes' worker (bench/runtimes/README.md is the protocol).
//
//   Bench.exe worker                     answers the driver's requests on stdin/stdout
//   Bench.exe worker first-call MECH     prints "LOAD FIRST SECOND" (ns) and exits; MECH none: nothing
//
// It holds no measurement method: the driver says how many iterations and repeats; this runs the
// mechanisms' loops (Workloads.cs), reads the clocks immediately around each run, and reports.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace FfiBench
{
    /// clock_gettime through libc: Mono's Stopwatch ticks in 100 ns, too coarse for a first call.
    static unsafe class Clock
    {
        const int MONOTONIC = 1, THREAD_CPUTIME = 3;

        [DllImport("libc")] static extern int clock_gettime(int clock, long* ts); // struct timespec: two longs

        static long Read(int clock)
        {
            long* ts = stackalloc long[2];
            if (clock_gettime(clock, ts) != 0) throw new InvalidOperationException("clock_gettime failed");
            return ts[0] * 1000000000L + ts[1];
        }

        public static long WallNs() => Read(MONOTONIC);
        public static long ThreadCpuNs() => Read(THREAD_CPUTIME);
    }

    /// Which runtime this process is: its name (runtime.toml sets FFIBENCH_MONO_RUNTIME) and the mode
    /// the process really runs in, read from the process itself: full AOT when mono was started with
    /// --full-aot, AOT when Bench.exe's own AOT image (Bench.exe.so) is mapped, JIT otherwise.
    static class Identity
    {
        public static readonly string[] CommandLine = File.ReadAllText("/proc/self/cmdline").TrimEnd('\0').Split('\0');
        public static readonly List<string> AotImages = new List<string>(); // every *.dll.so / *.exe.so mapped
        public static readonly string Mode, Name, Problem;

        static Identity()
        {
            foreach (string line in File.ReadAllLines("/proc/self/maps"))
            {
                int at = line.IndexOf('/');
                string path = at < 0 ? "" : line.Substring(at);
                if ((path.EndsWith(".dll.so") || path.EndsWith(".exe.so")) && !AotImages.Contains(path)) AotImages.Add(path);
            }
            string self = Assembly.GetEntryAssembly().Location + ".so";
            Mode = Array.IndexOf(CommandLine, "--full-aot") >= 0 ? "fullaot" : AotImages.Contains(self) ? "aot" : "jit";
            Name = Environment.GetEnvironmentVariable("FFIBENCH_MONO_RUNTIME") ?? "mono-" + Mode;
            if (Name != "mono-" + Mode)
                Problem = Name + " runs as mono-" + Mode + " (" + (Mode == "jit" ? self + " is not loaded" : "started with " + string.Join(" ", CommandLine)) + ")";
        }

        public static string ModeText()
        {
            string images = "AOT images in use: " + (AotImages.Count > 0 ? string.Join(", ", AotImages) : "none");
            switch (Mode)
            {
                case "fullaot": return "full AOT: no JIT; " + images;
                case "aot": return "AOT: Bench.exe.so, with JIT fallback; " + images;
                default: return "JIT: Bench.exe compiled at first call; " + images;
            }
        }

        public static string Flags()
        {
            var f = new StringBuilder();
            foreach (string a in CommandLine) // the runtime's command line, up to the program
            {
                f.Append(f.Length > 0 ? " " : "").Append(a);
                if (a.EndsWith(".exe")) break;
            }
            foreach (string v in new[] { "MONO_PATH", "MONO_ENV_OPTIONS", "MONO_GC_PARAMS" })
                if (Environment.GetEnvironmentVariable(v) != null) f.Append("; ").Append(v).Append('=').Append(Environment.GetEnvironmentVariable(v));
            string built = Path.Combine(Path.GetDirectoryName(Assembly.GetEntryAssembly().Location), "build.txt");
            if (File.Exists(built)) f.Append("; built: ").Append(File.ReadAllText(built).Trim().Replace("\n", "; "));
            return f.ToString();
        }

        public static string Version()
        {
            var t = Type.GetType("Mono.Runtime");
            var m = t == null ? null : t.GetMethod("GetDisplayName", BindingFlags.NonPublic | BindingFlags.Static);
            return m == null ? Environment.Version.ToString() : (string)m.Invoke(null, null);
        }
    }

    /// One benchmark: its mechanism ("control" for the empty loop), loop and parameter.
    sealed class Bench
    {
        public string Name, Mechanism;
        public Loop Loop;
        public int Param;
        public string Ops;
    }

    sealed class Worker
    {
        // The workloads of manifest.txt this worker runs, by their name there.
        static readonly Dictionary<string, Loop> Loops = new Dictionary<string, Loop>
        {
            ["noop"] = Loop.Noop, ["add/mode:latency"] = Loop.AddLatency, ["add/mode:throughput"] = Loop.AddThroughput,
            ["get/mode:latency"] = Loop.Get, ["put"] = Loop.Put, ["get"] = Loop.GetBytes,
            ["scan/dir:upcall"] = Loop.Scan, ["batch"] = Loop.Batch,
        };
        static readonly Dictionary<Loop, Loop> Isolated = new Dictionary<Loop, Loop>
        {
            [Loop.Noop] = Loop.NoopIsolated, [Loop.AddLatency] = Loop.AddLatencyIsolated, [Loop.AddThroughput] = Loop.AddThroughputIsolated,
        };
        static readonly string[] FirstCallMechanisms = { "dllimport", "handle", "marshal" };

        readonly List<Bench> benches = new List<Bench>();
        readonly Dictionary<string, Bench> byName = new Dictionary<string, Bench>();
        readonly Dictionary<string, Mechanism> opened = new Dictionary<string, Mechanism>();
        Bench current;
        Mechanism currentMech;
        Action<long> loop;

        static string Env(string name)
        {
            string v = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrEmpty(v)) throw new InvalidOperationException(name + " is not set");
            return v;
        }

        void Add(Bench b)
        {
            benches.Add(b);
            byName[b.Name] = b;
        }

        void Plan()
        {
            if (benches.Count > 0) return;
            Data.Load(Env("FFIBENCH_DATA"));
            string rt = Identity.Name;
            Add(new Bench { Name = rt + "/control/loop", Mechanism = "control", Ops = "1" });
            foreach (string m in Mechanism.Names)
                foreach (var w in Data.Workloads)
                {
                    Loop l;
                    if (!Loops.TryGetValue(w.Name, out l)) continue;
                    string name = rt + "/" + m + "/" + w.Name;
                    if (w.Param == "-") Add(new Bench { Name = name, Mechanism = m, Loop = l, Ops = w.Ops });
                    else
                        foreach (int v in w.Values)
                            Add(new Bench { Name = name + "/" + w.Param + ":" + v, Mechanism = m, Loop = l, Param = v,
                                            Ops = w.Ops == w.Param ? v.ToString(CultureInfo.InvariantCulture) : w.Ops });
                    // The call site's shape (README.md): dllimport's noop and add again with the call in
                    // a method of its own, called once per iteration.
                    Loop iso;
                    if (m == "dllimport" && Isolated.TryGetValue(l, out iso))
                        Add(new Bench { Name = name + "/site:isolated", Mechanism = m, Loop = iso, Ops = w.Ops });
                }
        }

        List<string> Hello()
        {
            if (Identity.Problem != null) throw new InvalidOperationException(Identity.Problem);
            return new List<string>
            {
                "context\truntime_name\tMono",
                "context\truntime_version\t" + Identity.Version(),
                "context\truntime_flags\t" + Identity.Flags(),
                "context\truntime_mode\t" + Identity.ModeText(),
                "context\tclock\tclock_gettime(CLOCK_MONOTONIC) and clock_gettime(CLOCK_THREAD_CPUTIME_ID) through a P/Invoke to libc",
                "context\tkv_binding\t[DllImport(\"kv\")], mapped to " + (Environment.GetEnvironmentVariable("KV_LIBRARY") ?? "?") + " by a <dllmap> in Bench.exe.config",
                "protocol\t1",
            };
        }

        List<string> List()
        {
            Plan();
            var out_ = new List<string>();
            foreach (var b in benches) out_.Add("bench\t" + b.Name + "\t" + b.Ops + "\t1");
            foreach (string m in FirstCallMechanisms) out_.Add("first-call\t" + m);
            return out_;
        }

        static void ControlLoop(long n)
        {
            for (long i = 0; i < n; i++) { } // Mono's JIT and AOT compilers keep empty loops (no LLVM)
        }

        // The first run of a benchmark sets it up (untimed): its mechanism's environment on its own
        // copy of base.kv, the workload's transaction and buffers. Another benchmark ends it.
        void Select(string name)
        {
            if (current != null && current.Name == name) return;
            Plan();
            Bench b;
            if (!byName.TryGetValue(name, out b)) throw new ArgumentException("no benchmark " + name);
            End();
            if (b.Mechanism == "control") loop = ControlLoop;
            else
            {
                Mechanism m;
                if (!opened.TryGetValue(b.Mechanism, out m))
                {
                    string path = Path.Combine(Env("FFIBENCH_SCRATCH"), b.Mechanism + ".kv");
                    File.Copy(Path.Combine(Env("FFIBENCH_DATA"), "base.kv"), path, true);
                    opened[b.Mechanism] = m = Mechanism.Open(b.Mechanism, path);
                }
                loop = m.Setup(b.Loop, b.Param);
                currentMech = m;
            }
            current = b;
        }

        void End()
        {
            var m = currentMech;
            current = null;
            currentMech = null;
            loop = null;
            if (m != null) m.Teardown();
        }

        List<string> Run(string name, long iterations, int repeats)
        {
            Select(name);
            var out_ = new List<string>(repeats);
            Action<long> run = loop;
            try
            {
                for (int r = 0; r < repeats; r++)
                {
                    long c0 = Clock.ThreadCpuNs(), t0 = Clock.WallNs();
                    run(iterations);
                    long t1 = Clock.WallNs(), c1 = Clock.ThreadCpuNs();
                    out_.Add("sample\t" + (t1 - t0).ToString(CultureInfo.InvariantCulture) + "\t" + (c1 - c0).ToString(CultureInfo.InvariantCulture));
                }
            }
            catch
            {
                try { End(); } catch (Exception) { } // the next run of it starts afresh
                throw;
            }
            return out_;
        }

        void Close()
        {
            End();
            foreach (var m in opened.Values) m.Close();
        }

        static long Count(string s, long max)
        {
            long v;
            if (!long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v) || v < 1 || v > max)
                throw new FormatException("'" + s + "' is not an integer from 1 to " + max);
            return v;
        }

        List<string> Answer(string line)
        {
            string[] f = line.Split('\t');
            if (f.Length == 1 && f[0] == "hello") return Hello();
            if (f.Length == 1 && f[0] == "list") return List();
            if (f.Length == 1 && f[0] == "data") { Data.Load(Env("FFIBENCH_DATA")); return new List<string> { "checksum\t" + Data.Checksum }; }
            if (f.Length == 4 && f[0] == "run") return Run(f[1], Count(f[2], long.MaxValue), (int)Count(f[3], 1000000));
            throw new FormatException("bad request '" + line + "'");
        }

        public static int Serve()
        {
            // stdout carries the protocol only: everything else written to Console goes to stderr.
            var proto = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { NewLine = "\n", AutoFlush = false };
            Console.SetOut(Console.Error);
            var input = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));
            var w = new Worker();
            string line;
            while ((line = input.ReadLine()) != null && line != "quit")
            {
                try
                {
                    foreach (string l in w.Answer(line)) proto.WriteLine(l);
                    proto.WriteLine("ok");
                }
                catch (Exception e) // every failure is an answer: a wrong answer, an engine error, a bad request
                {
                    string what = e is WrongAnswer ? e.Message : e.GetType().Name + ": " + e.Message;
                    proto.WriteLine("error\t" + what.Replace('\t', ' ').Replace('\r', ' ').Replace('\n', ' '));
                }
                try { proto.Flush(); }
                catch (IOException) { Console.Error.WriteLine("mono: stdout is closed; quitting"); break; }
            }
            try { w.Close(); }
            catch (Exception e) { Console.Error.WriteLine("mono: closing: " + e.Message); }
            return 0;
        }

        static int Main(string[] a)
        {
            if (a.Length == 1 && a[0] == "worker") return Serve();
            if (a.Length == 3 && a[0] == "worker" && a[1] == "first-call") return FirstCall.Run(a[2]);
            Console.Error.WriteLine("usage: Bench.exe worker | Bench.exe worker first-call MECHANISM|none");
            return 2;
        }
    }

    /// A fresh process's first call into libkv, for one mechanism. Mono binds a [DllImport] lazily:
    /// the JIT loads the library and resolves the symbol when it compiles the calling method, AOT code
    /// at the first call. So each call site is a method of its own, compiled (JIT) or first entered
    /// (AOT) after the clock starts: FIRST holds all of it, and LOAD is 0 (nothing comes before the
    /// call). SECOND is the same call from the same call site (the JIT patches each call site at its
    /// first execution, so a second site would pay that again). Nothing of libkv is touched before
    /// the clock starts; the clock's own binding (libc) is.
    static unsafe class FirstCall
    {
        public static int Run(string mech)
        {
            if (mech == "none") return 0; // the whole-process control: the runtime alone
            int which = Array.IndexOf(new[] { "dllimport", "handle", "marshal" }, mech);
            if (which < 0)
            {
                Console.Error.WriteLine("mono: no first-call mechanism " + mech + " (dllimport, handle, marshal, none)");
                return 2;
            }
            int want = which == 1 ? KvAbi.KV_E_BAD_HANDLE : 5; // handle: KVH_NULL is validated and answers KV_E_BAD_HANDLE
            int* got = stackalloc int[2];
            long* t = stackalloc long[3];
            Clock.WallNs();
            t[0] = Clock.WallNs();
            for (int i = 0; i < 2; i++)
            {
                got[i] = which == 0 ? Dllimport() : which == 1 ? Handle() : Marshal();
                t[i + 1] = Clock.WallNs();
            }
            if (got[0] != want || got[1] != want)
            {
                Console.Error.WriteLine("mono: first-call " + mech + ": got " + got[0] + ", " + got[1] + ", want " + want);
                return 1;
            }
            Console.WriteLine("0 " + (t[1] - t[0]).ToString(CultureInfo.InvariantCulture) + " " + (t[2] - t[1]).ToString(CultureInfo.InvariantCulture));
            return 0;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        static int Dllimport() => Native.kv_add(2, 3);

        [MethodImpl(MethodImplOptions.NoInlining)]
        static int Handle()
        {
            int sum;
            return Handles.kvh_add(0, 2, 3, &sum);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        static int Marshal() // ADD 2 3; the answer's u32 at 4
        {
            byte* rq = stackalloc byte[10];
            byte* rs = stackalloc byte[8];
            UIntPtr len;
            rq[0] = 1; rq[1] = 1; rq[2] = 2; rq[6] = 3; // stackalloc is zeroed
            return Wire.kvm_call(rq, (UIntPtr)10, rs, (UIntPtr)8, &len) == 0 ? (int)(rs[4] | rs[5] << 8 | rs[6] << 16 | rs[7] << 24) : -1;
        }
    }
}
