//! The data set's tables as the loops see them: borrowed, read-only, `#[repr(C)]` so that the plt
//! cdylib reads the worker's copy (the worker loads $FFIBENCH_DATA once; see worker/src/data.rs).

/// Raw views of the tables; the worker owns the memory for the life of the process.
#[repr(C)]
pub struct DataRef {
    pub keys: *const u8, // n_keys x key_len
    pub n_keys: usize,
    pub order: *const u32, // n_keys
    pub miss: *const u8,   // n_miss x key_len
    pub n_miss: usize,
    pub put_keys: *const u8, // n_put x key_len
    pub n_put: usize,
    pub key_len: usize,
    pub val_len: usize,
    pub scan_records: usize,
}
// The tables are never written after loading.
unsafe impl Sync for DataRef {}
unsafe impl Send for DataRef {}

impl DataRef {
    #[inline(always)]
    pub fn key(&self, i: usize) -> &[u8] {
        assert!(i < self.n_keys);
        unsafe { std::slice::from_raw_parts(self.keys.add(i * self.key_len), self.key_len) }
    }
    #[inline(always)]
    pub fn order(&self, i: usize) -> u32 {
        assert!(i < self.n_keys);
        unsafe { *self.order.add(i) }
    }
    #[inline(always)]
    pub fn miss(&self, i: usize) -> &[u8] {
        assert!(i < self.n_miss);
        unsafe { std::slice::from_raw_parts(self.miss.add(i * self.key_len), self.key_len) }
    }
    #[inline(always)]
    pub fn put_key(&self, i: usize) -> &[u8] {
        assert!(i < self.n_put);
        unsafe { std::slice::from_raw_parts(self.put_keys.add(i * self.key_len), self.key_len) }
    }
}

/// bytes 0..4 of a value as u32 little-endian (the next index; 4..8: the record's own index).
#[inline(always)]
pub fn get32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
