// pair.mjs — the /threads:2 benchmarks: the same loop on two OS threads at once, each a Worker of
// the engine (Node's worker_threads, Deno's and Bun's Web Workers) with its own isolate, its own
// binding of libkv and its own read transaction (a read transaction belongs to its thread), all on
// the one environment the main thread opened (LMDB: one open of a file per process), whose address
// each thread gets as a BigInt.
//
// Synchronised through a SharedArrayBuffer with Atomics.wait/notify: the threads are started, set
// up and waiting before the clock is read; a run writes the iteration count, reads the wall clock
// and releases both with one notify; each thread reads its own CPU clock around its loop and the
// wall clock at its end; the main thread sleeps in Atomics.wait until both are done. WALL is from
// just before the release to the later thread's end, CPU the sum of both threads' CPU time
// (bench/runtimes/README.md). The main thread runs no loop: both loops run in the same kind of
// isolate, made the same way, and the main thread sleeps instead of taking one of the CPUs.
import { loadAbi, loops, tables } from "./common.mjs";

// The shared block: Int32 words, then BigInt64 words, then each thread's error message.
const GEN = 0; // the main thread's command number: a thread runs each new one once
const CMD = 1; // RUN or STOP
const ACK = 2; // ACK + k: the commands thread k has finished (setup is the first); DEAD once it left
const ERR_LEN = 4; // ERR_LEN + k: the length of thread k's error message (0: none)
const RUN = 1, STOP = 2, DEAD = 0x3fffffff;
const I64_AT = 32; // BigInt64 words: [iterations, then per thread: its end (wall ns), its CPU ns]
const N = 0, END = (k) => 1 + 2 * k, CPU = (k) => 2 + 2 * k;
const ERR_AT = 80, ERR_MAX = 1024, BYTES = ERR_AT + 2 * ERR_MAX;
const SETUP_TIMEOUT_MS = 120000; // a thread that has not set up by then never started

const THREAD_URL = new URL("./thread.mjs", import.meta.url);

function views(sab) {
  return [new Int32Array(sab, 0, I64_AT / 4), new BigInt64Array(sab, I64_AT, 5), new Uint8Array(sab, ERR_AT)];
}

/** The main thread's side. engine: the worker's engine (engine.spawn(url, data) starts a Worker
 *  running url with data, engine.clock.wall() reads the monotonic clock); b: the mechanism's open
 *  binding, whose environment the threads use (b.envAddress()). */
export class Pair {
  constructor(engine, mech, b, method, param) {
    this.wall = engine.clock.wall;
    this.sab = new SharedArrayBuffer(BYTES);
    [this.i32, this.i64, this.err] = views(this.sab);
    this.acks = [0, 0];
    const data = { sab: this.sab, mech, method, param, env: b.envAddress() };
    this.workers = [0, 1].map((slot) => engine.spawn(THREAD_URL, { ...data, slot }));
    this.live = true;
    try {
      this.expect(SETUP_TIMEOUT_MS, "set up");
    } catch (e) {
      this.stop();
      throw e;
    }
  }

  /** Waits until each thread has finished one more command; throws what a thread failed with. */
  expect(timeout, what) {
    const i32 = this.i32, failed = [];
    for (let k = 0; k < 2; k++) {
      const want = ++this.acks[k];
      let a;
      while ((a = Atomics.load(i32, ACK + k)) < want) {
        if (Atomics.wait(i32, ACK + k, a, timeout) === "timed-out") throw new Error(`thread ${k} did not ${what} in ${timeout} ms`);
      }
      if (a === DEAD) failed.push(`thread ${k}: ${this.error(k) || "left"}`);
    }
    if (failed.length) throw new Error(failed.join("; "));
  }

  error(k) {
    const n = Atomics.load(this.i32, ERR_LEN + k);
    return n ? new TextDecoder().decode(this.err.slice(k * ERR_MAX, k * ERR_MAX + n)) : "";
  }

  command(cmd) {
    Atomics.store(this.i32, CMD, cmd);
    Atomics.add(this.i32, GEN, 1);
    Atomics.notify(this.i32, GEN);
  }

  /** One run: both threads make n iterations; [WALL, CPU] in ns (BigInts). */
  run(n) {
    const i64 = this.i64;
    i64[N] = BigInt(n);
    const t0 = this.wall();
    this.command(RUN); // the release
    this.expect(Infinity, "finish its run"); // the driver's timeout bounds a run
    const end = i64[END(0)] > i64[END(1)] ? i64[END(0)] : i64[END(1)];
    return [end - t0, i64[CPU(0)] + i64[CPU(1)]];
  }

  /** Ends both threads' transactions (each in its thread), then the Workers. */
  stop() {
    if (!this.live) return;
    this.live = false;
    this.command(STOP);
    for (let k = 0; k < 2; k++) {
      let a;
      while ((a = Atomics.load(this.i32, ACK + k)) !== DEAD) {
        if (Atomics.wait(this.i32, ACK + k, a, SETUP_TIMEOUT_MS) === "timed-out") break;
      }
    }
    for (const w of this.workers) w.terminate();
  }
}

/** A thread's side (thread.mjs): loadEngine() -> its engine (its own binding module, loaded in
 *  this thread); data: Pair's. Sets up, then runs each command the main thread gives until STOP. */
export async function threadMain(loadEngine, { sab, slot, mech, method, param, env }) {
  const [i32, i64, err] = views(sab);
  let b = null;
  try {
    const engine = await loadEngine(), abi = loadAbi();
    const { wall, cpu } = engine.clock, loop = loops[method];
    tables();
    b = engine.mechanisms[mech].attach(env, abi);
    b.setup(method); // this thread's own transaction
    let gen = Atomics.load(i32, GEN), done = 1;
    Atomics.store(i32, ACK + slot, done);
    Atomics.notify(i32, ACK + slot);
    for (;;) {
      while (Atomics.load(i32, GEN) === gen) Atomics.wait(i32, GEN, gen);
      gen = Atomics.load(i32, GEN);
      if (Atomics.load(i32, CMD) === STOP) break;
      const n = Number(i64[N]);
      const c0 = cpu();
      loop(b, n, param);
      const t1 = wall(), c1 = cpu();
      i64[END(slot)] = t1;
      i64[CPU(slot)] = c1 - c0;
      Atomics.store(i32, ACK + slot, ++done);
      Atomics.notify(i32, ACK + slot);
    }
  } catch (e) {
    const msg = new TextEncoder().encode(`${e?.name ?? "Error"}: ${e?.message ?? e}`.replace(/[\n\t]/g, " "));
    const n = Math.min(msg.length, ERR_MAX);
    err.set(msg.subarray(0, n), slot * ERR_MAX);
    Atomics.store(i32, ERR_LEN + slot, n);
  } finally {
    try {
      if (b) b.teardown(); // in the thread that began the transaction
    } finally {
      Atomics.store(i32, ACK + slot, DEAD);
      Atomics.notify(i32, ACK + slot);
    }
  }
}
