//! Shared helpers of the integration tests: fixtures made by `qemu-img`/`qemu-io` (cached by
//! content under `tests/work/`, which is git-ignored), the real samples in `tests/data`,
//! byte patching with checksums recomputed independently of the core, running the command line,
//! running the independent readers (`qemu-img`, `7zz`, `vhdiinfo`), and golden files.
//!
//! Nothing here is a hand-edited binary: every fixture is made from the specs in this file.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};

/// The BitLocker test volumes (the writer and its VHDs).
pub mod bitlocker;

// ---------------------------------------------------------------------------------------------
// Places

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/work/<sub>`, created. Git-ignored; safe to delete at any time.
pub fn work(sub: &str) -> PathBuf {
    let d = repo().join("tests").join("work").join(sub);
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("cannot create {}: {e}", d.display()));
    d
}

/// A fresh, empty directory `tests/work/tmp/<pid>/<name>` for one test. Per process, so that two
/// `cargo test` runs in the same tree at once do not trample each other; the folders of
/// processes that are gone are removed the first time a process asks for one.
pub fn scratch(name: &str) -> PathBuf {
    static CLEANED: std::sync::Once = std::sync::Once::new();
    let root = work("tmp");
    let me = std::process::id().to_string();
    CLEANED.call_once(|| {
        for e in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            let alive = n.parse::<u32>().is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
            if n != me && !alive {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    });
    let d = root.join(me).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The built command line.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_vhd-viewer")
}

/// Writes `bytes` to `path` atomically (a temporary name, then a rename), so that tests running
/// at the same time never see half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) {
    static N: AtomicU64 = AtomicU64::new(0);
    let tmp = path.with_extension(format!("tmp{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&tmp, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", tmp.display()));
    std::fs::rename(&tmp, path).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Hashing (for cache keys and deterministic ids): FNV-1a, stable across Rust versions.

pub fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// A deterministic 16-byte id derived from a name.
pub fn id_for(name: &str) -> [u8; 16] {
    let a = fnv(name.as_bytes()).to_be_bytes();
    let b = fnv(format!("{name}#2").as_bytes()).to_be_bytes();
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&a);
    id[8..].copy_from_slice(&b);
    id
}

/// The id as `vhdiinfo` and the viewer print it: hyphenated, bytes in stored order.
pub fn id_text(id: &[u8; 16]) -> String {
    let h: String = id.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

// ---------------------------------------------------------------------------------------------
// Bytes: big-endian fields and the VHD checksum, written here from the spec rather than taken
// from the core, so that the tests do not echo the code under test.

pub fn get32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}
pub fn get64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().unwrap())
}
pub fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}
pub fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_be_bytes());
}

/// Ones' complement of the byte sum of `s`, with the four bytes at `cks` taken as zero.
pub fn vhd_checksum(s: &[u8], cks: usize) -> u32 {
    let mut sum = 0u32;
    for (i, b) in s.iter().enumerate() {
        if !(cks..cks + 4).contains(&i) {
            sum = sum.wrapping_add(u32::from(*b));
        }
    }
    !sum
}

/// Footer field offsets (spec).
pub mod f {
    pub const COOKIE: usize = 0;
    pub const FEATURES: usize = 8;
    pub const DATA_OFFSET: usize = 16;
    pub const TIMESTAMP: usize = 24;
    pub const CREATOR_APP: usize = 28;
    pub const CREATOR_VER: usize = 32;
    pub const CREATOR_OS: usize = 36;
    pub const ORIGINAL_SIZE: usize = 40;
    pub const CURRENT_SIZE: usize = 48;
    pub const GEOMETRY: usize = 56;
    pub const DISK_TYPE: usize = 60;
    pub const CHECKSUM: usize = 64;
    pub const UNIQUE_ID: usize = 68;
}

/// Dynamic header field offsets (spec).
pub mod h {
    pub const COOKIE: usize = 0;
    pub const TABLE_OFFSET: usize = 16;
    pub const MAX_TABLE_ENTRIES: usize = 28;
    pub const BLOCK_SIZE: usize = 32;
    pub const CHECKSUM: usize = 36;
    pub const PARENT_ID: usize = 40;
    pub const PARENT_TIMESTAMP: usize = 56;
    pub const PARENT_NAME: usize = 64;
    pub const LOCATORS: usize = 576;
}

/// A VHD image in memory with the offsets of its structures, for deriving damaged variants.
#[derive(Clone)]
pub struct Image {
    pub bytes: Vec<u8>,
}

impl Image {
    pub fn read(path: &Path) -> Image {
        Image { bytes: std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())) }
    }
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64
    }
    /// Offset of the end footer.
    pub fn footer_at(&self) -> usize {
        self.bytes.len() - 512
    }
    pub fn is_sparse(&self) -> bool {
        get32(&self.bytes, self.footer_at() + f::DISK_TYPE) != 2
    }
    /// Offset of the dynamic header (from the end footer).
    pub fn header_at(&self) -> usize {
        get64(&self.bytes, self.footer_at() + f::DATA_OFFSET) as usize
    }
    pub fn table_at(&self) -> usize {
        get64(&self.bytes, self.header_at() + h::TABLE_OFFSET) as usize
    }
    pub fn block_size(&self) -> u64 {
        u64::from(get32(&self.bytes, self.header_at() + h::BLOCK_SIZE))
    }
    pub fn bat(&self, i: usize) -> u32 {
        get32(&self.bytes, self.table_at() + 4 * i)
    }
    pub fn set_bat(&mut self, i: usize, v: u32) {
        let at = self.table_at() + 4 * i;
        put32(&mut self.bytes, at, v);
    }
    /// Footers present: the end footer, and the copy at 0 for sparse disks.
    fn footers(&self) -> Vec<usize> {
        if self.is_sparse() {
            vec![0, self.footer_at()]
        } else {
            vec![self.footer_at()]
        }
    }
    /// Applies `edit` to every footer (end and copy), then recomputes their checksums.
    pub fn edit_footers(&mut self, edit: impl Fn(&mut [u8])) {
        for at in self.footers() {
            edit(&mut self.bytes[at..at + 512]);
            self.fix_footer(at);
        }
    }
    /// Recomputes the checksum of the footer at `at`.
    pub fn fix_footer(&mut self, at: usize) {
        let c = vhd_checksum(&self.bytes[at..at + 512], f::CHECKSUM);
        put32(&mut self.bytes, at + f::CHECKSUM, c);
    }
    /// Applies `edit` to the dynamic header, then recomputes its checksum.
    pub fn edit_header(&mut self, edit: impl FnOnce(&mut [u8])) {
        let at = self.header_at();
        edit(&mut self.bytes[at..at + 1024]);
        let c = vhd_checksum(&self.bytes[at..at + 1024], h::CHECKSUM);
        put32(&mut self.bytes, at + h::CHECKSUM, c);
    }
    pub fn unique_id(&self) -> [u8; 16] {
        let at = self.footer_at() + f::UNIQUE_ID;
        self.bytes[at..at + 16].try_into().unwrap()
    }
    pub fn write(&self, path: &Path) {
        write_atomic(path, &self.bytes);
    }
}

// ---------------------------------------------------------------------------------------------
// External tools

fn tool_missing(tool: &str) -> ! {
    panic!("`{tool}` is not installed; run `scripts/setup.sh native` (Debian packages qemu-utils, 7zip, libvhdi-utils, xz-utils)")
}

/// Runs a program, panicking with its stderr when it cannot be started or fails.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = output(cmd);
    assert!(out.status.success(), "{cmd:?} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
    out
}

/// Runs a program and returns its output, whatever its status.
pub fn output(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            tool_missing(&cmd.get_program().to_string_lossy())
        }
        panic!("{cmd:?}: {e}")
    })
}

/// The command line's output for `args`.
pub fn cli(args: &[&str]) -> Output {
    output(Command::new(bin()).args(args))
}

/// The command line's output for `args`, run in `dir` (so that names print relative).
pub fn cli_in(dir: &Path, args: &[&str]) -> Output {
    output(Command::new(bin()).current_dir(dir).args(args))
}

/// Runs the command line, which must exit with `status` and not panic; returns (stdout, stderr).
pub fn vv_both(args: &[&str], status: i32) -> (String, String) {
    let o = cli(args);
    assert_eq!(o.status.code(), Some(status), "vhd-viewer {args:?}: {}{}", stdout(&o), stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    (stdout(&o), stderr(&o))
}

/// Runs the command line, which must exit with `status` and not panic; returns stdout.
pub fn vv(args: &[&str], status: i32) -> String {
    vv_both(args, status).0
}

/// A path as the command line takes it.
pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `len` bytes of a pattern of `seed`, none of them zero (so that no block of it is skipped as
/// zeros).
pub fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(29).wrapping_add(seed) | 1).collect()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `vhd-viewer cat FILE [extra...]`, which must succeed.
pub fn viewer_cat(file: &Path, extra: &[&str]) -> Vec<u8> {
    let mut args = vec!["cat", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = cli(&args);
    assert!(o.status.success(), "vhd-viewer {args:?} failed ({}): {}", o.status, stderr(&o));
    o.stdout
}

/// `vhd-viewer info --json FILE [extra...]` parsed.
pub fn viewer_info(file: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["info", "--json", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = cli(&args);
    assert!(o.status.success(), "vhd-viewer {args:?} failed ({}): {}", o.status, stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("info --json is not JSON: {e}"))
}

/// `qemu-img convert -O raw`: the flattened disk as qemu reads it.
pub fn qemu_raw(file: &Path) -> Vec<u8> {
    let out = file.with_extension(format!("qemu{}.raw", std::process::id()));
    run_ok(Command::new("qemu-img").args(["convert", "-f", "vpc", "-O", "raw"]).arg(file).arg(&out));
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    bytes
}

/// `7zz x -tVHD -so`: the flattened disk as 7-Zip reads it (it follows differencing parents
/// through the locators itself).
pub fn sevenzip_raw(file: &Path) -> Vec<u8> {
    run_ok(Command::new("7zz").args(["x", "-tVHD", "-so"]).arg(file)).stdout
}

/// `vhdiinfo -v` as field name -> value.
pub fn vhdiinfo(file: &Path) -> std::collections::BTreeMap<String, String> {
    let o = run_ok(Command::new("vhdiinfo").arg("-v").arg(file));
    stdout(&o).lines().filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect()
}

/// The number in parentheses of a `vhdiinfo` "Media size" value, e.g. `10 MiB (10514432 bytes)`.
pub fn vhdi_media_size(v: &str) -> u64 {
    let inner = v.rsplit_once('(').and_then(|(_, r)| r.split_once(' ')).map(|(n, _)| n).unwrap_or(v);
    inner.parse().unwrap_or_else(|_| panic!("cannot read a size in {v:?}"))
}

pub fn sha256(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut child =
        Command::new("sha256sum").stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().expect("sha256sum");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    stdout(&out).split_whitespace().next().unwrap().to_string()
}

/// The sha256 of what `cmd` writes on stdout, streamed (for disks too large to hold in memory).
pub fn sha256_stdout(cmd: &mut Command) -> String {
    use std::process::Stdio;
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap_or_else(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            tool_missing(&cmd.get_program().to_string_lossy())
        }
        panic!("{cmd:?}: {e}")
    });
    let out = child.stdout.take().unwrap();
    let sum = Command::new("sha256sum").stdin(out).stdout(Stdio::piped()).output().expect("sha256sum");
    let status = child.wait().unwrap();
    assert!(status.success(), "{cmd:?} failed ({status})");
    stdout(&sum).split_whitespace().next().unwrap().to_string()
}

/// The sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> String {
    let o = run_ok(Command::new("sha256sum").arg(path));
    stdout(&o).split_whitespace().next().unwrap().to_string()
}

/// Asserts two flattened disks are equal, naming the first differing byte (not dumping MiBs).
pub fn assert_same_bytes(what: &str, ours: &[u8], theirs: &[u8]) {
    if ours == theirs {
        return;
    }
    let first = ours.iter().zip(theirs).position(|(a, b)| a != b);
    panic!(
        "{what}: ours is {} bytes, theirs {} bytes; first difference at byte {:?} (ours {:?}, theirs {:?})",
        ours.len(),
        theirs.len(),
        first,
        first.map(|i| ours[i]),
        first.map(|i| theirs[i])
    );
}

// ---------------------------------------------------------------------------------------------
// qemu-made fixtures

/// The payload blocks `vhdx` holds (`info --json`'s `allocated_blocks`), after `qemu-img check`
/// has found it clean.
pub fn vhdx_allocated_blocks(vhdx: &Path) -> u64 {
    let o = output(Command::new("qemu-img").args(["check", "-f", "vhdx"]).arg(vhdx));
    assert!(o.status.success(), "qemu-img check {}: {}{}", vhdx.display(), stdout(&o), stderr(&o));
    let info: serde_json::Value = serde_json::from_slice(&run_ok(Command::new(bin()).arg("info").arg("--json").arg(vhdx)).stdout).unwrap();
    info["allocated_blocks"].as_u64().unwrap()
}

/// A disk `qemu-img create -f vpc` makes, with data `qemu-io` writes.
#[derive(Clone, Debug)]
pub struct QemuSpec {
    /// Name of the fixture (also its file name, `<name>.vhd`).
    pub name: &'static str,
    /// `fixed` or `dynamic`.
    pub subformat: &'static str,
    /// Size as qemu-img takes it (`10M`, `4194816`, `2040G`).
    pub size: &'static str,
    pub force_size: bool,
    /// `(pattern, offset, length)`: `qemu-io -c 'write -P pattern offset length'`.
    pub writes: Vec<(u8, u64, u64)>,
}

/// Timestamp patched into qemu-made fixtures: 2021-06-01T00:00:00Z (seconds since 2000).
pub const FIXTURE_TIMESTAMP: u32 = 675_820_800;

/// The fixtures made by qemu: fixed, dynamic and `force_size` ones of a few sizes, with data
/// at aligned and unaligned places, across a block boundary, in the last (partial) block and
/// in a partially written block.
pub fn qemu_specs() -> Vec<QemuSpec> {
    const M: u64 = 1 << 20;
    vec![
        QemuSpec {
            name: "qemu-fixed-3M",
            subformat: "fixed",
            size: "3M",
            force_size: false,
            // 3M rounds up to the CHS size 3168256 (6188 sectors); last sector 6187.
            writes: vec![(0x11, 0, 512), (0x22, 1000, 3000), (0x33, 3_167_744, 512)],
        },
        QemuSpec {
            name: "qemu-fixed-force",
            subformat: "fixed",
            size: "4194816", // 4 MiB + one sector: not a CHS size
            force_size: true,
            writes: vec![(0x44, 4_194_304, 512), (0x45, 777, 1)],
        },
        QemuSpec {
            name: "qemu-dynamic-10M",
            subformat: "dynamic",
            size: "10M", // CHS: 10514432 bytes, 5 blocks and a 28 KiB sixth
            force_size: false,
            writes: vec![
                (0x51, 0, 512),
                (0x52, 2 * M - 700, 1400),     // across the boundary of blocks 0 and 1, unaligned
                (0x53, 5 * M + 100, 10),       // a few bytes in the middle of block 2
                (0x54, 10_514_432 - 512, 512), // the last sector, in the partial last block
            ],
        },
        QemuSpec {
            name: "qemu-dynamic-force-5M",
            subformat: "dynamic",
            size: "5M", // two and a half blocks
            force_size: true,
            writes: vec![(0x61, 4 * M + 4096, 8192), (0x62, 5 * M - 512, 512), (0x63, 513, 511)],
        },
        QemuSpec { name: "qemu-dynamic-empty", subformat: "dynamic", size: "6M", force_size: false, writes: vec![] },
    ]
}

pub fn qemu_spec(name: &str) -> QemuSpec {
    qemu_specs().into_iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no qemu fixture {name}"))
}

fn qemu_version() -> String {
    static V: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    V.get_or_init(|| stdout(&run_ok(Command::new("qemu-img").arg("--version"))).lines().next().unwrap_or_default().to_string()).clone()
}

/// The fixture's file: made once, cached under `tests/work/qemu/<hash of spec and qemu
/// version>/<name>.vhd`. Unique id and time stamp are patched to fixed values (with the footer
/// checksums recomputed) so that the golden output is the same on every run.
pub fn qemu_fixture(spec: &QemuSpec) -> PathBuf {
    let key = format!("{spec:?} {} v3", qemu_version());
    let dir = work("qemu").join(format!("{:016x}", fnv(key.as_bytes())));
    let path = dir.join(format!("{}.vhd", spec.name));
    if path.is_file() {
        return path;
    }
    std::fs::create_dir_all(&dir).unwrap();
    static N: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!("{}.{}-{}.building", spec.name, std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    let _ = std::fs::remove_file(&tmp);
    let mut opts = format!("subformat={}", spec.subformat);
    if spec.force_size {
        opts.push_str(",force_size=on");
    }
    run_ok(Command::new("qemu-img").args(["create", "-q", "-f", "vpc", "-o", &opts]).arg(&tmp).arg(spec.size));
    if !spec.writes.is_empty() {
        let mut cmd = Command::new("qemu-io");
        cmd.args(["-f", "vpc"]);
        for (p, off, len) in &spec.writes {
            cmd.arg("-c").arg(format!("write -q -P {p:#x} {off} {len}"));
        }
        let o = run_ok(cmd.arg(&tmp));
        let err = stderr(&o);
        assert!(!err.contains("error") && !stdout(&o).contains("error"), "qemu-io: {err}{}", stdout(&o));
    }
    let mut img = Image::read(&tmp);
    let id = id_for(spec.name);
    img.edit_footers(|ft| {
        put32(ft, f::TIMESTAMP, FIXTURE_TIMESTAMP);
        ft[f::UNIQUE_ID..f::UNIQUE_ID + 16].copy_from_slice(&id);
    });
    img.write(&tmp);
    std::fs::rename(&tmp, &path).unwrap();
    path
}

/// What the virtual disk of a qemu fixture must hold, computed from its spec alone: zeros with
/// the writes applied. `size` is the disk's size.
pub fn expected_content(spec: &QemuSpec, size: u64) -> Vec<u8> {
    let mut v = vec![0u8; size as usize];
    for (p, off, len) in &spec.writes {
        v[*off as usize..(*off + *len) as usize].fill(*p);
    }
    v
}

// ---------------------------------------------------------------------------------------------
// The real samples

/// `tests/data`: the real disks made by other software, kept in the repository (its README says
/// where each came from).
pub fn samples_dir() -> PathBuf {
    repo().join("tests").join("data")
}

/// A sample, decompressed into `tests/work/samples/` if it is stored as `.xz`.
pub fn sample(name: &str) -> PathBuf {
    let dir = samples_dir();
    let plain = dir.join(name);
    if plain.is_file() {
        return plain;
    }
    let xz = dir.join(format!("{name}.xz"));
    assert!(xz.is_file(), "sample {name} is missing: expected {} or {}", plain.display(), xz.display());
    let out = work("samples").join(name);
    if !out.is_file() {
        let o = run_ok(Command::new("xz").arg("-dc").arg(&xz));
        write_atomic(&out, &o.stdout);
    }
    out
}

/// A sample copied into `dir` (for tests that need it beside other files).
pub fn sample_into(name: &str, dir: &Path) -> PathBuf {
    let to = dir.join(name);
    std::fs::copy(sample(name), &to).unwrap();
    to
}

// ---------------------------------------------------------------------------------------------
// Golden files

/// Compares `actual` with `tests/golden/<name>`; with `UPDATE_GOLDEN=1` writes it instead.
pub fn golden(name: &str, actual: &str) {
    let path = repo().join("tests").join("golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v != "0") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("golden file {} cannot be read ({e}); create it with UPDATE_GOLDEN=1", path.display()));
    if expected != actual {
        let diff_line = expected.lines().zip(actual.lines()).position(|(a, b)| a != b);
        let detail = match diff_line {
            Some(i) => format!(
                "first difference at line {}:\n  golden: {}\n  actual: {}",
                i + 1,
                expected.lines().nth(i).unwrap_or(""),
                actual.lines().nth(i).unwrap_or("")
            ),
            None => format!("one is a prefix of the other ({} vs {} lines)", expected.lines().count(), actual.lines().count()),
        };
        panic!(
            "{} differs from the output; {detail}\n(if the change is intended, run with UPDATE_GOLDEN=1 and review the diff)",
            path.display()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Images made by the real file-system tools

static SCRIPT_BUILD: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs the bash `script` in a fresh folder, once per content of the script (and inputs): the
/// folder `tests/work/<sub>/<name>-<hash>/`, which holds `done` (a file the script makes) when
/// complete. `inputs` are copied in first; the folders `junk` are removed after.
pub fn script_image(sub: &str, name: &str, script: &str, inputs: &[(&str, &Path)], done: &str, junk: &[&str]) -> PathBuf {
    let _g = SCRIPT_BUILD.lock().unwrap_or_else(|e| e.into_inner());
    // The key of the files' images predates this helper: kept so that their caches stay valid.
    let key = format!("{script}{inputs:?} v1");
    let dir = work(sub).join(format!("{name}-{:016x}", fnv(key.as_bytes())));
    if dir.join(done).is_file() {
        return dir;
    }
    let tmp = dir.with_extension(format!("building{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    for (as_name, from) in inputs {
        std::fs::copy(from, tmp.join(as_name)).unwrap();
    }
    std::fs::write(tmp.join("make.sh"), script).unwrap();
    run_ok(Command::new("bash").arg("make.sh").current_dir(&tmp));
    for j in junk {
        let _ = std::fs::remove_dir_all(tmp.join(j));
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&tmp, &dir).unwrap();
    dir
}

/// The vhd_from_raw example's binary (`examples/vhd_from_raw.rs`), built first.
pub fn vhd_from_raw() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run_ok(Command::new(cargo).current_dir(repo()).args(["build", "--quiet", "--example", "vhd_from_raw"]));
    repo().join("target/debug/examples/vhd_from_raw")
}

/// The folder a script of `tests/web/fixtures/` (`file`, which takes the vhd_from_raw example's
/// binary as `$1`) filled, made once per content of the script as [`script_image`] makes it.
pub fn fixture_script(sub: &str, name: &str, file: &str, done: &str, junk: &[&str]) -> PathBuf {
    let script = std::fs::read_to_string(repo().join("tests/web/fixtures").join(file)).unwrap();
    script_image(sub, name, &format!("set -- {}\n{script}", vhd_from_raw().display()), &[], done, junk)
}

/// A dynamic VHD (2 MiB blocks) holding `raw`'s non-zero 64 KiB pieces, its unique id from `seed`.
pub fn dynamic_vhd(raw: &[u8], seed: &str) -> vhd_viewer::vhd::writer::DiskBuilder {
    let mut b = vhd_viewer::vhd::writer::DiskBuilder::dynamic(raw.len() as u64, 2 << 20);
    b.unique_id(vhd_viewer::values::Uuid(id_for(seed)));
    for (k, chunk) in raw.chunks(64 << 10).enumerate() {
        if chunk.iter().any(|x| *x != 0) {
            b.write(k as u64 * (64 << 10), chunk);
        }
    }
    b
}
