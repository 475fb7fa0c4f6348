//! $FFIBENCH_DATA as the worker reads it (bench/dataset.h): manifest.txt's facts and workload
//! vocabulary, the four tables checked against their declared sizes, and their FNV-1a 64 checksum.
//! Nothing is derived: every parameter value comes from the manifest.
use kvbench::data::DataRef;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub struct Data {
    pub dir: PathBuf,
    facts: HashMap<String, Vec<String>>,
    workloads: HashMap<String, Vec<String>>, // name -> [param, values, ops]
    keys: Vec<u8>,
    order: Vec<u32>,
    miss: Vec<u8>,
    put_keys: Vec<u8>,
    pub r: DataRef,
}

fn fail<T>(what: String) -> Result<T, String> {
    Err(what)
}

impl Data {
    pub fn load(dir: &Path) -> Result<&'static Data, String> {
        let text = std::fs::read_to_string(dir.join("manifest.txt")).map_err(|e| format!("{}/manifest.txt: {e}", dir.display()))?;
        let (mut facts, mut workloads) = (HashMap::new(), HashMap::new());
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let f: Vec<String> = line.split('\t').map(String::from).collect();
            if f[0] == "workload" && f.len() >= 5 {
                workloads.insert(f[1].clone(), f[2..].to_vec());
            } else {
                facts.insert(f[0].clone(), f[1..].to_vec());
            }
        }
        let mut d = Data { dir: dir.to_path_buf(), facts, workloads, keys: vec![], order: vec![], miss: vec![], put_keys: vec![],
                           r: unsafe { std::mem::zeroed() } };
        let key_len = d.fact_num("keys", 2)?;
        let (keys, n_keys) = d.table("keys", key_len)?;
        let (order, n_order) = d.table("order", 4)?;
        let (miss, n_miss) = d.table("miss", key_len)?;
        let (put_keys, n_put) = d.table("put_keys", key_len)?;
        if n_order != n_keys || d.fact_num("order", 2)? != 4 {
            return fail("order.u32 does not hold one u32 per key".into());
        }
        d.order = order.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect();
        if d.order.iter().any(|&o| o as usize >= n_keys) {
            return fail("order.u32 holds an index out of range".into());
        }
        (d.keys, d.miss, d.put_keys) = (keys, miss, put_keys);
        let scan_records = d.workload_ops("scan/dir:upcall")?;
        if scan_records >= n_keys {
            return fail("the scan covers more records than there are keys".into());
        }
        d.r = DataRef { keys: d.keys.as_ptr(), n_keys, order: d.order.as_ptr(), miss: d.miss.as_ptr(), n_miss,
                        put_keys: d.put_keys.as_ptr(), n_put, key_len, val_len: d.fact_num("value_length", 0)?, scan_records };
        if d.r.val_len < 8 || d.r.val_len > 64 {
            return fail(format!("value_length {} is outside 8..64", d.r.val_len));
        }
        // The tables' memory never moves again: the Vecs live as long as the process.
        Ok(Box::leak(Box::new(d)))
    }

    fn fact_num(&self, name: &str, field: usize) -> Result<usize, String> {
        self.facts.get(name).and_then(|f| f.get(field)).and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("manifest.txt: no number in field {field} of {name}"))
    }

    /// A table file's bytes and rows, checked against the manifest's "name file rows width".
    fn table(&self, name: &str, width: usize) -> Result<(Vec<u8>, usize), String> {
        let f = self.facts.get(name).ok_or_else(|| format!("manifest.txt has no {name}"))?;
        let (file, rows) = (&f[0], self.fact_num(name, 1)?);
        let blob = std::fs::read(self.dir.join(file)).map_err(|e| format!("{file}: {e}"))?;
        if blob.len() != rows * width {
            return fail(format!("{file}: {} bytes, the manifest says {rows} x {width}", blob.len()));
        }
        Ok((blob, rows))
    }

    /// A workload's parameter values (manifest: "workload NAME PARAM V1,V2,... OPS").
    pub fn workload_values(&self, name: &str) -> Result<Vec<usize>, String> {
        let w = self.workloads.get(name).ok_or_else(|| format!("manifest.txt has no workload {name}"))?;
        w[1].split(',').map(|v| v.parse().map_err(|_| format!("workload {name}: bad value {v}"))).collect()
    }

    pub fn workload_ops(&self, name: &str) -> Result<usize, String> {
        let w = self.workloads.get(name).ok_or_else(|| format!("manifest.txt has no workload {name}"))?;
        w[2].parse().map_err(|_| format!("workload {name}: bad operation count {}", w[2]))
    }

    pub fn checksum(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |b: &[u8]| {
            for &x in b {
                h = (h ^ x as u64).wrapping_mul(0x0000_0100_0000_01b3);
            }
        };
        feed(&self.keys);
        for o in &self.order {
            feed(&o.to_le_bytes());
        }
        feed(&self.miss);
        feed(&self.put_keys);
        format!("fnv1a64:{h:016x}")
    }
}
