// Links this cdylib against libkv.so (its calls go through the PLT), found through an rpath.
use std::{env, path::PathBuf};

fn main() {
    let build = PathBuf::from(env::var("KV_BUILD_DIR").expect("KV_BUILD_DIR: the CMake build folder"));
    let engine = build.join("engine");
    println!("cargo:rustc-link-search=native={}", engine.display());
    println!("cargo:rustc-link-lib=dylib=kv");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-rpath,{}", engine.display());
    println!("cargo:rerun-if-env-changed=KV_BUILD_DIR");
    println!("cargo:rerun-if-changed={}", engine.join("libkv.so").display());
}
