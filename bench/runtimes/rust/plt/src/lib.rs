//! libffibench_rust_plt.so — the plt mechanism: kvbench's loops over the pointer API, linked
//! against libkv.so, so every call is `call kv_add@plt` (the worker links libkv.a; a symbol has one
//! definition per link, so the dynamic call sites live in this library, as the C suite's plt row
//! lives in libffibench_loops_plt.so). The worker dlopens it and drives it through these functions.
use kvbench::data::DataRef;
use kvbench::loops::{open_env, State, Wl};
use kvbench::mech::{Linked, Mech, PointerApi};
use std::ffi::CStr;
use std::os::raw::{c_char, c_void};

type Plt = PointerApi<Linked>;
const M: Plt = PointerApi(Linked);

/// Opens an environment on path; 0 or a kv error.
#[no_mangle]
pub unsafe extern "C" fn ffibench_rust_plt_env_open(path: *const c_char, env: *mut u64) -> i32 {
    match open_env(&M, CStr::from_ptr(path)) {
        Ok(e) => {
            *env = e;
            0
        }
        Err(rc) => rc,
    }
}

#[no_mangle]
pub extern "C" fn ffibench_rust_plt_env_close(env: u64) -> i32 {
    M.env_close(env)
}

/// A benchmark's state (setup done), or null with the kv error in *rc.
#[no_mangle]
pub unsafe extern "C" fn ffibench_rust_plt_setup(d: *const DataRef, env: u64, wl: u32, param: usize, rc: *mut i32) -> *mut c_void {
    let Some(wl) = Wl::from_u32(wl) else {
        *rc = kvbench::abi::KV_E_INVALID;
        return std::ptr::null_mut();
    };
    match State::setup(M, &*d, env, wl, param) {
        Ok(s) => Box::into_raw(Box::new(s)).cast(),
        Err(e) => {
            *rc = e;
            std::ptr::null_mut()
        }
    }
}

/// n iterations of the state's loop: 0, a kv error, or WRONG_ANSWER.
#[no_mangle]
pub unsafe extern "C" fn ffibench_rust_plt_run(st: *mut c_void, n: u64) -> i32 {
    (*st.cast::<State<Plt>>()).run(n)
}

/// Teardown, in the thread that set it up.
#[no_mangle]
pub unsafe extern "C" fn ffibench_rust_plt_free(st: *mut c_void) {
    drop(Box::from_raw(st.cast::<State<Plt>>()));
}

/// One kv_add through the PLT (first-call mode).
#[no_mangle]
pub extern "C" fn ffibench_rust_plt_add(a: i32, b: i32) -> i32 {
    M.add(0, a, b)
}
