//! The worker's mechanisms: each opens its environment and sets up a benchmark's state, whose run
//! is the monomorphised loop of kvbench::loops for that mechanism.
//!
//!   direct   the pointer API, libkv.a linked into this program (`call kv_add`)
//!   plt      the pointer API from libffibench_rust_plt.so, linked against libkv.so (`call kv_add@plt`)
//!   dlopen   the pointer API through pointers dlsym'd from $KV_LIBRARY (`call *%reg`)
//!   handle   the handle ABI (kv_handle.h), libkv.a
//!   marshal  the marshal ABI (kv_marshal.h), libkv.a: request bytes in, response bytes out
use kvbench::data::DataRef;
use kvbench::loops::{open_env, State, Wl};
use kvbench::mech::{dl_open, dl_sym, Handle, Linked, Loaded, Marshal, Mech, Obj, PointerApi};
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_void};
use std::sync::OnceLock;

pub const MECHANISMS: [&str; 5] = ["direct", "plt", "dlopen", "handle", "marshal"];

/// A benchmark's state in its thread; dropping it is the teardown.
pub trait Runner {
    fn run(&mut self, n: u64) -> i32;
}

impl<M: Mech> Runner for State<M> {
    fn run(&mut self, n: u64) -> i32 {
        State::run(self, n)
    }
}

pub trait Factory: Send + Sync {
    fn open(&self, path: &CStr) -> Result<Obj, i32>;
    fn setup(&self, d: &'static DataRef, env: Obj, wl: Wl, param: usize) -> Result<Box<dyn Runner>, i32>;
}

/// A mechanism whose loops are in this program.
struct Here<M: Mech>(M);

impl<M: Mech> Factory for Here<M> {
    fn open(&self, path: &CStr) -> Result<Obj, i32> {
        open_env(&self.0, path)
    }
    fn setup(&self, d: &'static DataRef, env: Obj, wl: Wl, param: usize) -> Result<Box<dyn Runner>, i32> {
        Ok(Box::new(State::setup(self.0, d, env, wl, param)?))
    }
}

/// The plt mechanism's library: its functions, resolved once.
#[derive(Clone, Copy)]
pub struct PltLib {
    env_open: unsafe extern "C" fn(*const c_char, *mut u64) -> i32,
    setup: unsafe extern "C" fn(*const DataRef, u64, u32, usize, *mut i32) -> *mut c_void,
    run: unsafe extern "C" fn(*mut c_void, u64) -> i32,
    free: unsafe extern "C" fn(*mut c_void),
    pub add: unsafe extern "C" fn(i32, i32) -> i32,
}

/// libffibench_rust_plt.so, beside this program.
pub fn plt_path() -> Result<CString, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let p = exe.parent().unwrap().join("libffibench_rust_plt.so");
    CString::new(p.into_os_string().into_encoded_bytes()).map_err(|e| e.to_string())
}

impl PltLib {
    pub fn load() -> Result<PltLib, String> {
        let lib = dl_open(&plt_path()?)?;
        macro_rules! sym {
            ($name:literal) => {
                // SAFETY: the functions of plt/src/lib.rs, with these types.
                unsafe { std::mem::transmute::<*mut c_void, _>(dl_sym(lib, $name)?) }
            };
        }
        Ok(PltLib {
            env_open: sym!(c"ffibench_rust_plt_env_open"),
            setup: sym!(c"ffibench_rust_plt_setup"),
            run: sym!(c"ffibench_rust_plt_run"),
            free: sym!(c"ffibench_rust_plt_free"),
            add: sym!(c"ffibench_rust_plt_add"),
        })
    }
}

struct PltRunner {
    lib: PltLib,
    st: *mut c_void,
}

impl Runner for PltRunner {
    fn run(&mut self, n: u64) -> i32 {
        unsafe { (self.lib.run)(self.st, n) }
    }
}

impl Drop for PltRunner {
    fn drop(&mut self) {
        unsafe { (self.lib.free)(self.st) }
    }
}

impl Factory for PltLib {
    fn open(&self, path: &CStr) -> Result<Obj, i32> {
        let mut env = 0;
        match unsafe { (self.env_open)(path.as_ptr(), &mut env) } {
            0 => Ok(env),
            rc => Err(rc),
        }
    }
    fn setup(&self, d: &'static DataRef, env: Obj, wl: Wl, param: usize) -> Result<Box<dyn Runner>, i32> {
        let mut rc = 0;
        let st = unsafe { (self.setup)(d, env, wl as u32, param, &mut rc) };
        if st.is_null() {
            return Err(rc);
        }
        Ok(Box::new(PltRunner { lib: *self, st }))
    }
}

/// The mechanism's factory, created on first use (dlopen and the plt library are loaded then).
pub fn factory(mech: &str) -> Result<&'static dyn Factory, String> {
    static DIRECT: Here<PointerApi<Linked>> = Here(PointerApi(Linked));
    static HANDLE: Here<Handle> = Here(Handle);
    static MARSHAL: Here<Marshal> = Here(Marshal);
    static DLOPEN: OnceLock<Here<PointerApi<Loaded>>> = OnceLock::new();
    static PLT: OnceLock<PltLib> = OnceLock::new();
    Ok(match mech {
        "direct" => &DIRECT,
        "handle" => &HANDLE,
        "marshal" => &MARSHAL,
        "dlopen" => match DLOPEN.get() {
            Some(f) => f,
            None => {
                let lib = std::env::var("KV_LIBRARY").map_err(|_| "KV_LIBRARY is not set".to_string())?;
                let lib = CString::new(lib).map_err(|e| e.to_string())?;
                let loaded = Loaded::load(&lib)?;
                DLOPEN.get_or_init(|| Here(PointerApi(loaded)))
            }
        },
        "plt" => match PLT.get() {
            Some(f) => f,
            None => {
                let lib = PltLib::load()?;
                PLT.get_or_init(|| lib)
            }
        },
        _ => return Err(format!("no mechanism {mech}")),
    })
}
