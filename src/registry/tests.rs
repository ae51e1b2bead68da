//! Hives built cell by cell here: a good one read back, and hostile ones (loops, cells past the
//! end, absurd counts) refused with the byte they were met at.

use super::*;

/// A hive being built: cells appended to one hive bin.
struct Build {
    bins: Vec<u8>,
}

impl Build {
    fn new() -> Self {
        let mut bins = vec![0u8; 0x20];
        bins[..4].copy_from_slice(b"hbin");
        Build { bins }
    }

    /// Appends an allocated cell holding `record`; its offset from the first hive bin.
    fn cell(&mut self, record: &[u8]) -> u32 {
        let off = self.bins.len() as u32;
        let size = (4 + record.len()).div_ceil(8) * 8;
        self.bins.extend_from_slice(&(-(size as i32)).to_le_bytes());
        self.bins.extend_from_slice(record);
        self.bins.resize(off as usize + size, 0);
        off
    }

    /// Sets the 32-bit field at byte `at` of the record in the cell at `off`.
    fn set(&mut self, off: u32, at: usize, v: u32) {
        let p = off as usize + 4 + at;
        self.bins[p..p + 4].copy_from_slice(&v.to_le_bytes());
    }

    /// Sets the size field of the cell at `off`.
    fn size(&mut self, off: u32, size: i32) {
        self.bins[off as usize..off as usize + 4].copy_from_slice(&size.to_le_bytes());
    }

    /// The hive file: base block (root `root`, sequence numbers `seq`), the bin padded to 4 KiB.
    fn finish(mut self, root: u32, seq: (u32, u32)) -> Vec<u8> {
        let len = self.bins.len().div_ceil(4096) * 4096;
        self.bins.resize(len, 0);
        self.bins[8..12].copy_from_slice(&(len as u32).to_le_bytes());
        let mut f = vec![0u8; 4096];
        f[..4].copy_from_slice(b"regf");
        f[4..8].copy_from_slice(&seq.0.to_le_bytes());
        f[8..12].copy_from_slice(&seq.1.to_le_bytes());
        f[0x14..0x18].copy_from_slice(&1u32.to_le_bytes());
        f[0x18..0x1C].copy_from_slice(&5u32.to_le_bytes());
        f[0x24..0x28].copy_from_slice(&root.to_le_bytes());
        f[0x28..0x2C].copy_from_slice(&(len as u32).to_le_bytes());
        let sum = (0..0x1FC).step_by(4).fold(0u32, |x, at| x ^ le32(&f, at));
        f[0x1FC..0x200].copy_from_slice(&sum.to_le_bytes());
        f.extend_from_slice(&self.bins);
        f
    }
}

/// An `nk` record named `name` (Latin-1 when `compressed`, else UTF-16LE).
fn nk(name: &str, compressed: bool, subkeys: (u32, u32), values: (u32, u32)) -> Vec<u8> {
    let name: Vec<u8> = if compressed { name.bytes().collect() } else { name.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let mut r = vec![0u8; NK_NAME];
    r[..2].copy_from_slice(b"nk");
    r[2..4].copy_from_slice(&(if compressed { 0x20u16 } else { 0 }).to_le_bytes());
    r[4..12].copy_from_slice(&0x01D9_0000_0000_0000u64.to_le_bytes());
    r[0x14..0x18].copy_from_slice(&subkeys.0.to_le_bytes());
    r[0x1C..0x20].copy_from_slice(&subkeys.1.to_le_bytes());
    r[0x20..0x24].copy_from_slice(&NONE.to_le_bytes());
    r[0x24..0x28].copy_from_slice(&values.0.to_le_bytes());
    r[0x28..0x2C].copy_from_slice(&values.1.to_le_bytes());
    r[0x48..0x4A].copy_from_slice(&(name.len() as u16).to_le_bytes());
    r.extend_from_slice(&name);
    r
}

/// A `vk` record: `size` as stored (high bit: inline), `data` its offset field.
fn vk(name: &str, kind: u32, size: u32, data: u32) -> Vec<u8> {
    let mut r = vec![0u8; VK_NAME];
    r[..2].copy_from_slice(b"vk");
    r[2..4].copy_from_slice(&(name.len() as u16).to_le_bytes());
    r[4..8].copy_from_slice(&size.to_le_bytes());
    r[8..12].copy_from_slice(&data.to_le_bytes());
    r[0x0C..0x10].copy_from_slice(&kind.to_le_bytes());
    r[0x10..0x12].copy_from_slice(&1u16.to_le_bytes());
    r.extend_from_slice(name.as_bytes());
    r
}

/// A subkey list of signature `sig` naming `keys` (with a zero hash for `lf`/`lh`).
fn list(sig: &[u8; 2], keys: &[u32]) -> Vec<u8> {
    let mut r = sig.to_vec();
    r.extend_from_slice(&(keys.len() as u16).to_le_bytes());
    for k in keys {
        r.extend_from_slice(&k.to_le_bytes());
        if sig == b"lf" || sig == b"lh" {
            r.extend_from_slice(&[0; 4]);
        }
    }
    r
}

fn offsets(o: &[u32]) -> Vec<u8> {
    o.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16().chain([0]).flat_map(u16::to_le_bytes).collect()
}

/// root → "Software" (an `lf`) → "Microsoft" and "Ünïcødé" (UTF-16 name, through an `ri` of an
/// `li`), values of every type on "Microsoft".
fn good() -> (Vec<u8>, Vec<u8>) {
    let mut b = Build::new();
    let text = utf16z("Windows 10 Pro");
    let text_cell = b.cell(&text);
    let multi: Vec<u8> = ["a", "bc"].iter().flat_map(|s| utf16z(s)).chain([0, 0]).collect();
    let multi_cell = b.cell(&multi);
    let qword = b.cell(&0x0123_4567_89AB_CDEFu64.to_le_bytes());
    let big: Vec<u8> = (0..40_000u32).map(|k| (k % 251) as u8).collect();
    let seg1 = b.cell(&big[..SEGMENT]);
    let seg2 = b.cell(&big[SEGMENT..2 * SEGMENT]);
    let seg3 = b.cell(&big[2 * SEGMENT..]);
    let segs = b.cell(&offsets(&[seg1, seg2, seg3]));
    let mut db = b"db".to_vec();
    db.extend_from_slice(&3u16.to_le_bytes());
    db.extend_from_slice(&segs.to_le_bytes());
    let db = b.cell(&db);
    let values = [
        b.cell(&vk("ProductName", kind::SZ, text.len() as u32, text_cell)),
        b.cell(&vk("InstallDate", kind::DWORD, 0x8000_0004, 0x5F5E_1000)),
        b.cell(&vk("Be", kind::DWORD_BE, 0x8000_0004, 0x0100_0000)),
        b.cell(&vk("Q", kind::QWORD, 8, qword)),
        b.cell(&vk("Multi", kind::MULTI_SZ, multi.len() as u32, multi_cell)),
        b.cell(&vk("", 1003, 0, 0)),
        b.cell(&vk("Big", kind::BINARY, big.len() as u32, db)),
    ];
    let vlist = b.cell(&offsets(&values));
    let ms = b.cell(&nk("Microsoft", true, (0, NONE), (values.len() as u32, vlist)));
    let uni = b.cell(&nk("Ünïcødé", false, (0, NONE), (0, NONE)));
    let li = b.cell(&list(b"li", &[uni]));
    let lh = b.cell(&list(b"lh", &[ms]));
    let ri = b.cell(&list(b"ri", &[lh, li]));
    let sw = b.cell(&nk("Software", true, (2, ri), (0, NONE)));
    let lf = b.cell(&list(b"lf", &[sw]));
    let root = b.cell(&nk("ROOT", true, (1, lf), (0, NONE)));
    (b.finish(root, (7, 7)), big)
}

#[test]
fn a_good_hive_reads_back_keys_values_and_every_type() {
    let (file, big) = good();
    let h = Hive::parse(&file).unwrap();
    assert!(!h.header.dirty() && h.header.checksum_ok() && !h.truncated());
    assert_eq!(h.root().unwrap().name(), "ROOT");
    let names: Vec<String> = h.key("software").unwrap().unwrap().subkeys().unwrap().iter().map(Key::name).collect();
    assert_eq!(names, ["Microsoft", "Ünïcødé"]);
    assert!(h.key("SOFTWARE\\ünïcødé").unwrap().is_some(), "non-ASCII names compare without case");
    assert!(h.key("Software\\Nothing").unwrap().is_none());
    let k = h.key("\\SOFTWARE\\MICROSOFT").unwrap().unwrap();
    assert_eq!(k.last_written(), 0x01D9_0000_0000_0000);
    assert_eq!(k.value("productname").unwrap().unwrap().as_string().as_deref(), Some("Windows 10 Pro"));
    assert_eq!(k.value("InstallDate").unwrap().unwrap().as_u32(), Some(0x5F5E_1000));
    assert_eq!(k.value("Be").unwrap().unwrap().as_u32(), Some(1));
    assert_eq!(k.value("Q").unwrap().unwrap().as_u64(), Some(0x0123_4567_89AB_CDEF));
    assert_eq!(k.value("Multi").unwrap().unwrap().as_multi().unwrap(), ["a", "bc"]);
    let default = k.value("").unwrap().unwrap();
    assert_eq!((default.kind, default.bytes().len()), (1003, 0));
    assert_eq!(default.as_string(), None, "a type that is not text is no text");
    assert_eq!(k.value("Big").unwrap().unwrap().bytes(), &big[..], "a db record's three segments joined");
    assert!(k.value("Missing").unwrap().is_none());
}

#[test]
fn the_base_block_says_dirty_and_a_bad_checksum() {
    let (mut file, _) = good();
    file[8] ^= 1;
    let h = Hive::parse(&file).unwrap();
    assert!(h.header.dirty());
    assert!(!h.header.checksum_ok());
    assert!(h.key("Software\\Microsoft").unwrap().is_some(), "a dirty hive is read as stored");
    file.truncate(file.len() - 4096);
    let h = Hive::parse(&file).unwrap();
    assert!(h.truncated());
    assert!(matches!(h.root(), Err(HiveError::CellOutside { from: 0x24, .. })));
}

#[test]
fn what_is_not_a_hive_is_refused_at_its_start() {
    assert_eq!(Hive::parse(&[0; 100]).unwrap_err(), HiveError::TooShort { len: 100 });
    let (mut file, _) = good();
    file[0] = b'x';
    assert!(matches!(Hive::parse(&file), Err(HiveError::Signature { .. })));
    file[0] = b'r';
    file[0x14] = 2;
    assert_eq!(Hive::parse(&file).unwrap_err(), HiveError::Version { major: 2 });
}

/// A hive whose root's subkey list is what `make` builds from the root's would-be offset.
fn with_root_list(make: impl FnOnce(&mut Build, u32) -> (u32, u32)) -> Vec<u8> {
    let mut b = Build::new();
    let root = b.cell(&nk("ROOT", true, (0, NONE), (0, NONE)));
    let (count, list) = make(&mut b, root);
    b.set(root, 0x14, count);
    b.set(root, 0x1C, list);
    b.finish(root, (1, 1))
}

#[test]
fn a_key_listed_again_is_a_loop_named_where_it_is() {
    // The root lists itself.
    let file = with_root_list(|b, root| (1, b.cell(&list(b"lf", &[root]))));
    let h = Hive::parse(&file).unwrap();
    let err = h.root().unwrap().subkeys().unwrap_err();
    assert!(matches!(err, HiveError::Loop { at: 0x1020, .. }), "{err}");
    assert_eq!(err.offset(), 0x1078, "the list's byte");
    // One child twice.
    let file = with_root_list(|b, _| {
        let child = b.cell(&nk("A", true, (0, NONE), (0, NONE)));
        (2, b.cell(&list(b"lh", &[child, child])))
    });
    let h = Hive::parse(&file).unwrap();
    assert!(matches!(h.key("B"), Err(HiveError::Loop { .. })));
    // An index root naming one list twice, and one naming an index root.
    let file = with_root_list(|b, _| {
        let child = b.cell(&nk("A", true, (0, NONE), (0, NONE)));
        let li = b.cell(&list(b"li", &[child]));
        (2, b.cell(&list(b"ri", &[li, li])))
    });
    assert!(matches!(Hive::parse(&file).unwrap().root().unwrap().subkeys(), Err(HiveError::Loop { .. })));
    let file = with_root_list(|b, _| {
        let child = b.cell(&nk("A", true, (0, NONE), (0, NONE)));
        let li = b.cell(&list(b"li", &[child]));
        let inner = b.cell(&list(b"ri", &[li]));
        (1, b.cell(&list(b"ri", &[inner])))
    });
    let err = Hive::parse(&file).unwrap().root().unwrap().subkeys().unwrap_err();
    assert!(matches!(err, HiveError::ListNested { .. }), "{err}");
}

#[test]
fn absurd_counts_are_checked_against_their_cell() {
    // 10^9 subkeys claimed by the key, 65535 by a list of one entry's room.
    let file = with_root_list(|b, _| {
        let child = b.cell(&nk("A", true, (0, NONE), (0, NONE)));
        let mut l = list(b"lf", &[child]);
        l[2..4].copy_from_slice(&u16::MAX.to_le_bytes());
        (1_000_000_000, b.cell(&l))
    });
    let err = Hive::parse(&file).unwrap().root().unwrap().subkeys().unwrap_err();
    assert!(matches!(err, HiveError::RecordShort { need: 524_284, .. }), "{err}");
    // 10^9 claimed by the key over a true list of one: the list is what is read.
    let file = with_root_list(|b, _| {
        let child = b.cell(&nk("A", true, (0, NONE), (0, NONE)));
        (1_000_000_000, b.cell(&list(b"lf", &[child])))
    });
    assert_eq!(Hive::parse(&file).unwrap().root().unwrap().subkeys().unwrap().len(), 1);
    // 10^9 values claimed.
    let mut b = Build::new();
    let vlist = b.cell(&offsets(&[0x20]));
    let root = b.cell(&nk("ROOT", true, (0, NONE), (1_000_000_000, vlist)));
    let file = b.finish(root, (1, 1));
    assert!(matches!(Hive::parse(&file).unwrap().root().unwrap().values(), Err(HiveError::RecordShort { .. })));
}

#[test]
fn big_data_with_absurd_segment_counts_or_lengths_is_refused() {
    let build = |segments: u16, len: u32| {
        let mut b = Build::new();
        let seg = b.cell(&[7u8; SEGMENT]);
        let segs = b.cell(&offsets(&[seg, seg]));
        let mut db = b"db".to_vec();
        db.extend_from_slice(&segments.to_le_bytes());
        db.extend_from_slice(&segs.to_le_bytes());
        let db = b.cell(&db);
        let v = b.cell(&vk("V", kind::BINARY, len, db));
        let vlist = b.cell(&offsets(&[v]));
        let root = b.cell(&nk("ROOT", true, (0, NONE), (1, vlist)));
        b.finish(root, (1, 1))
    };
    let file = build(u16::MAX, 20_000);
    let err = Hive::parse(&file).unwrap().root().unwrap().value("V").unwrap_err();
    assert!(matches!(err, HiveError::RecordShort { need: 262_140, .. }), "{err}");
    let file = build(2, 0x7FFF_FFFF);
    let err = Hive::parse(&file).unwrap().root().unwrap().values().unwrap_err();
    assert!(matches!(err, HiveError::DataLength { len: 0x7FFF_FFFF, .. }), "{err}");
    // One segment for data of two.
    let file = build(1, 20_000);
    assert!(matches!(Hive::parse(&file).unwrap().root().unwrap().values(), Err(HiveError::RecordShort { need: 20_000, .. })));
    let file = build(2, 20_000);
    assert_eq!(Hive::parse(&file).unwrap().root().unwrap().values().unwrap()[0].bytes().len(), 20_000);
}

#[test]
fn cells_past_the_end_or_of_no_size_are_refused_with_their_byte() {
    // A child whose cell claims 1 MiB.
    let file = with_root_list(|b, _| {
        let child = b.cell(&nk("A", true, (0, NONE), (0, NONE)));
        b.size(child, -(1 << 20));
        (1, b.cell(&list(b"lf", &[child])))
    });
    let err = Hive::parse(&file).unwrap().root().unwrap().subkeys().unwrap_err();
    assert_eq!(err, HiveError::CellPastEnd { at: 0x1078, size: 1 << 20, end: 0x2000 });
    assert!(err.to_string().starts_with("at byte 0x1078: "), "{err}");
    // A child whose cell size is zero, and one past the hive bins.
    let file = with_root_list(|b, _| {
        let child = b.cell(&nk("A", true, (0, NONE), (0, NONE)));
        b.size(child, 0);
        (1, b.cell(&list(b"lf", &[child])))
    });
    assert_eq!(Hive::parse(&file).unwrap().root().unwrap().subkeys().unwrap_err(), HiveError::CellSize { at: 0x1078, size: 0 });
    let file = with_root_list(|b, _| (1, b.cell(&list(b"lf", &[0x7FFF_0000]))));
    let err = Hive::parse(&file).unwrap().root().unwrap().subkeys().unwrap_err();
    assert!(matches!(err, HiveError::CellOutside { at: 0x7FFF_1000, .. }), "{err}");
    // A key's name longer than its cell.
    let mut b = Build::new();
    let root = b.cell(&nk("ROOT", true, (0, NONE), (0, NONE)));
    b.bins[root as usize + 4 + 0x48] = 0xFF;
    let file = b.finish(root, (1, 1));
    assert!(matches!(Hive::parse(&file).unwrap().root(), Err(HiveError::RecordShort { what: "a key", .. })));
}

#[test]
fn a_value_is_read_past_another_values_damaged_data() {
    let mut b = Build::new();
    let text = utf16z("good");
    let text_cell = b.cell(&text);
    let bad = b.cell(&vk("Bad", kind::BINARY, 100, 0x7FFF_0000));
    let good = b.cell(&vk("Good", kind::SZ, text.len() as u32, text_cell));
    let vlist = b.cell(&offsets(&[bad, good]));
    let root = b.cell(&nk("ROOT", true, (0, NONE), (2, vlist)));
    let file = b.finish(root, (1, 1));
    let h = Hive::parse(&file).unwrap();
    let k = h.root().unwrap();
    assert_eq!(k.value("good").unwrap().unwrap().as_string().as_deref(), Some("good"));
    let err = k.value("Bad").unwrap_err();
    assert_eq!(err, HiveError::CellOutside { from: 0x1000 + u64::from(bad) + 4 + 8, at: 0x7FFF_1000, end: 0x2000 });
    assert_eq!(k.values().unwrap_err(), err);
}
