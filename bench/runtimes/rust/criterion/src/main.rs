//! criterion-add: criterion 0.3 timing `x = kv_add(x, 1)` (the latency chain of the suite's
//! rust/direct/add/mode:latency), then prints criterion's own estimate of the time per iteration
//! (the slope of its linear sampling, from estimates.json) in ns: what a Rust user's criterion
//! bench would report. Its output folder is a temporary one, removed afterwards.
use criterion::{black_box, Criterion};
use std::time::Duration;

extern "C" {
    fn kv_add(a: i32, b: i32) -> i32;
}

fn main() {
    let home = std::env::temp_dir().join(format!("ffibench-criterion-{}", std::process::id()));
    std::env::set_var("CRITERION_HOME", &home);
    let mut c = Criterion::default().without_plots().warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2)).sample_size(50).output_directory(&home);
    let mut x = 0i32;
    c.bench_function("kv_add", |b| b.iter(|| { x = unsafe { kv_add(black_box(x), 1) }; x }));
    let est = std::fs::read_to_string(home.join("kv_add/new/estimates.json")).expect("criterion's estimates.json");
    let v: serde_json::Value = serde_json::from_str(&est).expect("estimates.json parses");
    let ns = v["slope"]["point_estimate"].as_f64().or_else(|| v["median"]["point_estimate"].as_f64()).expect("an estimate");
    let _ = std::fs::remove_dir_all(&home);
    println!("{ns:.4}");
}
