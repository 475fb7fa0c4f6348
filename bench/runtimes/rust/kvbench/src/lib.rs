//! kvbench — the Rust runtime's bindings of libkv and its workload loops.
//!
//! `ffi` declares libkv's C functions (kv.h, kv_handle.h, kv_marshal.h) with no `#[link]`: the
//! artifact that uses them says how they are linked (the worker links libkv.a, the plt cdylib
//! libkv.so; their build.rs). `mech` puts each ABI style behind one trait, `Mech`, whose methods
//! are `#[inline(always)]` wrappers of one foreign call each; `loops` holds the workload loops,
//! generic over `Mech`, so each mechanism's monomorphised loop holds that mechanism's own call site
//! (the Rust counterpart of bench/loops.h, compiled once per row).
pub mod abi {
    #![allow(dead_code)]
    include!(concat!(env!("OUT_DIR"), "/kv_abi.rs"));
}
pub mod clock;
pub mod data;
pub mod ffi;
pub mod loops;
pub mod mech;
