//! A registry hive file (REGF): the base block, then every key reached from the root (depth and
//! count bounded here, as a caller walking a hostile hive must), each key's name, subkeys and
//! values, each value's data as every type. Whatever the input, an error names a byte of the
//! file and no value holds more data than the file.
#![no_main]
use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use vhd_viewer::registry::{Hive, HiveError};

fn check(e: &HiveError, len: usize) {
    assert!(e.offset() <= len as u64, "{e} names a byte past the file's {len}");
    let _ = (e.code(), e.to_string());
}

fuzz_target!(|data: &[u8]| {
    let hive = match Hive::parse(data) {
        Ok(h) => h,
        Err(e) => return check(&e, data.len()),
    };
    let _ = (hive.header.dirty(), hive.header.checksum_ok(), hive.truncated());
    let _ = hive.key("Microsoft\\Windows NT\\CurrentVersion").map_err(|e| check(&e, data.len()));
    let root = match hive.root() {
        Ok(k) => k,
        Err(e) => return check(&e, data.len()),
    };
    let mut seen = HashSet::new();
    let mut stack = vec![(root, 0)];
    while let Some((key, depth)) = stack.pop() {
        if !seen.insert(key.offset()) || seen.len() > 4096 {
            continue;
        }
        let _ = (key.name(), key.last_written(), key.subkey_count());
        match key.values() {
            Ok(values) => {
                for v in values {
                    assert!(v.bytes().len() <= data.len());
                    let _ = (v.as_string(), v.as_u32(), v.as_u64(), v.as_multi());
                }
            }
            Err(e) => check(&e, data.len()),
        }
        match key.subkeys() {
            Ok(keys) if depth < 32 => stack.extend(keys.into_iter().map(|k| (k, depth + 1))),
            Ok(_) => {}
            Err(e) => check(&e, data.len()),
        }
    }
});
