//! The workload loops (the Rust counterpart of bench/loops.h), generic over the mechanism: each
//! monomorphised `State<M>` loop holds M's call site and nothing else but the answer checks.
//! Setup and teardown mirror bench/workloads.c (wl_setup_*): untimed, done once per benchmark.
//!
//! Inputs the compiler could otherwise see through (the environment, the constant operand) go
//! through `black_box` before the loop, results after it; the calls themselves are opaque foreign
//! calls, which no optimisation (LTO included: libkv is C, compiled by gcc) can remove or merge.
use crate::abi::*;
use crate::data::{get32, DataRef};
use crate::ffi::kv_options;
use crate::mech::{Mech, Obj};
use std::ffi::CStr;
use std::hint::black_box;

/// A loop's answer was not the one the data set implies (workloads.h's WL_WRONG_ANSWER).
pub const WRONG_ANSWER: i32 = 1000;

/// The loops (workloads.h's wl_loop_id, less spin and the cursor scan).
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Wl {
    Control = 0,
    Noop,
    AddLatency,
    AddThroughput,
    GetLatency,
    GetThroughput,
    GetMiss,
    Bytes,
    Put,
    ScanUpcall,
    Batch,
}

impl Wl {
    pub fn from_u32(v: u32) -> Option<Wl> {
        use Wl::*;
        [Control, Noop, AddLatency, AddThroughput, GetLatency, GetThroughput, GetMiss, Bytes, Put, ScanUpcall, Batch]
            .get(v as usize)
            .copied()
    }
}

/// The options every benchmark opens its copy with (workloads.c's wl_env_options).
pub fn env_options() -> kv_options {
    kv_options { version: KV_OPTIONS_VERSION, flags: 0, map_size: 1 << 30, durability: KV_DURABLE_NOSYNC, reserved: 0 }
}

/// Opens the environment of one mechanism (on its own copy of base.kv).
pub fn open_env<M: Mech>(m: &M, path: &CStr) -> Result<Obj, i32> {
    let mut env = 0;
    match m.env_open(path, &env_options(), &mut env) {
        KV_OK => Ok(env),
        rc => Err(rc),
    }
}

/// One benchmark's state in one thread, from its setup to its teardown (Drop).
pub struct State<M: Mech> {
    m: M,
    d: &'static DataRef,
    wl: Wl,
    env: Obj,
    txn: Obj,
    param: usize,
    chain: u64,
    done: u64,
    buf: Vec<u8>,
    keys: Vec<u8>,
    key_lens: Vec<usize>,
    val_lens: Vec<usize>,
}

impl<M: Mech> State<M> {
    /// The workload's setup: its transaction (read, or write for put) and buffers.
    pub fn setup(m: M, d: &'static DataRef, env: Obj, wl: Wl, param: usize) -> Result<State<M>, i32> {
        let mut s = State { m, d, wl, env, txn: 0, param, chain: 0, done: 0, buf: Vec::new(), keys: Vec::new(),
                            key_lens: Vec::new(), val_lens: Vec::new() };
        let (flags, cap) = match wl {
            Wl::Control | Wl::Noop | Wl::AddLatency | Wl::AddThroughput => return Ok(s),
            Wl::GetLatency | Wl::GetThroughput | Wl::GetMiss => (KV_TXN_READ, d.val_len),
            Wl::Bytes => {
                s.keys = format!("bytes:{param}").into_bytes(); // dataset.c's wl_bytes_key
                (KV_TXN_READ, param)
            }
            Wl::Put => {
                if param == 0 {
                    return Err(KV_E_INVALID);
                }
                (KV_TXN_WRITE, d.val_len)
            }
            Wl::ScanUpcall => (KV_TXN_READ, 2 * d.val_len),
            Wl::Batch => {
                s.keys = vec![0; param * d.key_len];
                s.key_lens = vec![d.key_len; param];
                s.val_lens = vec![0; param];
                (KV_TXN_READ, param * d.val_len)
            }
        };
        s.buf = vec![0; cap];
        match m.txn_begin(env, flags, &mut s.txn) {
            KV_OK => Ok(s),
            rc => {
                s.txn = 0;
                Err(rc)
            }
        }
    }

    /// n iterations of the workload's loop: 0, a kv error, or WRONG_ANSWER.
    pub fn run(&mut self, n: u64) -> i32 {
        match self.wl {
            Wl::Control => control(n),
            Wl::Noop => self.noop(n),
            Wl::AddLatency => self.add_latency(n),
            Wl::AddThroughput => self.add_throughput(n),
            Wl::GetLatency => self.get_latency(n),
            Wl::GetThroughput => self.get_throughput(n),
            Wl::GetMiss => self.get_miss(n),
            Wl::Bytes => self.bytes(n),
            Wl::Put => self.put(n),
            Wl::ScanUpcall => self.scan_upcall(n),
            Wl::Batch => self.batch(n),
        }
    }

    #[inline(never)]
    fn noop(&mut self, n: u64) -> i32 {
        let (m, env) = (self.m, black_box(self.env));
        for _ in 0..n {
            m.noop(env);
        }
        0
    }

    /// Each call takes the previous result (a latency chain, carried across runs).
    #[inline(never)]
    fn add_latency(&mut self, n: u64) -> i32 {
        let (m, env, one) = (self.m, black_box(self.env), black_box(1));
        let mut x = self.chain as u32 as i32;
        for _ in 0..n {
            x = m.add(env, x, one);
        }
        let x = black_box(x);
        let want = self.chain.wrapping_add(n) as u32 as i32;
        self.chain = self.chain.wrapping_add(n);
        if x == want { 0 } else { WRONG_ANSWER }
    }

    /// Independent calls; the results are only summed.
    #[inline(never)]
    fn add_throughput(&mut self, n: u64) -> i32 {
        let (m, env, one) = (self.m, black_box(self.env), black_box(1));
        let mut acc = 0u32;
        for i in 0..n {
            acc = acc.wrapping_add(m.add(env, i as i32, one) as u32);
        }
        let acc = black_box(acc);
        // sum of (i + 1) for i < n, mod 2^32
        let want = ((n as u128 * (n as u128 + 1) / 2) & 0xffff_ffff) as u32;
        if acc == want { 0 } else { WRONG_ANSWER }
    }

    /// The next key comes out of the value just read.
    #[inline(never)]
    fn get_latency(&mut self, n: u64) -> i32 {
        let (m, txn, d, vl) = (self.m, self.txn, self.d, self.d.val_len);
        let buf = &mut self.buf[..];
        let mut i = self.chain as u32;
        for _ in 0..n {
            let mut len = 0usize;
            let rc = m.get(txn, d.key(i as usize), buf, &mut len);
            if rc != 0 {
                return rc;
            }
            if len != vl || get32(buf, 4) != i {
                return WRONG_ANSWER;
            }
            i = get32(buf, 0);
        }
        self.chain = i as u64;
        0
    }

    #[inline(never)]
    fn get_throughput(&mut self, n: u64) -> i32 {
        let (m, txn, d, vl) = (self.m, self.txn, self.d, self.d.val_len);
        let buf = &mut self.buf[..];
        let keys = d.n_keys as u64;
        let mut at = self.chain;
        for _ in 0..n {
            let i = d.order((at % keys) as usize);
            at += 1;
            let mut len = 0usize;
            let rc = m.get(txn, d.key(i as usize), buf, &mut len);
            if rc != 0 {
                return rc;
            }
            if len != vl || get32(buf, 4) != i {
                return WRONG_ANSWER;
            }
        }
        self.chain = at;
        0
    }

    #[inline(never)]
    fn get_miss(&mut self, n: u64) -> i32 {
        let (m, txn, d) = (self.m, self.txn, self.d);
        let buf = &mut self.buf[..];
        let misses = d.n_miss as u64;
        let mut at = self.chain;
        for _ in 0..n {
            let mut len = 0usize;
            let rc = m.get(txn, d.miss((at % misses) as usize), buf, &mut len);
            at += 1;
            if rc != KV_E_NOT_FOUND {
                return if rc != 0 { rc } else { WRONG_ANSWER };
            }
        }
        self.chain = at;
        0
    }

    /// get/bytes:N: the record of N bytes, again and again.
    #[inline(never)]
    fn bytes(&mut self, n: u64) -> i32 {
        let (m, txn, size) = (self.m, self.txn, self.param);
        let key = &self.keys[..];
        let buf = &mut self.buf[..];
        for _ in 0..n {
            let mut len = 0usize;
            let rc = m.get(txn, key, buf, &mut len);
            if rc != 0 {
                return rc;
            }
            if len != size {
                return WRONG_ANSWER;
            }
        }
        0
    }

    /// Commits every `param` puts (no-sync) and begins the next write transaction.
    #[inline(never)]
    fn put(&mut self, n: u64) -> i32 {
        let v = [0x5au8; 64];
        let v = &v[..self.d.val_len.min(64)];
        let (m, d, every, puts) = (self.m, self.d, self.param as u64, self.d.n_put as u64);
        for _ in 0..n {
            let rc = m.put(self.txn, d.put_key((self.done % puts) as usize), v);
            if rc != 0 {
                return rc;
            }
            self.done += 1;
            if self.done % every == 0 {
                let rc = m.txn_commit(self.txn);
                self.txn = 0;
                if rc != 0 {
                    return rc;
                }
                let rc = m.txn_begin(self.env, KV_TXN_WRITE, &mut self.txn);
                if rc != 0 {
                    self.txn = 0;
                    return rc;
                }
            }
        }
        0
    }

    /// kv_scan over the first scan_records keys, a Rust closure called per record (an upcall
    /// through an `extern "C" fn` trampoline) counting the records and checking their lengths.
    #[inline(never)]
    fn scan_upcall(&mut self, n: u64) -> i32 {
        let (m, txn, d) = (self.m, self.txn, self.d);
        let (kl, vl, records) = (d.key_len, d.val_len, d.scan_records);
        let (lo, hi) = (d.key(0), d.key(records));
        for _ in 0..n {
            let (mut seen, mut bad) = (0usize, 0usize);
            let mut count = 0usize;
            let mut cb = |k: &[u8], v: &[u8]| {
                bad += ((k.len() != kl) | (v.len() != vl)) as usize;
                seen += 1;
                0
            };
            let rc = m.scan(txn, lo, hi, &mut cb, &mut count);
            if rc != 0 {
                return rc;
            }
            if seen != records || count != records || bad != 0 {
                return WRONG_ANSWER;
            }
        }
        0
    }

    /// One get_batch of `param` keys in the throughput order per iteration.
    #[inline(never)]
    fn batch(&mut self, n: u64) -> i32 {
        let (m, txn, d, p) = (self.m, self.txn, self.d, self.param);
        let (kl, keys_n) = (d.key_len, d.n_keys as u64);
        for _ in 0..n {
            for i in 0..p {
                let idx = d.order(((self.chain + i as u64) % keys_n) as usize) as usize;
                self.keys[i * kl..(i + 1) * kl].copy_from_slice(d.key(idx));
            }
            self.chain += p as u64;
            let mut found = 0usize;
            let rc = m.get_batch(txn, p, &self.keys, &self.key_lens, &mut self.buf, &mut self.val_lens, &mut found);
            if rc != 0 {
                return rc;
            }
            let first = d.order(((self.chain - p as u64) % keys_n) as usize);
            if found != p || get32(&self.buf, 4) != first {
                return WRONG_ANSWER;
            }
        }
        0
    }
}

impl<M: Mech> Drop for State<M> {
    /// Teardown: put commits what it wrote (workloads.c's wl_teardown_put), the rest abort.
    fn drop(&mut self) {
        if self.txn != 0 {
            if self.wl == Wl::Put {
                self.m.txn_commit(self.txn);
            } else {
                self.m.txn_abort(self.txn);
            }
            self.txn = 0;
        }
    }
}

/// `<runtime>/control/loop`: the loop with nothing in it but an empty statement the compiler must
/// keep (loops.h's WL__BARRIER).
#[inline(never)]
pub fn control(n: u64) -> i32 {
    for _ in 0..n {
        unsafe { std::arch::asm!("", options(nostack, preserves_flags)) };
    }
    0
}
