//! `first-call MECHANISM`: the first call into the engine in a fresh process. Prints
//! "LOAD_NS FIRST_NS SECOND_NS": LOAD from the clock's first reading until the call can be made,
//! FIRST the first kv_add-style call, SECOND the same call again (bench/runtimes/README.md).
//!
//!   direct   libkv.a is part of this program, bound before main: LOAD is empty; FIRST pays the
//!            page faults of kv_add's code
//!   plt      dlopen of libffibench_rust_plt.so, which loads libkv.so (its DT_NEEDED) and binds its
//!            PLT there (rustc links with -z now: no lazy binding), plus dlsym of its entry points;
//!            the calls go through its one-line ffibench_rust_plt_add (kv_add through the PLT)
//!   dlopen   dlopen($KV_LIBRARY) and dlsym("kv_add"); the calls go through the pointer
//!   handle   nothing to load; kvh_add on KVH_NULL (a handle check, answered KV_E_BAD_HANDLE)
//!   marshal  nothing to load; an ADD request through kvm_call
use crate::mechs::{plt_path, PltLib};
use kvbench::abi::*;
use kvbench::clock::wall_ns;
use kvbench::mech::{dl_open, dl_sym, Marshal, Mech};
use std::ffi::CString;
use std::hint::black_box;
use std::os::raw::{c_int, c_void};

pub fn run(mech: &str) -> i32 {
    let lib = std::env::var("KV_LIBRARY").ok().and_then(|l| CString::new(l).ok());
    let plt = plt_path().ok();
    wall_ns(); // the clock itself warmed up
    let t0 = wall_ns();
    let (t1, t2, t3, a, b, want) = match mech {
        "direct" => {
            let t1 = wall_ns();
            let a = unsafe { kvbench::ffi::kv_add(black_box(40), 2) };
            let t2 = wall_ns();
            let b = unsafe { kvbench::ffi::kv_add(black_box(a), 1) };
            (t1, t2, wall_ns(), a, b, (42, 43))
        }
        "plt" => {
            let l = match plt.as_ref().ok_or("no path".to_string()).and_then(|_| PltLib::load()) {
                Ok(l) => l,
                Err(e) => return fail(mech, &e),
            };
            let t1 = wall_ns();
            let a = unsafe { (l.add)(black_box(40), 2) };
            let t2 = wall_ns();
            let b = unsafe { (l.add)(black_box(a), 1) };
            (t1, t2, wall_ns(), a, b, (42, 43))
        }
        "dlopen" => {
            let Some(path) = lib else { return fail(mech, "KV_LIBRARY is not set") };
            let add = match dl_open(&path).and_then(|h| dl_sym(h, c"kv_add")) {
                // SAFETY: kv_add, int (int, int) (kv.h).
                Ok(p) => unsafe { std::mem::transmute::<*mut c_void, unsafe extern "C" fn(c_int, c_int) -> c_int>(p) },
                Err(e) => return fail(mech, &e),
            };
            let t1 = wall_ns();
            let a = unsafe { add(black_box(40), 2) };
            let t2 = wall_ns();
            let b = unsafe { add(black_box(a), 1) };
            (t1, t2, wall_ns(), a, b, (42, 43))
        }
        "handle" => {
            let t1 = wall_ns();
            let a = unsafe { kvbench::ffi::kvh_add(black_box(KVH_NULL), 40, 2, &mut 0) };
            let t2 = wall_ns();
            let b = unsafe { kvbench::ffi::kvh_add(black_box(KVH_NULL), 41, 2, &mut 0) };
            (t1, t2, wall_ns(), a, b, (KV_E_BAD_HANDLE, KV_E_BAD_HANDLE))
        }
        "marshal" => {
            let t1 = wall_ns();
            let a = Marshal.add(0, black_box(40), 2);
            let t2 = wall_ns();
            let b = Marshal.add(0, black_box(a), 1);
            (t1, t2, wall_ns(), a, b, (42, 43))
        }
        _ => {
            eprintln!("first-call: no mechanism {mech} (there are: {}, none)", crate::mechs::MECHANISMS.join(", "));
            return 2;
        }
    };
    if (a, b) != want {
        eprintln!("first-call {mech}: the calls gave {a}, {b}; want {}, {}", want.0, want.1);
        return 1;
    }
    println!("{} {} {}", t1 - t0, t2 - t1, t3 - t2);
    0
}

fn fail(mech: &str, why: &str) -> i32 {
    eprintln!("first-call {mech}: {why}");
    1
}
