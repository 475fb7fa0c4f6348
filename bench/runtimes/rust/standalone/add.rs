// add.rs — the simplest standalone loop, sharing no code with the worker: kv_add through an
// extern "C" block, x = kv_add(x, 1) in a for loop, 5 rounds of 20 M calls, the median ns per call
// (loop included). ./build compiles it twice with rustc: libkv.a linked in (add-static) and
// libkv.so (add-dynamic).
use std::time::Instant;

extern "C" {
    fn kv_add(a: i32, b: i32) -> i32;
}

fn main() {
    const N: i32 = 20_000_000;
    let mut ns = Vec::new();
    let mut x = std::hint::black_box(0i32);
    for _ in 0..5 {
        let t0 = Instant::now();
        for _ in 0..N {
            x = unsafe { kv_add(x, 1) };
        }
        ns.push(t0.elapsed().as_nanos() as f64 / N as f64);
    }
    ns.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(std::hint::black_box(x), 5 * N);
    println!("{:.4}", ns[2]);
}
