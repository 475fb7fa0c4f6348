// Workloads.cs — the data folder as the loops use it, and each mechanism's workload loops
// (bench/workloads.c in C#).
//
// Data reads $FFIBENCH_DATA (bench/dataset.h): the tables from their files, the workload vocabulary
// (parameter values, records per scan) from manifest.txt. Nothing here derives the data set.
//
// A loop calls the foreign function itself (a wrapper would cost as much as the call measured), so
// the loops are written once per call shape: Direct (dllimport, blittable), MarshaledMech
// (byte[]/string), HandleMech (kv_handle.h) and MarshalMech (kv_marshal.h). Each checks its answers
// as workloads.c does; a wrong one throws WrongAnswer, which the worker answers with `error`.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace FfiBench
{
    sealed class WrongAnswer : Exception
    {
        public WrongAnswer(string what) : base(what) { }
    }

    /// The data folder is not what its manifest says (or not what this worker can use).
    sealed class DataError : Exception
    {
        public DataError(string what) : base(what) { }
    }

    /// One `workload` line of manifest.txt.
    sealed class WorkloadDef
    {
        public string Name, Param; // Param: the parameter's name in benchmark names, or "-"
        public int[] Values;       // the parameter's values (none without a parameter)
        public string Ops;         // engine operations per iteration: a number, or the parameter's name
    }

    static class Data
    {
        public static int Keys, KeyLen, ValLen, PutKeys, ScanRecords;
        public static byte[] KeyBytes, MissBytes, PutKeyBytes; // the tables' rows, packed, as in their files
        public static uint[] Order;                            // the throughput and batch order
        public static byte[] OrderPacked;                      // every key in batch order, + room to wrap
        public static readonly List<WorkloadDef> Workloads = new List<WorkloadDef>();
        public static string Checksum;                         // of the tables as loaded
        static string bytesKey;                                // "bytes:%u"
        static readonly Dictionary<string, string[]> facts = new Dictionary<string, string[]>();

        static string[] Fact(string name)
        {
            string[] f;
            if (!facts.TryGetValue(name, out f)) throw new DataError("manifest.txt has no '" + name + "' line");
            return f;
        }

        static byte[] Table(string dir, string name, out int rows, out int width)
        {
            string[] f = Fact(name); // name, file, rows, bytes per row
            rows = int.Parse(f[2], CultureInfo.InvariantCulture);
            width = int.Parse(f[3], CultureInfo.InvariantCulture);
            byte[] b = File.ReadAllBytes(Path.Combine(dir, f[1]));
            if (b.Length != (long)rows * width)
                throw new DataError(f[1] + ": " + b.Length + " bytes, the manifest says " + rows + " x " + width);
            return b;
        }

        /// Loads dir's manifest and tables (once per process).
        public static void Load(string dir)
        {
            if (Checksum != null) return;
            foreach (string line in File.ReadAllLines(Path.Combine(dir, "manifest.txt")))
            {
                if (line.Length == 0 || line[0] == '#') continue;
                string[] f = line.Split('\t');
                if (f[0] != "workload") { facts[f[0]] = f; continue; }
                if (f.Length != 5) throw new DataError("manifest.txt: bad workload line '" + line + "'");
                Workloads.Add(new WorkloadDef
                {
                    Name = f[1], Param = f[2], Ops = f[4],
                    Values = f[2] == "-" ? new int[0] : Array.ConvertAll(f[3].Split(','), v => int.Parse(v, CultureInfo.InvariantCulture)),
                });
            }
            int rows, width;
            KeyBytes = Table(dir, "keys", out Keys, out KeyLen);
            MissBytes = Table(dir, "miss", out rows, out width);
            if (width != KeyLen) throw new DataError("miss keys are not " + KeyLen + " bytes");
            PutKeyBytes = Table(dir, "put_keys", out PutKeys, out width);
            if (width != KeyLen) throw new DataError("put keys are not " + KeyLen + " bytes");
            byte[] order = Table(dir, "order", out rows, out width);
            if (width != 4 || rows != Keys) throw new DataError("order.u32 does not hold one u32 per key");
            Order = new uint[Keys];
            for (int i = 0; i < Keys; i++)
                if ((Order[i] = U32(order, 4 * i)) >= Keys) throw new DataError("order.u32[" + i + "] is not a key index");
            ValLen = int.Parse(Fact("value_length")[1], CultureInfo.InvariantCulture);
            bytesKey = Fact("bytes_key")[1];
            int maxBatch = 0;
            foreach (var w in Workloads)
            {
                if (w.Name == "scan/dir:upcall") ScanRecords = int.Parse(w.Ops, CultureInfo.InvariantCulture);
                if (w.Name == "batch") foreach (int v in w.Values) maxBatch = Math.Max(maxBatch, v);
            }
            OrderPacked = new byte[(Keys + maxBatch) * KeyLen];
            for (int i = 0; i < Keys + maxBatch; i++) Buffer.BlockCopy(KeyBytes, (int)Order[i % Keys] * KeyLen, OrderPacked, i * KeyLen, KeyLen);

            // FNV-1a 64 over keys, order (re-encoded as u32le from what was parsed), miss and put keys.
            var le = new byte[4 * Keys];
            for (int i = 0; i < Keys; i++) { le[4 * i] = (byte)Order[i]; le[4 * i + 1] = (byte)(Order[i] >> 8); le[4 * i + 2] = (byte)(Order[i] >> 16); le[4 * i + 3] = (byte)(Order[i] >> 24); }
            ulong h = 0xcbf29ce484222325UL;
            foreach (byte[] t in new[] { KeyBytes, le, MissBytes, PutKeyBytes })
                foreach (byte b in t) h = (h ^ b) * 0x100000001b3UL;
            Checksum = "fnv1a64:" + h.ToString("x16", CultureInfo.InvariantCulture);
        }

        /// The key of the record holding n bytes (manifest: bytes_key).
        public static byte[] BytesKey(int n) => Encoding.ASCII.GetBytes(bytesKey.Replace("%u", n.ToString(CultureInfo.InvariantCulture)));

        /// A table's keys as strings, for the binding that passes keys as string: each key must be
        /// printable ASCII, so that its marshaled (UTF-8, NUL-terminated) copy is the same bytes.
        public static string[] Strings(byte[] packed)
        {
            var s = new string[packed.Length / KeyLen];
            foreach (byte b in packed)
                if (b < 0x20 || b > 0x7e) throw new DataError("a key is not printable ASCII: dllimport-marshaled cannot pass it as a string");
            for (int i = 0; i < s.Length; i++) s[i] = Encoding.ASCII.GetString(packed, i * KeyLen, KeyLen);
            return s;
        }

        public static uint U32(byte[] b, int at) => (uint)(b[at] | b[at + 1] << 8 | b[at + 2] << 16 | b[at + 3] << 24);
        public static unsafe uint U32(byte* p) => (uint)(p[0] | p[1] << 8 | p[2] << 16 | p[3] << 24);
        public static unsafe void PutU32(byte* p, uint v) { p[0] = (byte)v; p[1] = (byte)(v >> 8); p[2] = (byte)(v >> 16); p[3] = (byte)(v >> 24); }
        public static unsafe void PutU64(byte* p, ulong v) { PutU32(p, (uint)v); PutU32(p + 4, (uint)(v >> 32)); }
        public static unsafe ulong U64(byte* p) => U32(p) | (ulong)U32(p + 4) << 32;

        public static void Check(int rc, string what)
        {
            if (rc != 0) throw new WrongAnswer(what + ": engine returned " + rc);
        }
    }

    /// The loops a mechanism has, one per workload of bench/workloads.c that Mono runs.
    /// The *Isolated loops are the call site's other shape (`/site:isolated`): the call in a method
    /// of its own that the JIT may not inline, called once per iteration.
    enum Loop { Noop, AddLatency, AddThroughput, Get, Put, GetBytes, Scan, Batch, NoopIsolated, AddLatencyIsolated, AddThroughputIsolated }

    /// One mechanism's binding: an environment on its own copy of the data set, the current
    /// workload's transaction and buffers, and the loops. Setup returns the loop to time: one call
    /// runs n iterations, calling the binding's foreign function directly.
    /// The loops of Direct and HandleMech look alike on purpose: each calls its P/Invoke directly
    /// inside the loop. Sharing one loop through an interface or delegate would put a virtual call
    /// between the loop and the crossing being measured (Mono 6.8 has no static abstract members or
    /// function pointers to make that free).
    abstract class Mechanism
    {
        protected long chain, done;           // latency chain / position, puts so far
        protected int param;                  // the benchmark's parameter: bytes, batch size, commit interval
        protected byte[] buf, keys, key;      // the workload's buffers, allocated by Setup (untimed)
        protected UIntPtr[] keyLens, valLens;
        bool writing;

        public abstract void Close();
        protected abstract void Begin(bool write);
        protected abstract void End(bool commit);

        public Action<long> Setup(Loop loop, int param)
        {
            this.param = param;
            chain = done = 0;
            Allocate(loop);
            Begin(writing = loop == Loop.Put);
            switch (loop)
            {
                case Loop.Noop: return Noop;
                case Loop.AddLatency: return AddLatency;
                case Loop.AddThroughput: return AddThroughput;
                case Loop.Get: return Get;
                case Loop.Put: return Put;
                case Loop.GetBytes: return GetBytes;
                case Loop.Scan: return Scan;
                case Loop.NoopIsolated: return NoopIsolated;
                case Loop.AddLatencyIsolated: return AddLatencyIsolated;
                case Loop.AddThroughputIsolated: return AddThroughputIsolated;
                default: return Batch;
            }
        }

        /// Ends the workload's transaction: put commits what it wrote, a read is aborted.
        public void Teardown() => End(writing);

        protected virtual void Allocate(Loop loop)
        {
            buf = keys = key = null;
            keyLens = valLens = null;
            switch (loop)
            {
                case Loop.Get:
                    buf = new byte[Data.ValLen];
                    break;
                case Loop.Put: // the value every put writes
                    buf = new byte[Data.ValLen];
                    for (int b = 0; b < buf.Length; b++) buf[b] = 0x5a;
                    break;
                case Loop.GetBytes:
                    key = Data.BytesKey(param);
                    buf = new byte[param];
                    break;
                case Loop.Batch:
                    buf = new byte[param * Data.ValLen];
                    keys = new byte[param * Data.KeyLen];
                    keyLens = new UIntPtr[param];
                    valLens = new UIntPtr[param];
                    for (int i = 0; i < param; i++) keyLens[i] = (UIntPtr)Data.KeyLen;
                    break;
            }
        }

        protected abstract void Noop(long n);
        protected abstract void AddLatency(long n);
        protected abstract void AddThroughput(long n);
        protected abstract void Get(long n);
        protected abstract void Put(long n);
        protected abstract void GetBytes(long n);
        protected abstract void Scan(long n);
        protected abstract void Batch(long n);
        protected virtual void NoopIsolated(long n) { throw new NotSupportedException("site:isolated"); }
        protected virtual void AddLatencyIsolated(long n) { throw new NotSupportedException("site:isolated"); }
        protected virtual void AddThroughputIsolated(long n) { throw new NotSupportedException("site:isolated"); }

        // add/mode:latency: the chain goes on from the last run, as in workloads.c.
        protected void CheckAdd(int x, long n)
        {
            int want = (int)(chain + n);
            chain += n;
            if (x != want) throw new WrongAnswer("add: " + x + " != " + want);
        }

        // add/mode:throughput: the sum of add(i, 1) for i < n, mod 2^32.
        protected static void CheckSum(uint acc, long n)
        {
            ulong m = (ulong)n;
            uint want = (uint)(m % 2 == 0 ? m / 2 * (m + 1) : (m + 1) / 2 * m);
            if (acc != want) throw new WrongAnswer("add/mode:throughput: " + acc + " != " + want);
        }

        // The kv_scan upcall shared by every mechanism that has one: a static method, so full AOT can
        // compile its native-to-managed wrapper ahead of time.
        protected static int scanN, scanBad;
        protected static readonly ScanFn OnRecordFn = OnRecord; // one delegate, alive for the process

        [MonoPInvokeCallback(typeof(ScanFn))]
        protected static int OnRecord(IntPtr key, UIntPtr keyLen, IntPtr val, UIntPtr valLen, IntPtr payload)
        {
            scanN++;
            if ((ulong)keyLen != (ulong)Data.KeyLen || (ulong)valLen != (ulong)Data.ValLen) scanBad++;
            return 0;
        }

        protected static void CheckScan(ulong count)
        {
            if (scanN != Data.ScanRecords || count != (ulong)Data.ScanRecords || scanBad != 0)
                throw new WrongAnswer("scan: " + scanN + " upcalls, " + count + " counted, " + scanBad + " bad");
        }

        public static Mechanism Open(string name, string path)
        {
            switch (name)
            {
                case "dllimport": return new Direct(path);
                case "dllimport-marshaled": return new MarshaledMech(path);
                case "handle": return new HandleMech(path);
                case "marshal": return new MarshalMech(path);
                default: throw new ArgumentException(name);
            }
        }

        public static readonly string[] Names = { "dllimport", "dllimport-marshaled", "handle", "marshal" };
    }

    // ---- dllimport: blittable, pinned with `fixed` ---------------------------------------------------
    unsafe class Direct : Mechanism
    {
        protected IntPtr env, txn;

        public Direct(string path)
        {
            var o = KvOptions.NoSync();
            fixed (byte* p = Encoding.UTF8.GetBytes(path + "\0"))
                Data.Check(Native.kv_env_open(out env, p, ref o), "kv_env_open");
        }

        public override void Close() => Native.kv_env_close(env);

        protected override void Begin(bool write) => Data.Check(Native.kv_txn_begin(out txn, env, write ? 1u : 0u), "kv_txn_begin");

        protected override void End(bool commit)
        {
            int rc = commit ? Native.kv_txn_commit(txn) : Native.kv_txn_abort(txn);
            Native.kv_txn_free(txn);
            Data.Check(rc, commit ? "kv_txn_commit" : "kv_txn_abort");
        }

        protected override void Noop(long n) { for (long i = 0; i < n; i++) Native.kv_noop(); }

        protected override void AddLatency(long n)
        {
            int x = (int)chain; // each call takes the previous result
            for (long i = 0; i < n; i++) x = Native.kv_add(x, 1);
            CheckAdd(x, n);
        }

        protected override void AddThroughput(long n)
        {
            uint acc = 0; // independent calls; the results are only summed
            for (long i = 0; i < n; i++) acc += (uint)Native.kv_add((int)i, 1);
            CheckSum(acc, n);
        }

        // site:isolated: the same loops, the call in a non-inlined method of its own.
        [MethodImpl(MethodImplOptions.NoInlining)] static void NoopCall() { Native.kv_noop(); }
        [MethodImpl(MethodImplOptions.NoInlining)] static int AddCall(int a, int b) { return Native.kv_add(a, b); }

        protected override void NoopIsolated(long n) { for (long i = 0; i < n; i++) NoopCall(); }

        protected override void AddLatencyIsolated(long n)
        {
            int x = (int)chain;
            for (long i = 0; i < n; i++) x = AddCall(x, 1);
            CheckAdd(x, n);
        }

        protected override void AddThroughputIsolated(long n)
        {
            uint acc = 0;
            for (long i = 0; i < n; i++) acc += (uint)AddCall((int)i, 1);
            CheckSum(acc, n);
        }

        protected override void Get(long n)
        {
            UIntPtr len;
            uint i = (uint)chain; // the next key comes out of the value just read
            fixed (byte* keys = Data.KeyBytes) fixed (byte* bp = buf)
                for (long k = 0; k < n; k++)
                {
                    int rc = Native.kv_get(txn, keys + i * Data.KeyLen, (UIntPtr)Data.KeyLen, bp, (UIntPtr)Data.ValLen, &len);
                    if (rc != 0) Data.Check(rc, "kv_get");
                    if ((ulong)len != (ulong)Data.ValLen || Data.U32(bp + 4) != i) throw new WrongAnswer("get: key " + i);
                    i = Data.U32(bp);
                }
            chain = i;
        }

        protected override void Put(long n)
        {
            fixed (byte* keys = Data.PutKeyBytes) fixed (byte* val = buf)
                for (long k = 0; k < n; k++)
                {
                    Data.Check(Native.kv_put(txn, keys + (done % Data.PutKeys) * Data.KeyLen, (UIntPtr)Data.KeyLen, val, (UIntPtr)Data.ValLen), "kv_put");
                    if (++done % param == 0) { End(true); Begin(true); } // commit every param puts (no-sync)
                }
        }

        protected override void GetBytes(long n)
        {
            UIntPtr len;
            fixed (byte* kp = key) fixed (byte* bp = buf)
                for (long k = 0; k < n; k++)
                {
                    Data.Check(Native.kv_get(txn, kp, (UIntPtr)key.Length, bp, (UIntPtr)param, &len), "kv_get");
                    if ((ulong)len != (ulong)param) throw new WrongAnswer("get bytes:" + param);
                }
        }

        protected override void Scan(long n)
        {
            UIntPtr count;
            fixed (byte* keys = Data.KeyBytes)
                for (long k = 0; k < n; k++)
                {
                    scanN = scanBad = 0;
                    Data.Check(Native.kv_scan(txn, keys, (UIntPtr)Data.KeyLen, keys + Data.ScanRecords * Data.KeyLen, (UIntPtr)Data.KeyLen, OnRecordFn, IntPtr.Zero, &count), "kv_scan");
                    CheckScan((ulong)count);
                }
        }

        protected override void Batch(long n)
        {
            UIntPtr found;
            fixed (byte* bp = buf) fixed (byte* kp = keys) fixed (UIntPtr* kl = keyLens) fixed (UIntPtr* vl = valLens)
                for (long k = 0; k < n; k++)
                {
                    int start = (int)(chain % Data.Keys);
                    chain += param;
                    Buffer.BlockCopy(Data.OrderPacked, start * Data.KeyLen, keys, 0, param * Data.KeyLen); // the C suite's memcpy
                    Data.Check(Native.kv_get_batch(txn, (UIntPtr)param, kp, kl, bp, (UIntPtr)buf.Length, vl, &found), "kv_get_batch");
                    if ((ulong)found != (ulong)param || Data.U32(bp + 4) != Data.Order[start]) throw new WrongAnswer("batch/n:" + param);
                }
        }
    }

    // ---- dllimport-marshaled: byte[] and string parameters ----------------------------------------------
    // noop and add have nothing to marshal: they are Direct's.
    class MarshaledMech : Direct
    {
        static string[] keyStrings, putKeyStrings;
        string keyString; // get/bytes:N: the record's key

        public MarshaledMech(string path) : base(path)
        {
            keyStrings = keyStrings ?? Data.Strings(Data.KeyBytes);
            putKeyStrings = putKeyStrings ?? Data.Strings(Data.PutKeyBytes);
        }

        protected override void Allocate(Loop loop)
        {
            base.Allocate(loop);
            if (loop == Loop.GetBytes) keyString = Encoding.ASCII.GetString(key);
        }

        protected override void Get(long n)
        {
            UIntPtr len;
            uint i = (uint)chain;
            for (long k = 0; k < n; k++)
            {
                Data.Check(Marshaled.kv_get(txn, keyStrings[i], (UIntPtr)Data.KeyLen, buf, (UIntPtr)Data.ValLen, out len), "kv_get");
                if ((ulong)len != (ulong)Data.ValLen || Data.U32(buf, 4) != i) throw new WrongAnswer("get: key " + i);
                i = Data.U32(buf, 0);
            }
            chain = i;
        }

        protected override void Put(long n)
        {
            for (long k = 0; k < n; k++)
            {
                Data.Check(Marshaled.kv_put(txn, putKeyStrings[done % Data.PutKeys], (UIntPtr)Data.KeyLen, buf, (UIntPtr)Data.ValLen), "kv_put");
                if (++done % param == 0) { End(true); Begin(true); }
            }
        }

        protected override void GetBytes(long n)
        {
            UIntPtr len;
            for (long k = 0; k < n; k++)
            {
                Data.Check(Marshaled.kv_get(txn, keyString, (UIntPtr)keyString.Length, buf, (UIntPtr)param, out len), "kv_get");
                if ((ulong)len != (ulong)param) throw new WrongAnswer("get bytes:" + param);
            }
        }

        protected override void Scan(long n)
        {
            UIntPtr count;
            string lo = keyStrings[0], hi = keyStrings[Data.ScanRecords];
            for (long k = 0; k < n; k++)
            {
                scanN = scanBad = 0;
                Data.Check(Marshaled.kv_scan(txn, lo, (UIntPtr)Data.KeyLen, hi, (UIntPtr)Data.KeyLen, OnRecordFn, IntPtr.Zero, out count), "kv_scan");
                CheckScan((ulong)count);
            }
        }

        protected override void Batch(long n)
        {
            UIntPtr found;
            for (long k = 0; k < n; k++)
            {
                int start = (int)(chain % Data.Keys);
                chain += param;
                Buffer.BlockCopy(Data.OrderPacked, start * Data.KeyLen, keys, 0, param * Data.KeyLen);
                Data.Check(Marshaled.kv_get_batch(txn, (UIntPtr)param, keys, keyLens, buf, (UIntPtr)buf.Length, valLens, out found), "kv_get_batch");
                if ((ulong)found != (ulong)param || Data.U32(buf, 4) != Data.Order[start]) throw new WrongAnswer("batch/n:" + param);
            }
        }
    }

    // ---- handle: kv_handle.h, blittable --------------------------------------------------------------
    unsafe class HandleMech : Mechanism
    {
        ulong env, txn;

        public HandleMech(string path)
        {
            var o = KvOptions.NoSync();
            fixed (byte* p = Encoding.UTF8.GetBytes(path + "\0"))
                Data.Check(Handles.kvh_env_open(out env, p, ref o), "kvh_env_open");
        }

        public override void Close() => Handles.kvh_env_close(env);
        protected override void Begin(bool write) => Data.Check(Handles.kvh_txn_begin(out txn, env, write ? 1u : 0u), "kvh_txn_begin");
        protected override void End(bool commit) =>
            Data.Check(commit ? Handles.kvh_txn_commit(txn) : Handles.kvh_txn_abort(txn), commit ? "kvh_txn_commit" : "kvh_txn_abort");

        protected override void Noop(long n) { for (long i = 0; i < n; i++) Handles.kvh_noop(env); }

        protected override void AddLatency(long n)
        {
            int x = (int)chain;
            for (long i = 0; i < n; i++) Handles.kvh_add(env, x, 1, &x);
            CheckAdd(x, n);
        }

        protected override void AddThroughput(long n)
        {
            uint acc = 0;
            int sum;
            for (long i = 0; i < n; i++)
            {
                Handles.kvh_add(env, (int)i, 1, &sum);
                acc += (uint)sum;
            }
            CheckSum(acc, n);
        }

        protected override void Get(long n)
        {
            UIntPtr len;
            uint i = (uint)chain;
            fixed (byte* keys = Data.KeyBytes) fixed (byte* bp = buf)
                for (long k = 0; k < n; k++)
                {
                    int rc = Handles.kvh_get(txn, keys + i * Data.KeyLen, (UIntPtr)Data.KeyLen, bp, (UIntPtr)Data.ValLen, &len);
                    if (rc != 0) Data.Check(rc, "kvh_get");
                    if ((ulong)len != (ulong)Data.ValLen || Data.U32(bp + 4) != i) throw new WrongAnswer("get: key " + i);
                    i = Data.U32(bp);
                }
            chain = i;
        }

        protected override void Put(long n)
        {
            fixed (byte* keys = Data.PutKeyBytes) fixed (byte* val = buf)
                for (long k = 0; k < n; k++)
                {
                    Data.Check(Handles.kvh_put(txn, keys + (done % Data.PutKeys) * Data.KeyLen, (UIntPtr)Data.KeyLen, val, (UIntPtr)Data.ValLen), "kvh_put");
                    if (++done % param == 0) { End(true); Begin(true); }
                }
        }

        protected override void GetBytes(long n)
        {
            UIntPtr len;
            fixed (byte* kp = key) fixed (byte* bp = buf)
                for (long k = 0; k < n; k++)
                {
                    Data.Check(Handles.kvh_get(txn, kp, (UIntPtr)key.Length, bp, (UIntPtr)param, &len), "kvh_get");
                    if ((ulong)len != (ulong)param) throw new WrongAnswer("get bytes:" + param);
                }
        }

        protected override void Scan(long n)
        {
            UIntPtr count;
            fixed (byte* keys = Data.KeyBytes)
                for (long k = 0; k < n; k++)
                {
                    scanN = scanBad = 0;
                    Data.Check(Handles.kvh_scan(txn, keys, (UIntPtr)Data.KeyLen, keys + Data.ScanRecords * Data.KeyLen, (UIntPtr)Data.KeyLen, OnRecordFn, IntPtr.Zero, &count), "kvh_scan");
                    CheckScan((ulong)count);
                }
        }

        protected override void Batch(long n)
        {
            UIntPtr found;
            fixed (byte* bp = buf) fixed (byte* kp = keys) fixed (UIntPtr* kl = keyLens) fixed (UIntPtr* vl = valLens)
                for (long k = 0; k < n; k++)
                {
                    int start = (int)(chain % Data.Keys);
                    chain += param;
                    Buffer.BlockCopy(Data.OrderPacked, start * Data.KeyLen, keys, 0, param * Data.KeyLen);
                    Data.Check(Handles.kvh_get_batch(txn, (UIntPtr)param, kp, kl, bp, (UIntPtr)buf.Length, vl, &found), "kvh_get_batch");
                    if ((ulong)found != (ulong)param || Data.U32(bp + 4) != Data.Order[start]) throw new WrongAnswer("batch/n:" + param);
                }
        }
    }

    // ---- marshal: kv_marshal.h; requests written byte by byte, little-endian (PROTOCOL.md) ----------
    // The marshal ABI has no callbacks: SCAN streams the records into one response, and the C#
    // callback runs per record while decoding it (the same upcall, on this side of the wire).
    unsafe class MarshalMech : Mechanism
    {
        // Op codes from KvAbi (generated from kv_abi.json by ./build).
        const byte V = KvAbi.KVM_VERSION, NOOP = KvAbi.KVM_OP_NOOP, ADD = KvAbi.KVM_OP_ADD,
                   ENV_OPEN = KvAbi.KVM_OP_ENV_OPEN, ENV_CLOSE = KvAbi.KVM_OP_ENV_CLOSE,
                   TXN_BEGIN = KvAbi.KVM_OP_TXN_BEGIN, TXN_COMMIT = KvAbi.KVM_OP_TXN_COMMIT,
                   TXN_ABORT = KvAbi.KVM_OP_TXN_ABORT, PUT = KvAbi.KVM_OP_PUT, GET = KvAbi.KVM_OP_GET,
                   GET_BATCH = KvAbi.KVM_OP_GET_BATCH, SCAN = KvAbi.KVM_OP_SCAN;
        ulong env, txn;
        readonly byte[] req = new byte[64], resp = new byte[64]; // for the calls around the workloads
        byte[] request, response;                                // the workload's, allocated by Setup

        static int Call(byte* rq, int rqLen, byte* rs, int cap, string what)
        {
            UIntPtr len;
            int rc = Wire.kvm_call(rq, (UIntPtr)rqLen, rs, (UIntPtr)cap, &len);
            if (rc != 0) Data.Check(rc, what);
            return (int)len;
        }

        ulong HandleCall(int reqLen, string what)
        {
            fixed (byte* rq = req) fixed (byte* rs = resp)
            {
                Call(rq, reqLen, rs, resp.Length, what);
                return Data.U64(rs + 4);
            }
        }

        public MarshalMech(string path)
        {
            byte[] p = Encoding.UTF8.GetBytes(path);
            byte[] r = new byte[30 + p.Length];
            fixed (byte* rq = r)
            {
                rq[0] = V; rq[1] = ENV_OPEN;
                Data.PutU32(rq + 2, (uint)p.Length);
                Marshal.Copy(p, 0, (IntPtr)(rq + 6), p.Length);
                byte* o = rq + 6 + p.Length;
                Data.PutU32(o, 1); Data.PutU32(o + 4, 0); Data.PutU64(o + 8, 1UL << 30); Data.PutU32(o + 16, 1); Data.PutU32(o + 20, 0);
                fixed (byte* rs = resp) { Call(rq, r.Length, rs, resp.Length, "ENV_OPEN"); env = Data.U64(rs + 4); }
            }
        }

        void Simple(byte op, ulong h, string what)
        {
            fixed (byte* rq = req) { rq[0] = V; rq[1] = op; Data.PutU64(rq + 2, h); }
            HandleCall(10, what);
        }

        public override void Close() => Simple(ENV_CLOSE, env, "ENV_CLOSE");

        protected override void Begin(bool write)
        {
            fixed (byte* rq = req) { rq[0] = V; rq[1] = TXN_BEGIN; Data.PutU64(rq + 2, env); Data.PutU32(rq + 10, write ? 1u : 0u); }
            txn = HandleCall(14, "TXN_BEGIN");
        }

        protected override void End(bool commit) => Simple(commit ? TXN_COMMIT : TXN_ABORT, txn, commit ? "TXN_COMMIT" : "TXN_ABORT");

        protected override void Allocate(Loop loop)
        {
            request = response = null;
            if (loop == Loop.GetBytes)
            {
                key = Data.BytesKey(param);
                request = new byte[14 + key.Length];
                response = new byte[8 + param];
            }
            else if (loop == Loop.Scan)
            {
                request = new byte[10 + 2 * (5 + Data.KeyLen)];
                response = new byte[8 + Data.ScanRecords * (8 + Data.KeyLen + Data.ValLen)];
            }
            else if (loop == Loop.Batch)
            {
                request = new byte[14 + 4 * param + param * Data.KeyLen];
                response = new byte[12 + 5 * param + param * Data.ValLen];
            }
        }

        protected override void Noop(long n)
        {
            byte* rq = stackalloc byte[2];
            byte* rs = stackalloc byte[4];
            UIntPtr len;
            rq[0] = V; rq[1] = NOOP;
            for (long i = 0; i < n; i++) Wire.kvm_call(rq, (UIntPtr)2, rs, (UIntPtr)4, &len);
        }

        protected override void AddLatency(long n)
        {
            byte* rq = stackalloc byte[10];
            byte* rs = stackalloc byte[8];
            UIntPtr len;
            int x = (int)chain;
            rq[0] = V; rq[1] = ADD;
            Data.PutU32(rq + 6, 1);
            for (long i = 0; i < n; i++)
            {
                Data.PutU32(rq + 2, (uint)x);
                Wire.kvm_call(rq, (UIntPtr)10, rs, (UIntPtr)8, &len);
                x = (int)Data.U32(rs + 4);
            }
            CheckAdd(x, n);
        }

        protected override void AddThroughput(long n)
        {
            byte* rq = stackalloc byte[10];
            byte* rs = stackalloc byte[8];
            UIntPtr len;
            uint acc = 0;
            rq[0] = V; rq[1] = ADD;
            Data.PutU32(rq + 6, 1);
            for (long i = 0; i < n; i++)
            {
                Data.PutU32(rq + 2, (uint)i);
                Wire.kvm_call(rq, (UIntPtr)10, rs, (UIntPtr)8, &len);
                acc += Data.U32(rs + 4);
            }
            CheckSum(acc, n);
        }

        protected override void Get(long n)
        {
            byte* rq = stackalloc byte[14 + Data.KeyLen];
            byte* rs = stackalloc byte[8 + Data.ValLen];
            rq[0] = V; rq[1] = GET;
            Data.PutU64(rq + 2, txn);
            Data.PutU32(rq + 10, (uint)Data.KeyLen);
            uint i = (uint)chain;
            fixed (byte* keys = Data.KeyBytes)
                for (long k = 0; k < n; k++)
                {
                    Buffer.MemoryCopy(keys + i * Data.KeyLen, rq + 14, Data.KeyLen, Data.KeyLen);
                    Call(rq, 14 + Data.KeyLen, rs, 8 + Data.ValLen, "GET");
                    if (Data.U32(rs + 4) != (uint)Data.ValLen || Data.U32(rs + 12) != i) throw new WrongAnswer("get: key " + i);
                    i = Data.U32(rs + 8);
                }
            chain = i;
        }

        protected override void Put(long n)
        {
            int len = 18 + Data.KeyLen + Data.ValLen;
            byte* rq = stackalloc byte[len];
            byte* rs = stackalloc byte[4];
            rq[0] = V; rq[1] = PUT;
            Data.PutU32(rq + 10, (uint)Data.KeyLen);
            Data.PutU32(rq + 14 + Data.KeyLen, (uint)Data.ValLen);
            for (int b = 0; b < Data.ValLen; b++) rq[18 + Data.KeyLen + b] = 0x5a;
            fixed (byte* keys = Data.PutKeyBytes)
                for (long k = 0; k < n; k++)
                {
                    Data.PutU64(rq + 2, txn); // the transaction changes every param puts
                    Buffer.MemoryCopy(keys + (done % Data.PutKeys) * Data.KeyLen, rq + 14, Data.KeyLen, Data.KeyLen);
                    Call(rq, len, rs, 4, "PUT");
                    if (++done % param == 0) { End(true); Begin(true); }
                }
        }

        protected override void GetBytes(long n)
        {
            fixed (byte* rq = request) fixed (byte* rs = response)
            {
                rq[0] = V; rq[1] = GET;
                Data.PutU64(rq + 2, txn);
                Data.PutU32(rq + 10, (uint)key.Length);
                Marshal.Copy(key, 0, (IntPtr)(rq + 14), key.Length);
                for (long k = 0; k < n; k++)
                {
                    Call(rq, request.Length, rs, response.Length, "GET");
                    if (Data.U32(rs + 4) != (uint)param) throw new WrongAnswer("get bytes:" + param);
                }
            }
        }

        protected override void Scan(long n)
        {
            fixed (byte* rq = request) fixed (byte* rs = response) fixed (byte* keys = Data.KeyBytes)
            {
                rq[0] = V; rq[1] = SCAN;
                Data.PutU64(rq + 2, txn);
                rq[10] = 1; Data.PutU32(rq + 11, (uint)Data.KeyLen); Buffer.MemoryCopy(keys, rq + 15, Data.KeyLen, Data.KeyLen);
                byte* hi = rq + 15 + Data.KeyLen;
                hi[0] = 1; Data.PutU32(hi + 1, (uint)Data.KeyLen);
                Buffer.MemoryCopy(keys + Data.ScanRecords * Data.KeyLen, hi + 5, Data.KeyLen, Data.KeyLen);
                for (long k = 0; k < n; k++)
                {
                    int got = Call(rq, request.Length, rs, response.Length, "SCAN");
                    scanN = scanBad = 0;
                    uint count = Data.U32(rs + 4);
                    byte* p = rs + 8;
                    for (uint c = 0; c < count; c++) // a record: u32 k, u32 v, the value, then the key
                    {
                        uint kl = Data.U32(p), vl = Data.U32(p + 4);
                        OnRecord((IntPtr)(p + 8 + vl), (UIntPtr)kl, (IntPtr)(p + 8), (UIntPtr)vl, IntPtr.Zero);
                        p += 8 + kl + vl;
                    }
                    if (p - rs != got) throw new WrongAnswer("scan: response length");
                    CheckScan(count);
                }
            }
        }

        protected override void Batch(long n)
        {
            int head = 14 + 4 * param;
            fixed (byte* rq = request) fixed (byte* rs = response) fixed (byte* packed = Data.OrderPacked)
            {
                rq[0] = V; rq[1] = GET_BATCH;
                Data.PutU64(rq + 2, txn);
                Data.PutU32(rq + 10, (uint)param);
                for (int i = 0; i < param; i++) Data.PutU32(rq + 14 + 4 * i, (uint)Data.KeyLen);
                for (long k = 0; k < n; k++)
                {
                    int start = (int)(chain % Data.Keys);
                    chain += param;
                    Buffer.MemoryCopy(packed + start * Data.KeyLen, rq + head, param * Data.KeyLen, param * Data.KeyLen);
                    Call(rq, request.Length, rs, response.Length, "GET_BATCH");
                    if (Data.U32(rs + 8) != (uint)param || Data.U32(rs + 12 + 5 * param + 4) != Data.Order[start])
                        throw new WrongAnswer("batch/n:" + param);
                }
            }
        }
    }
}
