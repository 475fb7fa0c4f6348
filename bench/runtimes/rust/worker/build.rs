// Links libkv.a (and the LMDB it needs) into the worker: the direct, handle and marshal mechanisms
// call it as linked (bench/runtimes/rust/README.md). Records rustc's version for `hello`.
use std::{env, path::PathBuf, process::Command};

fn main() {
    let build = PathBuf::from(env::var("KV_BUILD_DIR").expect("KV_BUILD_DIR: the CMake build folder"));
    let engine = build.join("engine");
    println!("cargo:rustc-link-search=native={}", engine.display());
    println!("cargo:rustc-link-lib=static=kv");
    println!("cargo:rustc-link-lib=dylib=lmdb");
    println!("cargo:rerun-if-env-changed=KV_BUILD_DIR");
    println!("cargo:rerun-if-changed={}", engine.join("libkv.a").display());
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let v = Command::new(rustc).arg("--version").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!("cargo:rustc-env=FFIBENCH_RUSTC_VERSION={v}");
}
