// Generates kvbench::abi (libkv's constants) from the engine build's kv_abi.json ($KV_BUILD_DIR).
use std::{env, path::PathBuf, process::Command};

fn main() {
    let build = env::var("KV_BUILD_DIR").expect("KV_BUILD_DIR: the CMake build folder");
    let json = PathBuf::from(build).join("engine").join("kv_abi.json");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("kv_abi.rs");
    let gen = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("..").join("gen_abi.py");
    let ok = Command::new("/usr/bin/python3").arg(&gen).arg(&json).arg(&out).status()
        .map(|s| s.success()).unwrap_or(false);
    assert!(ok, "gen_abi.py {} failed", json.display());
    println!("cargo:rerun-if-env-changed=KV_BUILD_DIR");
    println!("cargo:rerun-if-changed={}", json.display());
    println!("cargo:rerun-if-changed={}", gen.display());
}
