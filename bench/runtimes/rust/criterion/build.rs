// Links libkv.a, as the worker's direct mechanism does.
use std::{env, path::PathBuf};

fn main() {
    let engine = PathBuf::from(env::var("KV_BUILD_DIR").expect("KV_BUILD_DIR")).join("engine");
    println!("cargo:rustc-link-search=native={}", engine.display());
    println!("cargo:rustc-link-lib=static=kv");
    println!("cargo:rustc-link-lib=dylib=lmdb");
    println!("cargo:rerun-if-env-changed=KV_BUILD_DIR");
    println!("cargo:rerun-if-changed={}", engine.join("libkv.a").display());
}
