// Workloads.cs — bench/workloads.h in C#: the data set (the same generator, seed and draws as
// bench/workloads.c, so every harness reads the same records) and each mechanism's workload loops.
//
// A loop calls the foreign function itself (a wrapper would cost as much as the call measured), so
// the loops are written once per call shape: Direct (dllimport, blittable), MarshaledMech
// (byte[]/string), HandleMech (kv_handle.h) and MarshalMech (kv_marshal.h). Each checks its answers
// as workloads.c does; a wrong one throws WrongAnswer and fails the run.
using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace FfiBench
{
    sealed class WrongAnswer : Exception
    {
        public WrongAnswer(string what) : base(what) { }
    }

    static class Data
    {
        public const int Keys = 100000, KeyLen = 16, ValLen = 64, ScanRecords = 1024, MissKeys = 4096,
                         PutKeys = 10000, PutEvery = 100;
        public static readonly int[] BytesSizes = { 8, 64, 512, 4096, 32768, 262144, 1048576 };
        public static readonly int[] BatchNs = { 1, 4, 16, 64, 256, 1024 };

        public static readonly byte[] KeyBytes = new byte[Keys * KeyLen];   // "key:%012u", packed
        public static readonly string[] KeyStrings = new string[Keys];
        public static readonly byte[] PutKeyBytes = new byte[PutKeys * KeyLen];
        public static readonly string[] PutKeyStrings = new string[PutKeys];
        public static readonly uint[] Next = new uint[Keys];   // one cycle through every key
        public static readonly uint[] Order = new uint[Keys];  // the batch order
        public static readonly byte[] OrderPacked;            // keys in batch order, + room to wrap

        static ulong Splitmix(ref ulong s)
        {
            ulong z = (s += 0x9e3779b97f4a7c15UL);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
            return z ^ (z >> 31);
        }

        static Data()
        {
            ulong s = 20261125;
            for (int i = 0; i < Keys; i++)
            {
                KeyStrings[i] = "key:" + i.ToString("D12");
                Encoding.ASCII.GetBytes(KeyStrings[i], 0, KeyLen, KeyBytes, i * KeyLen);
                Order[i] = (uint)i;
            }
            for (int i = 0; i < MissKeys; i++) Splitmix(ref s); // workloads.c draws the miss keys first
            for (int i = 0; i < PutKeys; i++)
            {
                PutKeyStrings[i] = "put:" + i.ToString("D12");
                Encoding.ASCII.GetBytes(PutKeyStrings[i], 0, KeyLen, PutKeyBytes, i * KeyLen);
            }
            var perm = new uint[Keys]; // Sattolo: a random permutation that is one cycle
            for (uint i = 0; i < Keys; i++) perm[i] = i;
            for (uint i = Keys - 1; i > 0; i--)
            {
                uint j = (uint)(Splitmix(ref s) % i), t = perm[i];
                perm[i] = perm[j]; perm[j] = t;
            }
            Array.Copy(perm, Next, Keys);
            for (uint i = Keys - 1; i > 0; i--) // Fisher-Yates
            {
                uint j = (uint)(Splitmix(ref s) % (i + 1)), t = Order[i];
                Order[i] = Order[j]; Order[j] = t;
            }
            int wrap = KeyLen * BatchNs[BatchNs.Length - 1];
            OrderPacked = new byte[Keys * KeyLen + wrap];
            for (int i = 0; i < Keys; i++) Buffer.BlockCopy(KeyBytes, (int)Order[i] * KeyLen, OrderPacked, i * KeyLen, KeyLen);
            Buffer.BlockCopy(OrderPacked, 0, OrderPacked, Keys * KeyLen, wrap);
        }

        public static uint U32(byte[] b, int at) => (uint)(b[at] | b[at + 1] << 8 | b[at + 2] << 16 | b[at + 3] << 24);
        public static unsafe uint U32(byte* p) => (uint)(p[0] | p[1] << 8 | p[2] << 16 | p[3] << 24);
        public static unsafe void PutU32(byte* p, uint v) { p[0] = (byte)v; p[1] = (byte)(v >> 8); p[2] = (byte)(v >> 16); p[3] = (byte)(v >> 24); }
        public static unsafe void PutU64(byte* p, ulong v) { PutU32(p, (uint)v); PutU32(p + 4, (uint)(v >> 32)); }
        public static unsafe ulong U64(byte* p) => U32(p) | (ulong)U32(p + 4) << 32;
        public static byte[] BytesKey(int n) => Encoding.ASCII.GetBytes("bytes:" + n);

        static byte[] Value(int i)
        {
            var v = new byte[ValLen];
            for (int b = 8; b < ValLen; b++) v[b] = (byte)(i * 31 + b);
            BitConverter.GetBytes(Next[i]).CopyTo(v, 0); // little-endian on every Mono target here
            BitConverter.GetBytes((uint)i).CopyTo(v, 4);
            return v;
        }

        public static unsafe void Create(string path)
        {
            File.Delete(path);
            File.Delete(path + "-lock");
            var o = KvOptions.NoSync();
            byte[] p = Encoding.UTF8.GetBytes(path + "\0");
            IntPtr env, txn;
            fixed (byte* pp = p) Check(Native.kv_env_open(out env, pp, ref o), "kv_env_open");
            Check(Native.kv_txn_begin(out txn, env, 1), "kv_txn_begin");
            fixed (byte* keys = KeyBytes)
                for (int i = 0; i < Keys; i++)
                    fixed (byte* v = Value(i))
                        Check(Native.kv_put(txn, keys + i * KeyLen, (UIntPtr)KeyLen, v, (UIntPtr)ValLen), "kv_put");
            for (int k = 0; k < BytesSizes.Length; k++)
            {
                byte[] key = BytesKey(BytesSizes[k]), val = new byte[BytesSizes[k]];
                for (int b = 0; b < val.Length; b++) val[b] = (byte)(k + 1);
                fixed (byte* kp = key) fixed (byte* vp = val)
                    Check(Native.kv_put(txn, kp, (UIntPtr)key.Length, vp, (UIntPtr)val.Length), "kv_put");
            }
            Check(Native.kv_txn_commit(txn), "kv_txn_commit");
            Native.kv_txn_free(txn);
            Check(Native.kv_env_close(env), "kv_env_close");
        }

        public static void Check(int rc, string what)
        {
            if (rc != 0) throw new WrongAnswer(what + ": engine returned " + rc);
        }
    }

    /// One mechanism's binding: an environment on its own copy of the data set, a transaction per
    /// workload, and the loops. Run(method, n, param) runs n iterations of one workload.
    /// The loops of Direct and HandleMech look alike on purpose: each calls its P/Invoke directly
    /// inside the timed loop. Sharing one loop through an interface or delegate would put a virtual
    /// call between the loop and the crossing being measured (Mono 6.8 has no static abstract members
    /// or function pointers to make that free).
    abstract class Mechanism
    {
        public abstract string Name { get; }
        protected long chain, done; // get/batch position, puts so far: reset per benchmark
        public abstract void Close();
        protected abstract void Begin(bool write);
        protected abstract void End(bool commit);

        public void Setup(string method) { Begin(method == "put"); chain = done = 0; }
        public void Teardown() => End(true);

        public void Run(string method, long n, int param)
        {
            switch (method)
            {
                case "noop": Noop(n); break;
                case "add": Add(n); break;
                case "get": Get(n); break;
                case "put": Put(n); break;
                case "get_bytes": GetBytes(n, param); break;
                case "scan": Scan(n); break;
                case "batch": Batch(n, param); break;
                default: throw new ArgumentException(method);
            }
        }

        protected abstract void Noop(long n);
        protected abstract void Add(long n);
        protected abstract void Get(long n);
        protected abstract void Put(long n);
        protected abstract void GetBytes(long n, int size);
        protected abstract void Scan(long n);
        protected abstract void Batch(long n, int size);

        protected static void CheckAdd(int x, long n)
        {
            if (x != (int)n) throw new WrongAnswer("add: " + x + " != " + n);
        }

        // The kv_scan upcall shared by every mechanism that has one: a static method, so full AOT can
        // compile its native-to-managed wrapper ahead of time.
        protected static int scanN, scanBad;
        protected static readonly ScanFn OnRecordFn = OnRecord; // one delegate, alive for the process

        [MonoPInvokeCallback(typeof(ScanFn))]
        protected static int OnRecord(IntPtr key, UIntPtr keyLen, IntPtr val, UIntPtr valLen, IntPtr payload)
        {
            scanN++;
            if ((ulong)keyLen != Data.KeyLen || (ulong)valLen != Data.ValLen) scanBad++;
            return 0;
        }

        protected static void CheckScan(ulong count)
        {
            if (scanN != Data.ScanRecords || count != Data.ScanRecords || scanBad != 0)
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
        public override string Name => "dllimport";
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
            Data.Check(rc, "kv_txn_commit");
        }

        protected override void Noop(long n) { for (long i = 0; i < n; i++) Native.kv_noop(); }

        protected override void Add(long n)
        {
            int x = 0;
            for (long i = 0; i < n; i++) x = Native.kv_add(x, 1);
            CheckAdd(x, n);
        }

        protected override void Get(long n)
        {
            byte* buf = stackalloc byte[Data.ValLen];
            UIntPtr len;
            uint i = (uint)chain;
            fixed (byte* keys = Data.KeyBytes)
                for (long k = 0; k < n; k++)
                {
                    int rc = Native.kv_get(txn, keys + i * Data.KeyLen, (UIntPtr)Data.KeyLen, buf, (UIntPtr)Data.ValLen, &len);
                    if (rc != 0) Data.Check(rc, "kv_get");
                    if ((ulong)len != Data.ValLen || Data.U32(buf + 4) != i) throw new WrongAnswer("get: key " + i);
                    i = Data.U32(buf);
                }
            chain = i;
        }

        protected override void Put(long n)
        {
            byte* val = stackalloc byte[Data.ValLen];
            for (int b = 0; b < Data.ValLen; b++) val[b] = 0x5a;
            fixed (byte* keys = Data.PutKeyBytes)
                for (long k = 0; k < n; k++)
                {
                    Data.Check(Native.kv_put(txn, keys + (done % Data.PutKeys) * Data.KeyLen, (UIntPtr)Data.KeyLen, val, (UIntPtr)Data.ValLen), "kv_put");
                    if (++done % Data.PutEvery == 0) { End(true); Begin(true); } // commit every 100 (no-sync)
                }
        }

        protected override void GetBytes(long n, int size)
        {
            byte[] key = Data.BytesKey(size), buf = new byte[size];
            UIntPtr len;
            fixed (byte* kp = key) fixed (byte* bp = buf)
                for (long k = 0; k < n; k++)
                {
                    Data.Check(Native.kv_get(txn, kp, (UIntPtr)key.Length, bp, (UIntPtr)size, &len), "kv_get");
                    if ((ulong)len != (ulong)size) throw new WrongAnswer("get bytes:" + size);
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

        protected override void Batch(long n, int size)
        {
            byte[] buf = new byte[size * Data.ValLen], keys = new byte[size * Data.KeyLen];
            UIntPtr[] keyLens = new UIntPtr[size], valLens = new UIntPtr[size];
            for (int i = 0; i < size; i++) keyLens[i] = (UIntPtr)Data.KeyLen;
            UIntPtr found;
            fixed (byte* bp = buf) fixed (byte* kp = keys) fixed (UIntPtr* kl = keyLens) fixed (UIntPtr* vl = valLens)
                for (long k = 0; k < n; k++)
                {
                    int start = (int)(chain % Data.Keys);
                    chain += size;
                    Buffer.BlockCopy(Data.OrderPacked, start * Data.KeyLen, keys, 0, size * Data.KeyLen); // the C suite's memcpy
                    Data.Check(Native.kv_get_batch(txn, (UIntPtr)size, kp, kl, bp, (UIntPtr)buf.Length, vl, &found), "kv_get_batch");
                    if ((ulong)found != (ulong)size || Data.U32(bp + 4) != Data.Order[start]) throw new WrongAnswer("batch/n:" + size);
                }
        }
    }

    // ---- dllimport-marshaled: byte[] and string parameters ----------------------------------------------
    class MarshaledMech : Direct
    {
        public override string Name => "dllimport-marshaled";
        public MarshaledMech(string path) : base(path) { }

        protected override void Get(long n)
        {
            byte[] buf = new byte[Data.ValLen];
            UIntPtr len;
            uint i = (uint)chain;
            for (long k = 0; k < n; k++)
            {
                Data.Check(Marshaled.kv_get(txn, Data.KeyStrings[i], (UIntPtr)Data.KeyLen, buf, (UIntPtr)Data.ValLen, out len), "kv_get");
                if ((ulong)len != Data.ValLen || Data.U32(buf, 4) != i) throw new WrongAnswer("get: key " + i);
                i = Data.U32(buf, 0);
            }
            chain = i;
        }

        protected override void Put(long n)
        {
            byte[] val = new byte[Data.ValLen];
            for (int b = 0; b < Data.ValLen; b++) val[b] = 0x5a;
            for (long k = 0; k < n; k++)
            {
                Data.Check(Marshaled.kv_put(txn, Data.PutKeyStrings[done % Data.PutKeys], (UIntPtr)Data.KeyLen, val, (UIntPtr)Data.ValLen), "kv_put");
                if (++done % Data.PutEvery == 0) { End(true); Begin(true); }
            }
        }

        protected override void GetBytes(long n, int size)
        {
            string key = "bytes:" + size;
            byte[] buf = new byte[size];
            UIntPtr len;
            for (long k = 0; k < n; k++)
            {
                Data.Check(Marshaled.kv_get(txn, key, (UIntPtr)key.Length, buf, (UIntPtr)size, out len), "kv_get");
                if ((ulong)len != (ulong)size) throw new WrongAnswer("get bytes:" + size);
            }
        }

        protected override void Scan(long n)
        {
            UIntPtr count;
            string lo = Data.KeyStrings[0], hi = Data.KeyStrings[Data.ScanRecords];
            for (long k = 0; k < n; k++)
            {
                scanN = scanBad = 0;
                Data.Check(Marshaled.kv_scan(txn, lo, (UIntPtr)Data.KeyLen, hi, (UIntPtr)Data.KeyLen, OnRecordFn, IntPtr.Zero, out count), "kv_scan");
                CheckScan((ulong)count);
            }
        }

        protected override void Batch(long n, int size)
        {
            byte[] buf = new byte[size * Data.ValLen], keys = new byte[size * Data.KeyLen];
            UIntPtr[] keyLens = new UIntPtr[size], valLens = new UIntPtr[size];
            for (int i = 0; i < size; i++) keyLens[i] = (UIntPtr)Data.KeyLen;
            UIntPtr found;
            for (long k = 0; k < n; k++)
            {
                int start = (int)(chain % Data.Keys);
                chain += size;
                Buffer.BlockCopy(Data.OrderPacked, start * Data.KeyLen, keys, 0, size * Data.KeyLen);
                Data.Check(Marshaled.kv_get_batch(txn, (UIntPtr)size, keys, keyLens, buf, (UIntPtr)buf.Length, valLens, out found), "kv_get_batch");
                if ((ulong)found != (ulong)size || Data.U32(buf, 4) != Data.Order[start]) throw new WrongAnswer("batch/n:" + size);
            }
        }
    }

    // ---- handle: kv_handle.h, blittable --------------------------------------------------------------
    unsafe class HandleMech : Mechanism
    {
        public override string Name => "handle";
        ulong env, txn;

        public HandleMech(string path)
        {
            var o = KvOptions.NoSync();
            fixed (byte* p = Encoding.UTF8.GetBytes(path + "\0"))
                Data.Check(Handles.kvh_env_open(out env, p, ref o), "kvh_env_open");
        }

        public override void Close() => Handles.kvh_env_close(env);
        protected override void Begin(bool write) => Data.Check(Handles.kvh_txn_begin(out txn, env, write ? 1u : 0u), "kvh_txn_begin");
        protected override void End(bool commit) => Data.Check(commit ? Handles.kvh_txn_commit(txn) : Handles.kvh_txn_abort(txn), "kvh_txn_commit");

        protected override void Noop(long n) { for (long i = 0; i < n; i++) Handles.kvh_noop(env); }

        protected override void Add(long n)
        {
            int x = 0;
            for (long i = 0; i < n; i++) Handles.kvh_add(env, x, 1, &x);
            CheckAdd(x, n);
        }

        protected override void Get(long n)
        {
            byte* buf = stackalloc byte[Data.ValLen];
            UIntPtr len;
            uint i = (uint)chain;
            fixed (byte* keys = Data.KeyBytes)
                for (long k = 0; k < n; k++)
                {
                    int rc = Handles.kvh_get(txn, keys + i * Data.KeyLen, (UIntPtr)Data.KeyLen, buf, (UIntPtr)Data.ValLen, &len);
                    if (rc != 0) Data.Check(rc, "kvh_get");
                    if ((ulong)len != Data.ValLen || Data.U32(buf + 4) != i) throw new WrongAnswer("get: key " + i);
                    i = Data.U32(buf);
                }
            chain = i;
        }

        protected override void Put(long n)
        {
            byte* val = stackalloc byte[Data.ValLen];
            for (int b = 0; b < Data.ValLen; b++) val[b] = 0x5a;
            fixed (byte* keys = Data.PutKeyBytes)
                for (long k = 0; k < n; k++)
                {
                    Data.Check(Handles.kvh_put(txn, keys + (done % Data.PutKeys) * Data.KeyLen, (UIntPtr)Data.KeyLen, val, (UIntPtr)Data.ValLen), "kvh_put");
                    if (++done % Data.PutEvery == 0) { End(true); Begin(true); }
                }
        }

        protected override void GetBytes(long n, int size)
        {
            byte[] key = Data.BytesKey(size), buf = new byte[size];
            UIntPtr len;
            fixed (byte* kp = key) fixed (byte* bp = buf)
                for (long k = 0; k < n; k++)
                {
                    Data.Check(Handles.kvh_get(txn, kp, (UIntPtr)key.Length, bp, (UIntPtr)size, &len), "kvh_get");
                    if ((ulong)len != (ulong)size) throw new WrongAnswer("get bytes:" + size);
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

        protected override void Batch(long n, int size)
        {
            byte[] buf = new byte[size * Data.ValLen], keys = new byte[size * Data.KeyLen];
            UIntPtr[] keyLens = new UIntPtr[size], valLens = new UIntPtr[size];
            for (int i = 0; i < size; i++) keyLens[i] = (UIntPtr)Data.KeyLen;
            UIntPtr found;
            fixed (byte* bp = buf) fixed (byte* kp = keys) fixed (UIntPtr* kl = keyLens) fixed (UIntPtr* vl = valLens)
                for (long k = 0; k < n; k++)
                {
                    int start = (int)(chain % Data.Keys);
                    chain += size;
                    Buffer.BlockCopy(Data.OrderPacked, start * Data.KeyLen, keys, 0, size * Data.KeyLen);
                    Data.Check(Handles.kvh_get_batch(txn, (UIntPtr)size, kp, kl, bp, (UIntPtr)buf.Length, vl, &found), "kvh_get_batch");
                    if ((ulong)found != (ulong)size || Data.U32(bp + 4) != Data.Order[start]) throw new WrongAnswer("batch/n:" + size);
                }
        }
    }

    // ---- marshal: kv_marshal.h; requests written byte by byte, little-endian (PROTOCOL.md) ----------
    // The marshal ABI has no callbacks: SCAN streams the records into one response, and the C#
    // callback runs per record while decoding it (the same upcall, on this side of the wire).
    unsafe class MarshalMech : Mechanism
    {
        public override string Name => "marshal";
        const byte V = 1, NOOP = 0x00, ADD = 0x01, ENV_OPEN = 0x10, ENV_CLOSE = 0x11, TXN_BEGIN = 0x20,
                   TXN_COMMIT = 0x21, PUT = 0x30, GET = 0x31, GET_BATCH = 0x33, SCAN = 0x34;
        ulong env, txn;
        readonly byte[] req = new byte[64], resp = new byte[64];

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

        protected override void End(bool commit) => Simple(commit ? TXN_COMMIT : (byte)0x22, txn, "TXN_COMMIT");

        protected override void Noop(long n)
        {
            byte* rq = stackalloc byte[2];
            byte* rs = stackalloc byte[4];
            UIntPtr len;
            rq[0] = V; rq[1] = NOOP;
            for (long i = 0; i < n; i++) Wire.kvm_call(rq, (UIntPtr)2, rs, (UIntPtr)4, &len);
        }

        protected override void Add(long n)
        {
            byte* rq = stackalloc byte[10];
            byte* rs = stackalloc byte[8];
            UIntPtr len;
            int x = 0;
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

        protected override void Get(long n)
        {
            byte* rq = stackalloc byte[14 + Data.KeyLen];
            byte* rs = stackalloc byte[8 + Data.ValLen];
            rq[0] = V; rq[1] = GET;
            Data.PutU64(rq + 2, txn);
            Data.PutU32(rq + 10, Data.KeyLen);
            uint i = (uint)chain;
            fixed (byte* keys = Data.KeyBytes)
                for (long k = 0; k < n; k++)
                {
                    Buffer.MemoryCopy(keys + i * Data.KeyLen, rq + 14, Data.KeyLen, Data.KeyLen);
                    Call(rq, 14 + Data.KeyLen, rs, 8 + Data.ValLen, "GET");
                    if (Data.U32(rs + 4) != Data.ValLen || Data.U32(rs + 12) != i) throw new WrongAnswer("get: key " + i);
                    i = Data.U32(rs + 8);
                }
            chain = i;
        }

        protected override void Put(long n)
        {
            const int len = 18 + Data.KeyLen + Data.ValLen;
            byte* rq = stackalloc byte[len];
            byte* rs = stackalloc byte[4];
            rq[0] = V; rq[1] = PUT;
            Data.PutU32(rq + 10, Data.KeyLen);
            Data.PutU32(rq + 14 + Data.KeyLen, Data.ValLen);
            for (int b = 0; b < Data.ValLen; b++) rq[18 + Data.KeyLen + b] = 0x5a;
            fixed (byte* keys = Data.PutKeyBytes)
                for (long k = 0; k < n; k++)
                {
                    Data.PutU64(rq + 2, txn); // the transaction changes every 100 puts
                    Buffer.MemoryCopy(keys + (done % Data.PutKeys) * Data.KeyLen, rq + 14, Data.KeyLen, Data.KeyLen);
                    Call(rq, len, rs, 4, "PUT");
                    if (++done % Data.PutEvery == 0) { End(true); Begin(true); }
                }
        }

        protected override void GetBytes(long n, int size)
        {
            byte[] key = Data.BytesKey(size), r = new byte[14 + key.Length], s = new byte[8 + size];
            fixed (byte* rq = r) fixed (byte* rs = s)
            {
                rq[0] = V; rq[1] = GET;
                Data.PutU64(rq + 2, txn);
                Data.PutU32(rq + 10, (uint)key.Length);
                Marshal.Copy(key, 0, (IntPtr)(rq + 14), key.Length);
                for (long k = 0; k < n; k++)
                {
                    Call(rq, r.Length, rs, s.Length, "GET");
                    if (Data.U32(rs + 4) != (uint)size) throw new WrongAnswer("get bytes:" + size);
                }
            }
        }

        protected override void Scan(long n)
        {
            int rlen = 10 + 2 * (5 + Data.KeyLen), cap = 8 + Data.ScanRecords * (8 + Data.KeyLen + Data.ValLen);
            byte[] r = new byte[rlen], s = new byte[cap];
            fixed (byte* rq = r) fixed (byte* rs = s) fixed (byte* keys = Data.KeyBytes)
            {
                rq[0] = V; rq[1] = SCAN;
                Data.PutU64(rq + 2, txn);
                rq[10] = 1; Data.PutU32(rq + 11, Data.KeyLen); Buffer.MemoryCopy(keys, rq + 15, Data.KeyLen, Data.KeyLen);
                byte* hi = rq + 15 + Data.KeyLen;
                hi[0] = 1; Data.PutU32(hi + 1, Data.KeyLen);
                Buffer.MemoryCopy(keys + Data.ScanRecords * Data.KeyLen, hi + 5, Data.KeyLen, Data.KeyLen);
                for (long k = 0; k < n; k++)
                {
                    int got = Call(rq, rlen, rs, cap, "SCAN");
                    scanN = scanBad = 0;
                    uint count = Data.U32(rs + 4);
                    byte* p = rs + 8;
                    for (uint c = 0; c < count; c++)
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

        protected override void Batch(long n, int size)
        {
            int head = 14 + 4 * size, rlen = head + size * Data.KeyLen, cap = 12 + 5 * size + size * Data.ValLen;
            byte[] r = new byte[rlen], s = new byte[cap];
            fixed (byte* rq = r) fixed (byte* rs = s) fixed (byte* packed = Data.OrderPacked)
            {
                rq[0] = V; rq[1] = GET_BATCH;
                Data.PutU64(rq + 2, txn);
                Data.PutU32(rq + 10, (uint)size);
                for (int i = 0; i < size; i++) Data.PutU32(rq + 14 + 4 * i, Data.KeyLen);
                for (long k = 0; k < n; k++)
                {
                    int start = (int)(chain % Data.Keys);
                    chain += size;
                    Buffer.MemoryCopy(packed + start * Data.KeyLen, rq + head, size * Data.KeyLen, size * Data.KeyLen);
                    Call(rq, rlen, rs, cap, "GET_BATCH");
                    if (Data.U32(rs + 8) != (uint)size || Data.U32(rs + 12 + 5 * size + 4) != Data.Order[start])
                        throw new WrongAnswer("batch/n:" + size);
                }
            }
        }
    }
}
