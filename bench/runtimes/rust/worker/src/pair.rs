//! /threads:2 benchmarks: two std::threads, each with its own state (its own read transaction:
//! a kv_txn belongs to the thread that began it), kept for the benchmark's life so later runs
//! continue where the last stopped. A run releases both at a barrier; WALL is from the earlier
//! start to the later end, CPU the sum of both threads' CPU time (bench/runtimes/README.md).
use crate::mechs::Factory;
use kvbench::clock::{thread_cpu_ns, wall_ns};
use kvbench::data::DataRef;
use kvbench::loops::Wl;
use kvbench::mech::Obj;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;

struct Done {
    t0: u64,
    t1: u64,
    cpu: u64,
    rc: i32,
}

pub struct Pair {
    go: Vec<Sender<u64>>,
    done: Receiver<Done>,
    threads: Vec<JoinHandle<()>>,
}

impl Pair {
    pub fn start(f: &'static dyn Factory, d: &'static DataRef, env: Obj, wl: Wl, param: usize) -> Result<Pair, i32> {
        let barrier = Arc::new(Barrier::new(2));
        let (done_tx, done) = channel::<Done>();
        let (ready_tx, ready) = channel::<i32>();
        let mut p = Pair { go: Vec::new(), done, threads: Vec::new() };
        for _ in 0..2 {
            let (go_tx, go_rx) = channel::<u64>();
            let (barrier, done_tx, ready_tx) = (barrier.clone(), done_tx.clone(), ready_tx.clone());
            p.go.push(go_tx);
            p.threads.push(std::thread::spawn(move || {
                let mut runner = match f.setup(d, env, wl, param) {
                    Ok(r) => {
                        let _ = ready_tx.send(0);
                        r
                    }
                    Err(rc) => {
                        let _ = ready_tx.send(rc);
                        return;
                    }
                };
                while let Ok(n) = go_rx.recv() {
                    barrier.wait();
                    let c0 = thread_cpu_ns();
                    let t0 = wall_ns();
                    let rc = runner.run(n);
                    let t1 = wall_ns();
                    let c1 = thread_cpu_ns();
                    if done_tx.send(Done { t0, t1, cpu: c1 - c0, rc }).is_err() {
                        break;
                    }
                }
                drop(runner); // teardown in the thread that set it up
            }));
        }
        for _ in 0..2 {
            match ready.recv() {
                Ok(0) => {}
                Ok(rc) => return Err(rc), // Drop joins the threads
                Err(_) => return Err(kvbench::abi::KV_E_INTERNAL),
            }
        }
        Ok(p)
    }

    /// One run of n iterations on each thread: (wall, cpu, rc).
    pub fn run(&mut self, n: u64) -> (u64, u64, i32) {
        for g in &self.go {
            if g.send(n).is_err() {
                return (0, 0, kvbench::abi::KV_E_INTERNAL);
            }
        }
        let (mut t0, mut t1, mut cpu, mut rc) = (u64::MAX, 0, 0, 0);
        for _ in 0..2 {
            let Ok(d) = self.done.recv() else { return (0, 0, kvbench::abi::KV_E_INTERNAL) };
            t0 = t0.min(d.t0);
            t1 = t1.max(d.t1);
            cpu += d.cpu;
            if rc == 0 {
                rc = d.rc;
            }
        }
        (t1 - t0, cpu, rc)
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        self.go.clear(); // the threads leave their loops, tear down and exit
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
