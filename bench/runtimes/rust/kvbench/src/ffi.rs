//! libkv's C API as declared in engine/include/kv.h, kv_handle.h and kv_marshal.h (the functions
//! the bindings use). No `#[link]`: the final artifact's build.rs links libkv.a or libkv.so.
#![allow(non_camel_case_types)]
use std::os::raw::{c_char, c_int, c_uint, c_void};

/// kv_options, version 1: 24 bytes, no padding (kv.h).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kv_options {
    pub version: u32,
    pub flags: u32,
    pub map_size: u64,
    pub durability: u32,
    pub reserved: u32,
}

#[repr(C)]
pub struct kv_env {
    _opaque: [u8; 0],
}
#[repr(C)]
pub struct kv_txn {
    _opaque: [u8; 0],
}

pub type kvh_handle = u64;
pub type kv_scan_fn =
    unsafe extern "C" fn(key: *const c_void, key_len: usize, val: *const c_void, val_len: usize, payload: *mut c_void) -> c_int;

extern "C" {
    pub fn kv_version_string() -> *const c_char;
    pub fn kv_err_name(err: c_int) -> *const c_char;
    pub fn kv_last_error_r(buf: *mut c_char, cap: usize) -> usize;
    pub fn kv_options_size() -> usize;

    pub fn kv_noop();
    pub fn kv_add(a: c_int, b: c_int) -> c_int;

    pub fn kv_env_open(env: *mut *mut kv_env, path: *const c_char, opts: *const kv_options) -> c_int;
    pub fn kv_env_close(env: *mut kv_env) -> c_int;
    pub fn kv_txn_begin(txn: *mut *mut kv_txn, env: *mut kv_env, flags: c_uint) -> c_int;
    pub fn kv_txn_commit(txn: *mut kv_txn) -> c_int;
    pub fn kv_txn_free(txn: *mut kv_txn) -> c_int;
    pub fn kv_put(txn: *mut kv_txn, key: *const c_void, key_len: usize, val: *const c_void, val_len: usize) -> c_int;
    pub fn kv_get(txn: *mut kv_txn, key: *const c_void, key_len: usize, buf: *mut c_void, cap: usize, len: *mut usize) -> c_int;
    pub fn kv_get_batch(txn: *mut kv_txn, n: usize, keys: *const c_void, key_lens: *const usize, buf: *mut c_void,
                        cap: usize, val_lens: *mut usize, found: *mut usize) -> c_int;
    pub fn kv_scan(txn: *mut kv_txn, lo: *const c_void, lo_len: usize, hi: *const c_void, hi_len: usize,
                   f: kv_scan_fn, payload: *mut c_void, count: *mut usize) -> c_int;

    pub fn kvh_noop(env: kvh_handle) -> c_int;
    pub fn kvh_add(env: kvh_handle, a: c_int, b: c_int, sum: *mut c_int) -> c_int;
    pub fn kvh_env_open(env: *mut kvh_handle, path: *const c_char, opts: *const kv_options) -> c_int;
    pub fn kvh_env_close(env: kvh_handle) -> c_int;
    pub fn kvh_txn_begin(txn: *mut kvh_handle, env: kvh_handle, flags: c_uint) -> c_int;
    pub fn kvh_txn_commit(txn: kvh_handle) -> c_int;
    pub fn kvh_txn_abort(txn: kvh_handle) -> c_int;
    pub fn kvh_put(txn: kvh_handle, key: *const c_void, key_len: usize, val: *const c_void, val_len: usize) -> c_int;
    pub fn kvh_get(txn: kvh_handle, key: *const c_void, key_len: usize, buf: *mut c_void, cap: usize, len: *mut usize) -> c_int;
    pub fn kvh_get_batch(txn: kvh_handle, n: usize, keys: *const c_void, key_lens: *const usize, buf: *mut c_void,
                         cap: usize, val_lens: *mut usize, found: *mut usize) -> c_int;
    pub fn kvh_scan(txn: kvh_handle, lo: *const c_void, lo_len: usize, hi: *const c_void, hi_len: usize,
                    f: kv_scan_fn, payload: *mut c_void, count: *mut usize) -> c_int;

    pub fn kvm_call(req: *const c_void, req_len: usize, resp: *mut c_void, resp_cap: usize, resp_len: *mut usize) -> c_int;
}
