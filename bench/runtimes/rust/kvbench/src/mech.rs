//! One trait per call shape, `Mech`, and its implementations: the pointer API (kv.h) reached by
//! linked symbols (`Linked`: direct against libkv.a, plt against libkv.so) or by dlsym'd pointers
//! (`Loaded`), the handle ABI (kv_handle.h) and the marshal ABI (kv_marshal.h).
//!
//! Every method is one foreign call (the marshal ABI: the encoding, one kvm_call, the decoding, as
//! shims/marshal/row.c does), `#[inline(always)]`, so the loop that calls it holds the call site.
//! Objects travel as `Obj` (u64): a pointer for the pointer API, the handle itself otherwise.
use crate::abi::*;
use crate::ffi::{self, kv_env, kv_options, kv_scan_fn, kv_txn};
use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::os::raw::{c_char, c_int, c_uint, c_void};

pub type Obj = u64;

/// The calls the workloads make, each a single crossing of the boundary.
pub trait Mech: Copy + Send + Sync + 'static {
    fn noop(&self, env: Obj);
    fn add(&self, env: Obj, a: i32, b: i32) -> i32;
    fn env_open(&self, path: &CStr, opts: &kv_options, env: &mut Obj) -> i32;
    fn env_close(&self, env: Obj) -> i32;
    fn txn_begin(&self, env: Obj, flags: u32, txn: &mut Obj) -> i32;
    /// Commits and releases the transaction object.
    fn txn_commit(&self, txn: Obj) -> i32;
    /// Aborts and releases the transaction object.
    fn txn_abort(&self, txn: Obj) -> i32;
    fn put(&self, txn: Obj, key: &[u8], val: &[u8]) -> i32;
    fn get(&self, txn: Obj, key: &[u8], buf: &mut [u8], len: &mut usize) -> i32;
    #[allow(clippy::too_many_arguments)]
    fn get_batch(&self, txn: Obj, n: usize, keys: &[u8], key_lens: &[usize], buf: &mut [u8],
                 val_lens: &mut [usize], found: &mut usize) -> i32;
    /// kv_scan with a Rust closure as the callback (through `trampoline::<F>`).
    fn scan<F: FnMut(&[u8], &[u8]) -> i32>(&self, txn: Obj, lo: &[u8], hi: &[u8], f: &mut F, count: &mut usize) -> i32;
}

#[inline(always)]
unsafe fn bytes<'a>(p: *const c_void, n: usize) -> &'a [u8] {
    if n == 0 { &[] } else { std::slice::from_raw_parts(p as *const u8, n) }
}

/// The `extern "C" fn` that kv_scan calls per record: it calls the closure behind `payload`. One
/// instance per closure type, so the closure's body is inlined into it.
pub unsafe extern "C" fn trampoline<F: FnMut(&[u8], &[u8]) -> i32>(
    key: *const c_void, key_len: usize, val: *const c_void, val_len: usize, payload: *mut c_void,
) -> c_int {
    let f = &mut *(payload as *mut F);
    f(bytes(key, key_len), bytes(val, val_len))
}

// ---- The pointer API ----------------------------------------------------------------------------

/// Where the pointer API's functions come from: linked symbols, or pointers resolved at run time.
pub trait PtrFns: Copy + Send + Sync + 'static {
    fn noop(&self) -> unsafe extern "C" fn();
    fn add(&self) -> unsafe extern "C" fn(c_int, c_int) -> c_int;
    fn env_open(&self) -> unsafe extern "C" fn(*mut *mut kv_env, *const c_char, *const kv_options) -> c_int;
    fn env_close(&self) -> unsafe extern "C" fn(*mut kv_env) -> c_int;
    fn txn_begin(&self) -> unsafe extern "C" fn(*mut *mut kv_txn, *mut kv_env, c_uint) -> c_int;
    fn txn_commit(&self) -> unsafe extern "C" fn(*mut kv_txn) -> c_int;
    fn txn_free(&self) -> unsafe extern "C" fn(*mut kv_txn) -> c_int;
    fn put(&self) -> unsafe extern "C" fn(*mut kv_txn, *const c_void, usize, *const c_void, usize) -> c_int;
    fn get(&self) -> unsafe extern "C" fn(*mut kv_txn, *const c_void, usize, *mut c_void, usize, *mut usize) -> c_int;
    #[allow(clippy::type_complexity)]
    fn get_batch(&self) -> unsafe extern "C" fn(*mut kv_txn, usize, *const c_void, *const usize, *mut c_void, usize, *mut usize, *mut usize) -> c_int;
    #[allow(clippy::type_complexity)]
    fn scan(&self) -> unsafe extern "C" fn(*mut kv_txn, *const c_void, usize, *const c_void, usize, kv_scan_fn, *mut c_void, *mut usize) -> c_int;
}

/// The symbols as the artifact was linked (libkv.a: `call kv_add`; libkv.so: `call kv_add@plt`).
/// Each accessor returns a constant, so the call through it compiles to a direct call.
#[derive(Clone, Copy)]
pub struct Linked;

impl PtrFns for Linked {
    #[inline(always)] fn noop(&self) -> unsafe extern "C" fn() { ffi::kv_noop }
    #[inline(always)] fn add(&self) -> unsafe extern "C" fn(c_int, c_int) -> c_int { ffi::kv_add }
    #[inline(always)] fn env_open(&self) -> unsafe extern "C" fn(*mut *mut kv_env, *const c_char, *const kv_options) -> c_int { ffi::kv_env_open }
    #[inline(always)] fn env_close(&self) -> unsafe extern "C" fn(*mut kv_env) -> c_int { ffi::kv_env_close }
    #[inline(always)] fn txn_begin(&self) -> unsafe extern "C" fn(*mut *mut kv_txn, *mut kv_env, c_uint) -> c_int { ffi::kv_txn_begin }
    #[inline(always)] fn txn_commit(&self) -> unsafe extern "C" fn(*mut kv_txn) -> c_int { ffi::kv_txn_commit }
    #[inline(always)] fn txn_free(&self) -> unsafe extern "C" fn(*mut kv_txn) -> c_int { ffi::kv_txn_free }
    #[inline(always)] fn put(&self) -> unsafe extern "C" fn(*mut kv_txn, *const c_void, usize, *const c_void, usize) -> c_int { ffi::kv_put }
    #[inline(always)] fn get(&self) -> unsafe extern "C" fn(*mut kv_txn, *const c_void, usize, *mut c_void, usize, *mut usize) -> c_int { ffi::kv_get }
    #[inline(always)] fn get_batch(&self) -> unsafe extern "C" fn(*mut kv_txn, usize, *const c_void, *const usize, *mut c_void, usize, *mut usize, *mut usize) -> c_int { ffi::kv_get_batch }
    #[inline(always)] fn scan(&self) -> unsafe extern "C" fn(*mut kv_txn, *const c_void, usize, *const c_void, usize, kv_scan_fn, *mut c_void, *mut usize) -> c_int { ffi::kv_scan }
}

/// The pointer API through whatever `P` provides.
#[derive(Clone, Copy)]
pub struct PointerApi<P: PtrFns>(pub P);

#[inline(always)]
fn txn(o: Obj) -> *mut kv_txn {
    o as usize as *mut kv_txn
}

impl<P: PtrFns> Mech for PointerApi<P> {
    #[inline(always)]
    fn noop(&self, _env: Obj) {
        unsafe { (self.0.noop())() }
    }
    #[inline(always)]
    fn add(&self, _env: Obj, a: i32, b: i32) -> i32 {
        unsafe { (self.0.add())(a, b) }
    }
    fn env_open(&self, path: &CStr, opts: &kv_options, env: &mut Obj) -> i32 {
        let mut e: *mut kv_env = std::ptr::null_mut();
        let rc = unsafe { (self.0.env_open())(&mut e, path.as_ptr(), opts) };
        *env = e as usize as Obj;
        rc
    }
    fn env_close(&self, env: Obj) -> i32 {
        unsafe { (self.0.env_close())(env as usize as *mut kv_env) }
    }
    #[inline(always)]
    fn txn_begin(&self, env: Obj, flags: u32, out: &mut Obj) -> i32 {
        let mut t: *mut kv_txn = std::ptr::null_mut();
        let rc = unsafe { (self.0.txn_begin())(&mut t, env as usize as *mut kv_env, flags) };
        *out = t as usize as Obj;
        rc
    }
    #[inline(always)]
    fn txn_commit(&self, t: Obj) -> i32 {
        let rc = unsafe { (self.0.txn_commit())(txn(t)) };
        let frc = unsafe { (self.0.txn_free())(txn(t)) };
        if rc != 0 { rc } else { frc }
    }
    #[inline(always)]
    fn txn_abort(&self, t: Obj) -> i32 {
        unsafe { (self.0.txn_free())(txn(t)) } // kv_txn_free aborts an active transaction first
    }
    #[inline(always)]
    fn put(&self, t: Obj, key: &[u8], val: &[u8]) -> i32 {
        unsafe { (self.0.put())(txn(t), key.as_ptr().cast(), key.len(), val.as_ptr().cast(), val.len()) }
    }
    #[inline(always)]
    fn get(&self, t: Obj, key: &[u8], buf: &mut [u8], len: &mut usize) -> i32 {
        unsafe { (self.0.get())(txn(t), key.as_ptr().cast(), key.len(), buf.as_mut_ptr().cast(), buf.len(), len) }
    }
    #[inline(always)]
    fn get_batch(&self, t: Obj, n: usize, keys: &[u8], key_lens: &[usize], buf: &mut [u8], val_lens: &mut [usize],
                 found: &mut usize) -> i32 {
        debug_assert!(key_lens.len() >= n && val_lens.len() >= n);
        unsafe {
            (self.0.get_batch())(txn(t), n, keys.as_ptr().cast(), key_lens.as_ptr(), buf.as_mut_ptr().cast(), buf.len(),
                                 val_lens.as_mut_ptr(), found)
        }
    }
    #[inline(always)]
    fn scan<F: FnMut(&[u8], &[u8]) -> i32>(&self, t: Obj, lo: &[u8], hi: &[u8], f: &mut F, count: &mut usize) -> i32 {
        unsafe {
            (self.0.scan())(txn(t), lo.as_ptr().cast(), lo.len(), hi.as_ptr().cast(), hi.len(), trampoline::<F>,
                            (f as *mut F).cast(), count)
        }
    }
}

// ---- dlopen/dlsym: libc's functions declared here ------------------------------------------------
extern "C" {
    fn dlopen(path: *const c_char, flags: c_int) -> *mut c_void;
    fn dlsym(lib: *mut c_void, name: *const c_char) -> *mut c_void;
    fn dlerror() -> *mut c_char;
}
const RTLD_NOW: c_int = 2; // <dlfcn.h>

/// Opens a shared library (RTLD_NOW); the error is dlerror's text.
pub fn dl_open(path: &CStr) -> Result<*mut c_void, String> {
    let h = unsafe { dlopen(path.as_ptr(), RTLD_NOW) };
    if h.is_null() { Err(dl_error()) } else { Ok(h) }
}

/// Resolves a symbol of a library that dl_open returned.
pub fn dl_sym(lib: *mut c_void, name: &CStr) -> Result<*mut c_void, String> {
    let p = unsafe { dlsym(lib, name.as_ptr()) };
    if p.is_null() { Err(format!("dlsym {}: {}", name.to_string_lossy(), dl_error())) } else { Ok(p) }
}

fn dl_error() -> String {
    let e = unsafe { dlerror() };
    if e.is_null() { "unknown dlerror".into() } else { unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned() }
}

/// The pointer API's functions resolved with dlsym from a libkv.so opened with dlopen; the loops
/// call through these pointers (loaded into registers before the loop).
#[derive(Clone, Copy)]
pub struct Loaded {
    noop: unsafe extern "C" fn(),
    add: unsafe extern "C" fn(c_int, c_int) -> c_int,
    env_open: unsafe extern "C" fn(*mut *mut kv_env, *const c_char, *const kv_options) -> c_int,
    env_close: unsafe extern "C" fn(*mut kv_env) -> c_int,
    txn_begin: unsafe extern "C" fn(*mut *mut kv_txn, *mut kv_env, c_uint) -> c_int,
    txn_commit: unsafe extern "C" fn(*mut kv_txn) -> c_int,
    txn_free: unsafe extern "C" fn(*mut kv_txn) -> c_int,
    put: unsafe extern "C" fn(*mut kv_txn, *const c_void, usize, *const c_void, usize) -> c_int,
    get: unsafe extern "C" fn(*mut kv_txn, *const c_void, usize, *mut c_void, usize, *mut usize) -> c_int,
    #[allow(clippy::type_complexity)]
    get_batch: unsafe extern "C" fn(*mut kv_txn, usize, *const c_void, *const usize, *mut c_void, usize, *mut usize, *mut usize) -> c_int,
    #[allow(clippy::type_complexity)]
    scan: unsafe extern "C" fn(*mut kv_txn, *const c_void, usize, *const c_void, usize, kv_scan_fn, *mut c_void, *mut usize) -> c_int,
}

impl Loaded {
    /// dlopen(path) and dlsym of every function the loops call.
    pub fn load(path: &CStr) -> Result<Loaded, String> {
        let lib = dl_open(path)?;
        macro_rules! sym {
            ($name:literal) => {
                // SAFETY: the symbol is libkv's function of that name, whose type kv.h declares.
                unsafe { std::mem::transmute::<*mut c_void, _>(dl_sym(lib, $name)?) }
            };
        }
        Ok(Loaded {
            noop: sym!(c"kv_noop"),
            add: sym!(c"kv_add"),
            env_open: sym!(c"kv_env_open"),
            env_close: sym!(c"kv_env_close"),
            txn_begin: sym!(c"kv_txn_begin"),
            txn_commit: sym!(c"kv_txn_commit"),
            txn_free: sym!(c"kv_txn_free"),
            put: sym!(c"kv_put"),
            get: sym!(c"kv_get"),
            get_batch: sym!(c"kv_get_batch"),
            scan: sym!(c"kv_scan"),
        })
    }
}

impl PtrFns for Loaded {
    #[inline(always)] fn noop(&self) -> unsafe extern "C" fn() { self.noop }
    #[inline(always)] fn add(&self) -> unsafe extern "C" fn(c_int, c_int) -> c_int { self.add }
    #[inline(always)] fn env_open(&self) -> unsafe extern "C" fn(*mut *mut kv_env, *const c_char, *const kv_options) -> c_int { self.env_open }
    #[inline(always)] fn env_close(&self) -> unsafe extern "C" fn(*mut kv_env) -> c_int { self.env_close }
    #[inline(always)] fn txn_begin(&self) -> unsafe extern "C" fn(*mut *mut kv_txn, *mut kv_env, c_uint) -> c_int { self.txn_begin }
    #[inline(always)] fn txn_commit(&self) -> unsafe extern "C" fn(*mut kv_txn) -> c_int { self.txn_commit }
    #[inline(always)] fn txn_free(&self) -> unsafe extern "C" fn(*mut kv_txn) -> c_int { self.txn_free }
    #[inline(always)] fn put(&self) -> unsafe extern "C" fn(*mut kv_txn, *const c_void, usize, *const c_void, usize) -> c_int { self.put }
    #[inline(always)] fn get(&self) -> unsafe extern "C" fn(*mut kv_txn, *const c_void, usize, *mut c_void, usize, *mut usize) -> c_int { self.get }
    #[inline(always)] fn get_batch(&self) -> unsafe extern "C" fn(*mut kv_txn, usize, *const c_void, *const usize, *mut c_void, usize, *mut usize, *mut usize) -> c_int { self.get_batch }
    #[inline(always)] fn scan(&self) -> unsafe extern "C" fn(*mut kv_txn, *const c_void, usize, *const c_void, usize, kv_scan_fn, *mut c_void, *mut usize) -> c_int { self.scan }
}

// ---- The handle ABI ------------------------------------------------------------------------------

/// kv_handle.h: objects are u64 handles checked on every call.
#[derive(Clone, Copy)]
pub struct Handle;

impl Mech for Handle {
    #[inline(always)]
    fn noop(&self, env: Obj) {
        unsafe { ffi::kvh_noop(env) };
    }
    /// The sum; a handle error (never provoked here) gives 0, as shims/handle/row.c does.
    #[inline(always)]
    fn add(&self, env: Obj, a: i32, b: i32) -> i32 {
        let mut sum = 0;
        unsafe { ffi::kvh_add(env, a, b, &mut sum) };
        sum
    }
    fn env_open(&self, path: &CStr, opts: &kv_options, env: &mut Obj) -> i32 {
        unsafe { ffi::kvh_env_open(env, path.as_ptr(), opts) }
    }
    fn env_close(&self, env: Obj) -> i32 {
        unsafe { ffi::kvh_env_close(env) }
    }
    #[inline(always)]
    fn txn_begin(&self, env: Obj, flags: u32, txn: &mut Obj) -> i32 {
        unsafe { ffi::kvh_txn_begin(txn, env, flags) }
    }
    #[inline(always)]
    fn txn_commit(&self, txn: Obj) -> i32 {
        unsafe { ffi::kvh_txn_commit(txn) } // ends the transaction and releases its handle
    }
    #[inline(always)]
    fn txn_abort(&self, txn: Obj) -> i32 {
        unsafe { ffi::kvh_txn_abort(txn) }
    }
    #[inline(always)]
    fn put(&self, t: Obj, key: &[u8], val: &[u8]) -> i32 {
        unsafe { ffi::kvh_put(t, key.as_ptr().cast(), key.len(), val.as_ptr().cast(), val.len()) }
    }
    #[inline(always)]
    fn get(&self, t: Obj, key: &[u8], buf: &mut [u8], len: &mut usize) -> i32 {
        unsafe { ffi::kvh_get(t, key.as_ptr().cast(), key.len(), buf.as_mut_ptr().cast(), buf.len(), len) }
    }
    #[inline(always)]
    fn get_batch(&self, t: Obj, n: usize, keys: &[u8], key_lens: &[usize], buf: &mut [u8], val_lens: &mut [usize],
                 found: &mut usize) -> i32 {
        unsafe {
            ffi::kvh_get_batch(t, n, keys.as_ptr().cast(), key_lens.as_ptr(), buf.as_mut_ptr().cast(), buf.len(),
                               val_lens.as_mut_ptr(), found)
        }
    }
    #[inline(always)]
    fn scan<F: FnMut(&[u8], &[u8]) -> i32>(&self, t: Obj, lo: &[u8], hi: &[u8], f: &mut F, count: &mut usize) -> i32 {
        unsafe {
            ffi::kvh_scan(t, lo.as_ptr().cast(), lo.len(), hi.as_ptr().cast(), hi.len(), trampoline::<F>,
                          (f as *mut F).cast(), count)
        }
    }
}

// ---- The marshal ABI -----------------------------------------------------------------------------

/// kv_marshal.h: every operation a request encoded into bytes, one kvm_call, the response decoded
/// (engine/doc/PROTOCOL.md). As shims/marshal/row.c: requests and responses on the stack up to
/// INLINE bytes; a response that does not fit is retried in a heap buffer of the size kvm_call
/// asks for.
#[derive(Clone, Copy)]
pub struct Marshal;

const INLINE: usize = 4096;

/// A request under construction, in the caller's stack buffer when it fits in INLINE bytes (the
/// buffer is the caller's local, so nothing of it is ever moved or copied).
struct Req<'a> {
    ptr: *mut u8,
    heap: Vec<u8>,
    len: usize,
    at: usize,
    _stack: std::marker::PhantomData<&'a mut [u8; INLINE]>,
}

/// `req!(r, OP, LEN)`: a request r of LEN bytes for operation OP, header written.
macro_rules! req {
    ($r:ident, $op:expr, $len:expr) => {
        let mut stack = MaybeUninit::<[u8; INLINE]>::uninit();
        let mut $r = Req::new(&mut stack, $op, $len);
    };
}

impl<'a> Req<'a> {
    #[inline(always)]
    fn new(stack: &'a mut MaybeUninit<[u8; INLINE]>, op: u8, len: usize) -> Req<'a> {
        let mut r = Req { ptr: stack.as_mut_ptr().cast(), heap: Vec::new(), len, at: 0, _stack: std::marker::PhantomData };
        if len > INLINE {
            r.heap = vec![0; len];
            r.ptr = r.heap.as_mut_ptr();
        }
        r.u8(KVM_VERSION);
        r.u8(op);
        r
    }
    #[inline(always)]
    fn ptr(&mut self) -> *mut u8 {
        self.ptr
    }
    #[inline(always)]
    fn raw(&mut self, b: &[u8]) {
        assert!(self.at + b.len() <= self.len);
        unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), self.ptr().add(self.at), b.len()) };
        self.at += b.len();
    }
    #[inline(always)]
    fn u8(&mut self, v: u8) {
        self.raw(&[v]);
    }
    #[inline(always)]
    fn u32(&mut self, v: u32) {
        self.raw(&v.to_le_bytes());
    }
    #[inline(always)]
    fn u64(&mut self, v: u64) {
        self.raw(&v.to_le_bytes());
    }
    #[inline(always)]
    fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.raw(b);
    }
    #[inline(always)]
    fn opt_bytes(&mut self, b: &[u8]) {
        self.u8(1);
        self.bytes(b);
    }
    /// Calls kvm_call and hands f the response's results (after the status) when it succeeded.
    #[inline(always)]
    fn call<R>(&mut self, f: impl FnOnce(&mut Reader) -> Result<R, i32>) -> Result<R, i32> {
        assert_eq!(self.at, self.len);
        let req = self.ptr() as *const c_void;
        let mut stack = MaybeUninit::<[u8; INLINE]>::uninit();
        let mut n = 0usize;
        let mut rc = unsafe { ffi::kvm_call(req, self.len, stack.as_mut_ptr().cast(), INLINE, &mut n) };
        if rc == KV_OK {
            let resp = unsafe { std::slice::from_raw_parts(stack.as_ptr().cast::<u8>(), n) };
            return f(&mut Reader::new(resp));
        }
        let mut heap: Vec<u8> = Vec::new();
        while rc == KV_E_BUFFER_TOO_SMALL && n > heap.len().max(INLINE) {
            heap = Vec::with_capacity(n);
            let cap = heap.capacity();
            rc = unsafe { ffi::kvm_call(req, self.len, heap.as_mut_ptr().cast(), cap, &mut n) };
        }
        if rc != KV_OK {
            return Err(rc);
        }
        let resp = unsafe { std::slice::from_raw_parts(heap.as_ptr(), n) };
        f(&mut Reader::new(resp))
    }
}

/// A bounds-checked little-endian reader over a response's results.
pub struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    #[inline(always)]
    fn new(resp: &'a [u8]) -> Reader<'a> {
        Reader { b: resp.get(KVM_STATUS_SIZE..).unwrap_or(&[]) }
    }
    #[inline(always)]
    fn take(&mut self, n: usize) -> Result<&'a [u8], i32> {
        if n > self.b.len() {
            return Err(KV_E_INTERNAL);
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        Ok(h)
    }
    #[inline(always)]
    fn u32(&mut self) -> Result<u32, i32> {
        self.take(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    #[inline(always)]
    fn u64(&mut self) -> Result<u64, i32> {
        self.take(8).map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    }
    #[inline(always)]
    fn end(&self) -> Result<(), i32> {
        if self.b.is_empty() { Ok(()) } else { Err(KV_E_INTERNAL) }
    }
}

#[inline(always)]
fn status(r: Result<(), i32>) -> i32 {
    match r {
        Ok(()) => KV_OK,
        Err(rc) => rc,
    }
}

impl Marshal {
    #[inline(always)]
    fn handle_op(op: u8, h: Obj) -> i32 {
        req!(r, op, KVM_HEADER_SIZE + 8);
        r.u64(h);
        status(r.call(|rd| rd.end()))
    }
}

impl Mech for Marshal {
    #[inline(always)]
    fn noop(&self, _env: Obj) {
        req!(r, KVM_OP_NOOP, KVM_HEADER_SIZE);
        let _ = r.call(|rd| rd.end());
    }
    #[inline(always)]
    fn add(&self, _env: Obj, a: i32, b: i32) -> i32 {
        req!(r, KVM_OP_ADD, KVM_HEADER_SIZE + 8);
        r.u32(a as u32);
        r.u32(b as u32);
        match r.call(|rd| rd.u32()) {
            Ok(v) => v as i32,
            Err(rc) => rc,
        }
    }
    fn env_open(&self, path: &CStr, o: &kv_options, env: &mut Obj) -> i32 {
        let p = path.to_bytes();
        req!(r, KVM_OP_ENV_OPEN, KVM_HEADER_SIZE + 4 + p.len() + 4 * 4 + 8);
        r.bytes(p);
        r.u32(o.version);
        r.u32(o.flags);
        r.u64(o.map_size);
        r.u32(o.durability);
        r.u32(o.reserved);
        match r.call(|rd| {
            let h = rd.u64()?;
            rd.end().map(|_| h)
        }) {
            Ok(h) => {
                *env = h;
                KV_OK
            }
            Err(rc) => rc,
        }
    }
    fn env_close(&self, env: Obj) -> i32 {
        Self::handle_op(KVM_OP_ENV_CLOSE, env)
    }
    #[inline(always)]
    fn txn_begin(&self, env: Obj, flags: u32, txn: &mut Obj) -> i32 {
        req!(r, KVM_OP_TXN_BEGIN, KVM_HEADER_SIZE + 8 + 4);
        r.u64(env);
        r.u32(flags);
        match r.call(|rd| {
            let h = rd.u64()?;
            rd.end().map(|_| h)
        }) {
            Ok(h) => {
                *txn = h;
                KV_OK
            }
            Err(rc) => rc,
        }
    }
    #[inline(always)]
    fn txn_commit(&self, txn: Obj) -> i32 {
        Self::handle_op(KVM_OP_TXN_COMMIT, txn)
    }
    #[inline(always)]
    fn txn_abort(&self, txn: Obj) -> i32 {
        Self::handle_op(KVM_OP_TXN_ABORT, txn)
    }
    #[inline(always)]
    fn put(&self, txn: Obj, key: &[u8], val: &[u8]) -> i32 {
        req!(r, KVM_OP_PUT, KVM_HEADER_SIZE + 8 + 4 + key.len() + 4 + val.len());
        r.u64(txn);
        r.bytes(key);
        r.bytes(val);
        status(r.call(|rd| rd.end()))
    }
    #[inline(always)]
    fn get(&self, txn: Obj, key: &[u8], buf: &mut [u8], len: &mut usize) -> i32 {
        req!(r, KVM_OP_GET, KVM_HEADER_SIZE + 8 + 4 + key.len());
        r.u64(txn);
        r.bytes(key);
        status(r.call(|rd| {
            let n = rd.u32()? as usize;
            let v = rd.take(n)?;
            rd.end()?;
            *len = n;
            if n > buf.len() {
                return Err(KV_E_BUFFER_TOO_SMALL);
            }
            buf[..n].copy_from_slice(v);
            Ok(())
        }))
    }
    fn get_batch(&self, txn: Obj, n: usize, keys: &[u8], key_lens: &[usize], buf: &mut [u8], val_lens: &mut [usize],
                 found: &mut usize) -> i32 {
        let total: usize = key_lens[..n].iter().sum();
        req!(r, KVM_OP_GET_BATCH, KVM_HEADER_SIZE + 8 + 4 + 4 * n + total);
        r.u64(txn);
        r.u32(n as u32);
        for &kl in &key_lens[..n] {
            r.u32(kl as u32);
        }
        r.raw(&keys[..total]);
        status(r.call(|rd| {
            let rn = rd.u32()? as usize;
            let hits = rd.u32()? as usize;
            if rn != n {
                return Err(KV_E_INTERNAL);
            }
            let hit = rd.take(n)?;
            let lens = rd.take(4 * n)?;
            let mut need = 0usize;
            for i in 0..n {
                let vl = u32::from_le_bytes(lens[4 * i..4 * i + 4].try_into().unwrap()) as usize;
                val_lens[i] = if hit[i] != 0 { vl } else { usize::MAX };
                if hit[i] != 0 {
                    need += vl;
                }
            }
            let vals = rd.take(need)?;
            rd.end()?;
            *found = hits;
            if need > buf.len() {
                return Err(KV_E_BUFFER_TOO_SMALL);
            }
            buf[..need].copy_from_slice(vals);
            Ok(())
        }))
    }
    /// SCAN's response streams every record of the range; the closure is called for each, in order,
    /// here in Rust (the marshal ABI has no upcall: shims/marshal/row.c does the same).
    fn scan<F: FnMut(&[u8], &[u8]) -> i32>(&self, txn: Obj, lo: &[u8], hi: &[u8], f: &mut F, count: &mut usize) -> i32 {
        req!(r, KVM_OP_SCAN, KVM_HEADER_SIZE + 8 + 5 + lo.len() + 5 + hi.len());
        r.u64(txn);
        r.opt_bytes(lo);
        r.opt_bytes(hi);
        let mut called = 0usize;
        let rc = r.call(|rd| {
            let n = rd.u32()?;
            for _ in 0..n {
                let kl = rd.u32()? as usize;
                let vl = rd.u32()? as usize;
                let v = rd.take(vl)?;
                let k = rd.take(kl)?;
                called += 1;
                let rc = f(k, v);
                if rc != 0 {
                    return Err(rc);
                }
            }
            rd.end()
        });
        *count = called;
        status(rc)
    }
}
