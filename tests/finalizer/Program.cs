// The finalizer test: what a garbage-collected binding does with libkv's handle ABI when its user
// forgets Dispose. Every engine object is a SafeHandle whose ReleaseHandle calls kvh_release; the
// objects are made by three threads — one that exits before the collection, the main thread, and
// one that is alive and idle during it — and dropped; a forced collection then runs the finalizers on
// the runtime's finalizer thread. Checked: every handle is released there without an error, no
// handle is left live, and the environment closes: at once as far as the dead and the main thread's
// objects go, and once the living thread that owns the last write transaction exits (only that
// thread can end it: kv.h, RELEASING FROM ANY THREAD). Run under CoreCLR and NativeAOT by ./run.
//
// Usage: kv-finalizer-test DB_PATH   (KV_LIBRARY names libkv.so)
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

static unsafe class Native
{
    public const int KV_OK = 0, KV_E_NOT_FOUND = -4, KV_E_BUSY = -10, KV_E_BAD_HANDLE = -16;

    [DllImport("kv")] public static extern int kvh_env_open(ulong* env, byte* path, void* opts);
    [DllImport("kv")] public static extern int kvh_env_close(ulong env);
    [DllImport("kv")] public static extern int kvh_txn_begin(ulong* txn, ulong env, uint flags);
    [DllImport("kv")] public static extern int kvh_put(ulong txn, byte* key, nuint klen, byte* val, nuint vlen);
    [DllImport("kv")] public static extern int kvh_get(ulong txn, byte* key, nuint klen, byte* buf, nuint cap, nuint* len);
    [DllImport("kv")] public static extern int kvh_cursor_open(ulong* cur, ulong txn, byte* start, nuint len);
    [DllImport("kv")] public static extern int kvh_type(ulong h);
    [DllImport("kv")] public static extern int kvh_release(ulong h);
    [DllImport("kv")] public static extern uint kvh_live_count();
    [DllImport("kv")] public static extern nuint kv_last_error_r(byte* buf, nuint cap);

    public static string LastError()
    {
        byte* buf = stackalloc byte[512];
        kv_last_error_r(buf, 512);
        return Marshal.PtrToStringUTF8((IntPtr)buf) ?? "";
    }
}

static class Stats
{
    public static int Released, Failed, OnCreatorThread;
    public static readonly HashSet<Thread> CreatorThreads = new(); // by reference: ids are reused
}

// One engine object, released by its finalizer if no one disposes it.
sealed class KvHandle : SafeHandle
{
    public KvHandle(ulong h) : base(IntPtr.Zero, ownsHandle: true) => SetHandle((IntPtr)(long)h);

    public override bool IsInvalid => handle == IntPtr.Zero;
    public ulong Value => (ulong)(long)handle;

    protected override bool ReleaseHandle()
    {
        int rc = Native.kvh_release(Value);
        Interlocked.Increment(ref Stats.Released);
        lock (Stats.CreatorThreads)
            if (Stats.CreatorThreads.Contains(Thread.CurrentThread))
                Interlocked.Increment(ref Stats.OnCreatorThread);
        if (rc != Native.KV_OK)
        {
            Interlocked.Increment(ref Stats.Failed);
            Console.Error.WriteLine($"  kvh_release(0x{Value:x16}) = {rc}: {Native.LastError()}");
        }
        return rc == Native.KV_OK;
    }
}

static unsafe class Program
{
    static int passed, failed;

    static void Check(bool ok, string what)
    {
        Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {what}");
        if (ok) passed++; else failed++;
    }

    static ulong Call(string what, Func<ulong> make)
    {
        ulong h = make();
        if (h == 0) throw new InvalidOperationException($"{what} failed: {Native.LastError()}");
        return h;
    }

    static ulong OpenEnv(string path, out int rc)
    {
        byte[] p = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        ulong env = 0;
        fixed (byte* pp = p) rc = Native.kvh_env_open(&env, pp, null);
        return env;
    }

    static ulong Begin(ulong env, uint flags) =>
        Call("kvh_txn_begin", () => { ulong t; return Native.kvh_txn_begin(&t, env, flags) == 0 ? t : 0; });

    static ulong Cursor(ulong txn) =>
        Call("kvh_cursor_open", () => { ulong c; return Native.kvh_cursor_open(&c, txn, null, 0) == 0 ? c : 0; });

    static void Put(ulong txn, string k)
    {
        byte* key = stackalloc byte[64];
        int n = System.Text.Encoding.ASCII.GetBytes(k, new Span<byte>(key, 64));
        if (Native.kvh_put(txn, key, (nuint)n, key, (nuint)n) != 0)
            throw new InvalidOperationException($"kvh_put: {Native.LastError()}");
    }

    // Makes every object and drops it; returns only the raw values, so nothing keeps a SafeHandle
    // reachable (the threads' closures capture raw values only). Not inlined, so no local of this
    // frame outlives the call.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static ulong[] MakeAndDrop(string path, Action<Action> runOnIdleOwner)
    {
        var raw = new ulong[7];
        raw[0] = OpenEnv(path, out int rc);
        if (rc != 0) throw new InvalidOperationException($"kvh_env_open: {Native.LastError()}");
        ulong env = raw[0];
        void Creator() { lock (Stats.CreatorThreads) Stats.CreatorThreads.Add(Thread.CurrentThread); }
        // A thread that makes a write transaction, a read transaction and a cursor, and exits.
        var exiting = new Thread(() =>
        {
            Creator();
            raw[1] = Begin(env, 1);
            Put(raw[1], "from-exited-thread");
            raw[2] = Begin(env, 0);
            raw[3] = Cursor(raw[2]);
        });
        exiting.Start();
        exiting.Join();
        // The main thread: a read transaction and a cursor (the owner lives on, idle).
        Creator();
        raw[4] = Begin(env, 0);
        raw[5] = Cursor(raw[4]);
        // The idle thread: a write transaction, which holds LMDB's write lock until its thread ends it.
        runOnIdleOwner(() =>
        {
            Creator();
            raw[6] = Begin(env, 1);
            Put(raw[6], "from-idle-thread");
        });
        var handles = raw.Select(v => new KvHandle(v)).ToList(); // dropped at the return
        return handles.Select(h => h.Value).ToArray();
    }

    static int Main(string[] args)
    {
        if (args.Length != 1) { Console.Error.WriteLine("usage: kv-finalizer-test DB_PATH"); return 2; }
        string lib = Environment.GetEnvironmentVariable("KV_LIBRARY") ?? "libkv.so";
        NativeLibrary.SetDllImportResolver(typeof(Program).Assembly,
            (name, asm, search) => name == "kv" ? NativeLibrary.Load(lib) : IntPtr.Zero);
        string path = args[0];

        // The idle owner: runs what it is given, then waits until told to exit.
        var work = new BlockingCollection<Action?>();
        var idle = new Thread(() =>
        {
            while (work.Take() is Action a) a();
        });
        idle.Start();
        void RunOnIdle(Action a) { using var done = new ManualResetEventSlim(); work.Add(() => { a(); done.Set(); }); done.Wait(); }

        ulong[] handles = MakeAndDrop(path, RunOnIdle);
        Check(handles.Length == 7 && Native.kvh_live_count() == 7, $"7 handles made by 3 threads ({Native.kvh_live_count()} live)");

        for (int i = 0; i < 3; i++) { GC.Collect(); GC.WaitForPendingFinalizers(); }

        Check(Stats.Released == 7, $"every SafeHandle was finalized: ReleaseHandle ran {Stats.Released} times");
        Check(Stats.Failed == 0, $"kvh_release never failed ({Stats.Failed} failures)");
        Check(Stats.OnCreatorThread == 0, $"every release ran on the finalizer thread ({Stats.OnCreatorThread} did not)");
        Check(Native.kvh_live_count() == 0, $"no handle is live ({Native.kvh_live_count()})");
        Check(handles.All(h => Native.kvh_type(h) == Native.KV_E_BAD_HANDLE), "every old handle is dead (KV_E_BAD_HANDLE)");
        // The idle thread still holds its released write transaction: the environment is a zombie.
        ulong again = OpenEnv(path, out int rcOpen);
        Check(rcOpen == Native.KV_E_BUSY, $"while the idle owner lives, the path is still open (kvh_env_open: {rcOpen})");
        if (rcOpen == 0) Native.kvh_env_close(again);

        work.Add(null); // the idle owner exits: its exit ends the write transaction, the last object
        idle.Join();
        // Thread.Join returns when the managed thread is done, which can be before its OS thread has
        // run its exit hooks (libkv's among them): give the OS thread a moment to finish exiting.
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while ((again = OpenEnv(path, out rcOpen)) == 0 && rcOpen == Native.KV_E_BUSY && sw.ElapsedMilliseconds < 10000)
            Thread.Sleep(5);
        Check(rcOpen == Native.KV_OK, $"after it exits, the environment has closed: kvh_env_open again gives {rcOpen}");
        if (rcOpen == 0)
        {
            ulong t = Begin(again, 0);
            int missing = 0;
            foreach (string k in new[] { "from-exited-thread", "from-idle-thread" })
            {
                byte[] kb = System.Text.Encoding.ASCII.GetBytes(k);
                nuint len = 0;
                fixed (byte* kp = kb) if (Native.kvh_get(t, kp, (nuint)kb.Length, null, 0, &len) == Native.KV_E_NOT_FOUND) missing++;
            }
            Check(missing == 2, "nothing of the dropped write transactions was committed");
            Check(Native.kvh_release(t) == 0 && Native.kvh_env_close(again) == 0, "reopened and closed cleanly");
        }
        Console.WriteLine($"{passed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }
}
