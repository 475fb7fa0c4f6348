//! ffibench-rust — the Rust runtime's worker (bench/runtimes/README.md is the protocol).
//!
//!   ffibench-rust worker                     answers the driver's requests on stdin/stdout
//!   ffibench-rust worker first-call MECH     prints "LOAD_NS FIRST_NS SECOND_NS" and exits
//!   ffibench-rust worker first-call none     exits without loading anything
//!
//! No measurement method lives here: the driver says how many iterations and repeats; this reads
//! the clocks right around the loop (one call into the mechanism's monomorphised loop) and reports.
mod data;
mod first_call;
mod mechs;
mod pair;

use data::Data;
use kvbench::clock::{thread_cpu_ns, wall_ns};
use kvbench::loops::{Wl, WRONG_ANSWER};
use kvbench::mech::Obj;
use mechs::{factory, Factory, Runner};
use pair::Pair;
use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::io::{BufRead, Write};
use std::path::PathBuf;

const RUNTIME: &str = "rust";

struct Bench {
    mech: &'static str, // "control" for the control loop
    wl: Wl,
    param: usize,
    ops: usize,
    threads: usize,
}

enum Current {
    One(Box<dyn Runner>),
    Two(Pair),
}

struct Worker {
    data: Option<&'static Data>,
    benches: Vec<(String, Bench, bool)>, // name, what it runs, whether `list` announces it
    index: HashMap<String, usize>,
    envs: HashMap<&'static str, Obj>,
    current: Option<(String, Current)>,
}

fn kv_error(rc: i32) -> String {
    if rc == WRONG_ANSWER {
        return "wrong answer".into();
    }
    let name = unsafe { CStr::from_ptr(kvbench::ffi::kv_err_name(rc)) }.to_string_lossy();
    let mut buf = [0u8; 512];
    let n = unsafe { kvbench::ffi::kv_last_error_r(buf.as_mut_ptr().cast(), buf.len()) }.min(buf.len() - 1);
    let last = String::from_utf8_lossy(&buf[..n]);
    format!("kv error {rc} ({name}){}{last}", if n > 0 { ": " } else { "" })
}

impl Worker {
    fn new() -> Worker {
        Worker { data: None, benches: Vec::new(), index: HashMap::new(), envs: HashMap::new(), current: None }
    }

    fn data(&mut self) -> Result<&'static Data, String> {
        if let Some(d) = self.data {
            return Ok(d);
        }
        let dir = std::env::var("FFIBENCH_DATA").map_err(|_| "FFIBENCH_DATA is not set".to_string())?;
        let d = Data::load(&PathBuf::from(dir))?;
        self.data = Some(d);
        self.list_benches(d)?;
        Ok(d)
    }

    /// Every benchmark, with the C suite's workload names and the manifest's parameter values. A
    /// full run lists the lean set (README.md: the runtime's share of a full run): every workload
    /// for direct, with the ends and the middle of the get/bytes and batch curves; noop and
    /// add/mode:latency for the other mechanisms. FFIBENCH_LIST=all lists every workload
    /// for every mechanism, every curve point (`run` accepts them all either way).
    fn list_benches(&mut self, d: &Data) -> Result<(), String> {
        let all = std::env::var("FFIBENCH_LIST").map(|v| v == "all").unwrap_or(false);
        let mut add = |name: String, b: Bench, listed: bool| {
            self.index.insert(name.clone(), self.benches.len());
            self.benches.push((name, b, listed || all));
        };
        add(format!("{RUNTIME}/control/loop"), Bench { mech: "control", wl: Wl::Control, param: 0, ops: 1, threads: 1 }, true);
        let put_every = d.workload_values("put")?;
        let sizes = d.workload_values("get")?;
        let batch = d.workload_values("batch")?;
        let scan_ops = d.workload_ops("scan/dir:upcall")?;
        let ends_and_middle = |v: &[usize], x: usize| x == v[0] || x == v[v.len() / 2] || x == v[v.len() - 1];
        for mech in mechs::MECHANISMS {
            let full = mech == "direct";
            let b = |wl, param, ops, threads| Bench { mech, wl, param, ops, threads };
            add(format!("{RUNTIME}/{mech}/noop"), b(Wl::Noop, 0, 1, 1), true);
            add(format!("{RUNTIME}/{mech}/noop/threads:2"), b(Wl::Noop, 0, 1, 2), full);
            add(format!("{RUNTIME}/{mech}/add/mode:latency"), b(Wl::AddLatency, 0, 1, 1), true);
            add(format!("{RUNTIME}/{mech}/add/mode:throughput"), b(Wl::AddThroughput, 0, 1, 1), full);
            add(format!("{RUNTIME}/{mech}/get/mode:latency"), b(Wl::GetLatency, 0, 1, 1), full);
            add(format!("{RUNTIME}/{mech}/get/mode:latency/threads:2"), b(Wl::GetLatency, 0, 1, 2), full);
            add(format!("{RUNTIME}/{mech}/get/mode:throughput"), b(Wl::GetThroughput, 0, 1, 1), full);
            add(format!("{RUNTIME}/{mech}/get_miss"), b(Wl::GetMiss, 0, 1, 1), full);
            for &p in &put_every {
                add(format!("{RUNTIME}/{mech}/put/commit_every:{p}"), b(Wl::Put, p, 1, 1), full);
            }
            for &n in &sizes {
                add(format!("{RUNTIME}/{mech}/get/bytes:{n}"), b(Wl::Bytes, n, 1, 1), full && ends_and_middle(&sizes, n));
            }
            add(format!("{RUNTIME}/{mech}/scan/dir:upcall"), b(Wl::ScanUpcall, 0, scan_ops, 1), full);
            for &n in &batch {
                add(format!("{RUNTIME}/{mech}/batch/n:{n}"), b(Wl::Batch, n, n, 1), full && ends_and_middle(&batch, n));
            }
        }
        Ok(())
    }

    fn hello(&self) -> Vec<String> {
        let kv = unsafe { CStr::from_ptr(kvbench::ffi::kv_version_string()) }.to_string_lossy().into_owned();
        vec![
            format!("context\truntime_name\tRust ({})", env!("FFIBENCH_RUSTC_VERSION")),
            format!("context\truntime_version\t{}", env!("FFIBENCH_RUSTC_VERSION").split(' ').nth(1).unwrap_or("?")),
            "context\truntime_flags\tcargo --release: opt-level=3, lto=fat, codegen-units=1, panic=abort; libkv.a linked \
             in (direct, handle, marshal); libkv.so linked by a cdylib (plt) and dlopen'd (dlopen)".into(),
            "context\truntime_mode\tahead-of-time compiled (no JIT)".into(),
            format!("context\tkv_version\t{kv}"),
            "protocol\t1".into(),
        ]
    }

    fn list(&mut self) -> Result<Vec<String>, String> {
        self.data()?;
        let mut out: Vec<String> = self.benches.iter().filter(|x| x.2).map(|(n, b, _)| format!("bench\t{n}\t{}\t{}", b.ops, b.threads)).collect();
        out.extend(mechs::MECHANISMS.iter().map(|m| format!("first-call\t{m}")));
        Ok(out)
    }

    /// The mechanism's environment, on its own copy of base.kv (opened once per process).
    fn env(&mut self, mech: &'static str, f: &dyn Factory) -> Result<Obj, String> {
        if let Some(&e) = self.envs.get(mech) {
            return Ok(e);
        }
        let d = self.data()?;
        let scratch = std::env::var("FFIBENCH_SCRATCH").map_err(|_| "FFIBENCH_SCRATCH is not set".to_string())?;
        let path = PathBuf::from(scratch).join(format!("{mech}.kv"));
        std::fs::copy(d.dir.join("base.kv"), &path).map_err(|e| format!("copying base.kv to {}: {e}", path.display()))?;
        let c = CString::new(path.into_os_string().into_encoded_bytes()).map_err(|e| e.to_string())?;
        let env = f.open(&c).map_err(|rc| format!("{mech}: opening its environment: {}", kv_error(rc)))?;
        self.envs.insert(mech, env);
        Ok(env)
    }

    fn select(&mut self, name: &str) -> Result<&mut Current, String> {
        if self.current.as_ref().map(|c| c.0 != name).unwrap_or(true) {
            self.data()?;
            let &i = self.index.get(name).ok_or_else(|| format!("no benchmark {name}"))?;
            self.current = None; // the previous benchmark's teardown
            let (mech, wl, param, threads) = { let b = &self.benches[i].1; (b.mech, b.wl, b.param, b.threads) };
            let d = &self.data.unwrap().r;
            let (f, env): (&'static dyn Factory, Obj) = if mech == "control" {
                (factory("direct")?, 0)
            } else {
                let f = factory(mech)?;
                (f, self.env(mech, f)?)
            };
            let cur = if threads == 2 {
                Current::Two(Pair::start(f, d, env, wl, param).map_err(|rc| format!("{name}: setup: {}", kv_error(rc)))?)
            } else {
                Current::One(f.setup(d, env, wl, param).map_err(|rc| format!("{name}: setup: {}", kv_error(rc)))?)
            };
            self.current = Some((name.to_string(), cur));
        }
        Ok(&mut self.current.as_mut().unwrap().1)
    }

    fn run(&mut self, name: &str, iterations: &str, repeats: &str) -> Result<Vec<String>, String> {
        let n: u64 = iterations.parse().map_err(|_| format!("bad iteration count {iterations:?}"))?;
        let r: u64 = repeats.parse().map_err(|_| format!("bad repeat count {repeats:?}"))?;
        let cur = self.select(name)?;
        let mut out = Vec::with_capacity(r as usize);
        for _ in 0..r {
            let (wall, cpu, rc) = match cur {
                Current::One(runner) => {
                    let c0 = thread_cpu_ns();
                    let t0 = wall_ns();
                    let rc = runner.run(n);
                    let t1 = wall_ns();
                    let c1 = thread_cpu_ns();
                    (t1 - t0, c1 - c0, rc)
                }
                Current::Two(pair) => pair.run(n),
            };
            if rc != 0 {
                let e = format!("{name}: {}", kv_error(rc));
                self.current = None;
                return Err(e);
            }
            out.push(format!("sample\t{wall}\t{cpu}"));
        }
        Ok(out)
    }
}

fn serve() -> i32 {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut w = Worker::new();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let f: Vec<&str> = line.split('\t').collect();
        if f == ["quit"] {
            break;
        }
        let res = match f.as_slice() {
            ["hello"] => Ok(w.hello()),
            ["list"] => w.list(),
            ["data"] => w.data().map(|d| vec![format!("checksum\t{}", d.checksum())]),
            ["run", name, n, r] => w.run(name, n, r),
            _ => Err(format!("bad request {line:?}")),
        };
        let ok = match res {
            Ok(rows) => rows.iter().try_for_each(|r| writeln!(out, "{r}")).and_then(|_| writeln!(out, "ok")),
            Err(e) => writeln!(out, "error\t{}", e.replace(['\n', '\t'], " ")),
        };
        if ok.and_then(|_| out.flush()).is_err() {
            return 1;
        }
    }
    w.current = None;
    0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let code = match args.as_slice() {
        ["worker"] | [] => serve(),
        ["worker", "first-call", "none"] | ["first-call", "none"] => 0,
        ["worker", "first-call", mech] | ["first-call", mech] => first_call::run(mech),
        _ => {
            eprintln!("usage: ffibench-rust worker [first-call MECHANISM|none]");
            2
        }
    };
    std::process::exit(code);
}
