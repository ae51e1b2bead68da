//! Searching the virtual disk for bytes or words, through the chain: `vhd-viewer search`.
//!
//! A [`Pattern`] is a text (found as ASCII/UTF-8 and as UTF-16LE, each hit saying which) or raw
//! bytes. A [`Matcher`] is fed the disk's bytes piece by piece and keeps the pattern's length
//! less one byte between pieces, so that a hit across a block or a layer boundary is found; like
//! `grep -obaF`, hits of one encoding never overlap (the leftmost first, then the next one after
//! its end). A [`Search`] walks a disk with a [`DiskReader`] a step at a time (the page's Worker
//! shows progress and stops between steps; [`search`] runs one to the end, for the command
//! line), and reads only what a layer holds: a
//! stretch no layer holds reads as zeros and is not read, only its edges are fed to the matcher
//! (a hit reaching into it from data around it is found). A pattern of zero bytes only would
//! match all of that unread space, so it is refused. Inside an unlocked BitLocker volume
//! ([`Search::decrypting`]) the volume's plain bytes are searched instead of its sectors.

use memchr::memmem::Finder;
use serde::Serialize;

use crate::bitlocker::Unlock;
use crate::disk::{Disk, Extent, Source, Steps};
use crate::error::{Error, Result};
use crate::fs::{ReadVirtual, Volume};
use crate::parts::{DiskOwner, Table};
use crate::reader::{missing_error, DiskReader};

/// The longest pattern: 4 KiB of bytes (its UTF-16 form may be twice that).
pub const MAX_PATTERN: usize = 4096;

/// The most bytes read at once.
const PIECE: usize = 1 << 20;

/// How the bytes of a hit encode the pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Encoding {
    /// The text's UTF-8 bytes (ASCII is UTF-8).
    #[serde(rename = "utf-8")]
    Utf8,
    /// The text as UTF-16, little-endian (what Windows writes).
    #[serde(rename = "utf-16le")]
    Utf16le,
    /// Raw bytes given in hexadecimal.
    #[serde(rename = "bytes")]
    Bytes,
}

impl Encoding {
    /// The encoding's name, as `--json` writes it.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf16le => "utf-16le",
            Encoding::Bytes => "bytes",
        }
    }
}

/// What a pattern is and how it is matched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PatternOptions {
    /// The pattern is hexadecimal bytes (`de ad be ef` or `deadbeef`).
    pub hex: bool,
    /// Only the text's UTF-16LE form (by default its UTF-8 and UTF-16LE forms both).
    pub utf16: bool,
    /// ASCII letters match either case.
    pub ignore_case: bool,
}

/// The byte strings searched for, each with its encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    needles: Vec<(Vec<u8>, Encoding)>,
    ignore_case: bool,
}

impl Pattern {
    /// The pattern `text` means with `opts`. Refused: an empty pattern, one longer than
    /// [`MAX_PATTERN`] bytes, bad hexadecimal, `--hex` with `--utf16` or `--ignore-case`, and
    /// a pattern of zero bytes only (see the module documentation).
    pub fn new(text: &str, opts: PatternOptions) -> Result<Pattern> {
        let usage = |message: String| Error::Usage { message };
        let needles = if opts.hex {
            if opts.utf16 || opts.ignore_case {
                return Err(usage("--hex searches raw bytes: --utf16 and --ignore-case apply to text".into()));
            }
            vec![(parse_hex(text)?, Encoding::Bytes)]
        } else {
            let fold = |b: Vec<u8>| if opts.ignore_case { b.to_ascii_lowercase() } else { b };
            let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
            let mut n = vec![(fold(utf16), Encoding::Utf16le)];
            if !opts.utf16 {
                n.insert(0, (fold(text.as_bytes().to_vec()), Encoding::Utf8));
            }
            n
        };
        let len = needles[0].0.len();
        if len == 0 {
            return Err(usage("the pattern is empty".into()));
        }
        if len > MAX_PATTERN {
            return Err(usage(format!("the pattern is {len} bytes: at most {MAX_PATTERN}")));
        }
        if needles.iter().all(|(n, _)| n.iter().all(|&b| b == 0)) {
            return Err(usage("the pattern is zero bytes only: it would match all of the space no layer holds, which is not read".into()));
        }
        Ok(Pattern { needles, ignore_case: opts.ignore_case })
    }

    /// The byte strings searched for, each with its encoding.
    pub fn needles(&self) -> impl Iterator<Item = (&[u8], Encoding)> {
        self.needles.iter().map(|(n, e)| (n.as_slice(), *e))
    }

    /// The longest byte string's length.
    pub fn max_len(&self) -> usize {
        self.needles.iter().map(|(n, _)| n.len()).max().unwrap_or(0)
    }
}

/// `de ad be ef`, `deadbeef`, `0xde 0xad`: the bytes, or an error naming the first bad character.
fn parse_hex(text: &str) -> Result<Vec<u8>> {
    let digits: String = text.split_whitespace().map(|w| w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")).unwrap_or(w)).collect();
    if let Some((i, c)) = digits.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(Error::Usage { message: format!("--hex: {c:?} (digit {}) is not a hexadecimal digit", i + 1) });
    }
    if digits.len() % 2 == 1 {
        return Err(Error::Usage { message: format!("--hex: {} digits: two per byte", digits.len()) });
    }
    Ok(digits.as_bytes().chunks(2).map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap_or("00"), 16).unwrap_or(0)).collect())
}

/// One place the pattern occurs on the virtual disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// The virtual disk offset of its first byte.
    pub offset: u64,
    /// Its length in bytes.
    pub length: u64,
    /// Which of the pattern's forms matched.
    pub encoding: Encoding,
}

/// Finds a pattern in a stream of pieces of the disk. See the module documentation.
pub struct Matcher {
    finders: Vec<(Finder<'static>, Encoding)>,
    ignore_case: bool,
    keep: usize,
    /// The last bytes fed (at most the pattern's length less one), from `carry_at`.
    carry: Vec<u8>,
    carry_at: u64,
    /// Per needle: where its next hit may start (hits of one needle do not overlap).
    next_from: Vec<u64>,
    work: Vec<u8>,
}

impl Matcher {
    /// A matcher of `pattern`.
    pub fn new(pattern: &Pattern) -> Matcher {
        let finders: Vec<_> = pattern.needles().map(|(n, e)| (Finder::new(n).into_owned(), e)).collect();
        let keep = pattern.max_len() - 1;
        Matcher {
            next_from: vec![0; finders.len()],
            finders,
            ignore_case: pattern.ignore_case,
            keep,
            carry: Vec::with_capacity(keep),
            carry_at: 0,
            work: Vec::new(),
        }
    }

    /// Forgets the bytes fed so far: the next piece does not continue them.
    pub fn reset(&mut self) {
        self.carry.clear();
    }

    /// Feeds the disk's `bytes` at `offset`, appending the hits that end in them to `hits` in
    /// order of offset. A piece that does not start where the last one ended starts afresh.
    pub fn feed(&mut self, offset: u64, bytes: &[u8], hits: &mut Vec<Hit>) {
        if bytes.is_empty() {
            return;
        }
        if self.carry_at + self.carry.len() as u64 != offset {
            self.carry.clear();
        }
        let start = offset - self.carry.len() as u64;
        self.work.clear();
        self.work.extend_from_slice(&self.carry);
        self.work.extend_from_slice(bytes);
        if self.ignore_case {
            self.work.make_ascii_lowercase();
        }
        let first = hits.len();
        for (k, (finder, encoding)) in self.finders.iter().enumerate() {
            let n = finder.needle().len();
            let mut from = self.next_from[k].saturating_sub(start) as usize;
            while from + n <= self.work.len() {
                let Some(i) = finder.find(&self.work[from..]) else { break };
                let at = start + (from + i) as u64;
                hits.push(Hit { offset: at, length: n as u64, encoding: *encoding });
                from += i + n;
                self.next_from[k] = at + n as u64;
            }
        }
        hits[first..].sort_by_key(|h| h.offset);
        // The carry is kept folded: folding is the same again.
        let keep = self.keep.min(self.work.len());
        self.carry.clear();
        self.carry.extend_from_slice(&self.work[self.work.len() - keep..]);
        self.carry_at = offset + bytes.len() as u64 - keep as u64;
    }

    /// Where the bytes kept for the next piece start: a later hit starts there or after.
    pub fn kept_from(&self) -> u64 {
        self.carry_at
    }
}

/// What to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// The whole virtual disk.
    #[default]
    Disk,
    /// Only what this layer itself holds (its index in the reader's disk).
    Layer(usize),
}

impl Scope {
    /// The scope `only_layer` says (a layer numbered in the whole chain; `None`: the whole disk)
    /// in a disk whose layer 0 is the chain's layer `base` and which has `layers` layers; a layer
    /// outside them is an error naming the layers there are.
    pub fn only(only_layer: Option<usize>, base: usize, layers: usize) -> Result<Scope> {
        match only_layer {
            None => Ok(Scope::Disk),
            Some(k) if k >= base && k - base < layers => Ok(Scope::Layer(k - base)),
            Some(k) => {
                Err(Error::Usage { message: format!("only layer {k}: the chain read has layers {base} to {}", base + layers.max(1) - 1) })
            }
        }
    }
}

/// A hit with the layer that supplies its first byte (`None`: zeros no layer holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// The hit.
    pub hit: Hit,
    /// The layer (an index in the reader's disk) that supplies its first byte.
    pub layer: Option<usize>,
    /// True when it was found in the plain bytes of an unlocked BitLocker volume.
    pub decrypted: bool,
}

/// One hit as `search --json` writes it (and the page lists it): where, how, which layer, whose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HitLine {
    /// The virtual disk offset of its first byte.
    pub offset: u64,
    /// Its length in bytes.
    pub length: u64,
    /// Which of the pattern's forms matched.
    pub encoding: Encoding,
    /// The layer that supplies its first byte (`None`: zeros no layer holds), numbered in the
    /// whole chain.
    pub layer: Option<usize>,
    /// The partition it lies in.
    pub partition: Option<u32>,
    /// The LVM2 logical volume (`VG/LV`) whose extent holds it, when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    /// What owns its first byte.
    pub owner: HitOwner,
    /// True (written only then) when it lies in an unlocked BitLocker volume, found in its plain
    /// bytes: `offset` is then where that plain byte lies on the virtual disk, as if decrypted
    /// in place.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub decrypted: bool,
}

/// What owns a hit's first byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HitOwner {
    /// `file`, `deleted file`, `dir`, `deleted dir`, `structure`, `free`, `outside`, `unknown`.
    pub kind: String,
    /// The file's or directory's path.
    pub path: Option<String>,
    /// Where in the file the byte lies.
    pub file_offset: Option<u64>,
    /// The file system's number for the file (NTFS record, ext inode, FAT first cluster).
    pub id: Option<u64>,
    /// The path, or the structure or space in words.
    pub what: String,
    /// The partition's file system.
    pub filesystem: Option<&'static str>,
}

impl HitLine {
    /// `found` (its layer an index in a disk whose layer 0 is the chain's layer `base`) owned by
    /// `o` ([`crate::parts::owner`]'s answer for its offset).
    pub fn new(found: &Found, o: DiskOwner, base: usize) -> HitLine {
        HitLine {
            offset: found.hit.offset,
            length: found.hit.length,
            encoding: found.hit.encoding,
            layer: found.layer.map(|l| l + base),
            decrypted: found.decrypted,
            partition: o.partition,
            volume: o.volume,
            owner: HitOwner {
                kind: if o.deleted { format!("deleted {}", o.kind) } else { o.kind },
                path: o.path,
                file_offset: o.file_offset,
                id: o.id,
                what: o.what,
                filesystem: o.filesystem,
            },
        }
    }
}

/// What a search did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Searched {
    /// Bytes of the layers' files read and searched.
    pub data_bytes: u64,
    /// Hits found.
    pub hits: u64,
    /// How far it has come: virtual disk bytes before this are searched.
    pub position: u64,
    /// False when it was stopped before the disk's end.
    pub complete: bool,
}

/// What [`Search::step`] gives each piece's hits to: the reader (to find their owners) and the
/// hits, in order of offset.
pub type FoundFn<'f> = dyn FnMut(&mut DiskReader<'_>, &[Found]) -> Result<()> + 'f;

/// A search that goes a step at a time, so that a caller can show progress and stop it between
/// steps (the page's Worker); [`search`] runs one to the end. It reads only what the layers hold,
/// at most 1 MiB at a time, and keeps no more than one step's extents and one piece's hits.
pub struct Search {
    scope: Scope,
    steps: Steps,
    matcher: Matcher,
    edge: u64,
    /// Virtual bytes before this are planned.
    planned: u64,
    /// The planned extents not yet searched, and how far into the first one.
    pending: std::collections::VecDeque<Extent>,
    at: u64,
    buf: Vec<u8>,
    zeros: Vec<u8>,
    hits: Vec<Hit>,
    /// The supplier of each piece fed since the bytes a later hit may start in: (offset, layer,
    /// decrypted).
    suppliers: Vec<(u64, Option<usize>, bool)>,
    /// The unlocked BitLocker volumes, whose plain bytes are searched: (start, length, key), in
    /// order of start.
    plain: Vec<(u64, u64, Unlock)>,
    done: Searched,
}

impl Search {
    /// A search of `disk` (the reader's) for `pattern` in `scope`.
    pub fn new(disk: &Disk, pattern: &Pattern, scope: Scope) -> Result<Search> {
        if let Scope::Layer(k) = scope {
            if k >= disk.layers.len() {
                return Err(Error::NoSuchLayer { layer: k, layers: disk.layers.len() });
            }
        }
        let edge = pattern.max_len() as u64 - 1;
        Ok(Search {
            scope,
            steps: Steps::new(disk),
            matcher: Matcher::new(pattern),
            edge,
            planned: 0,
            pending: Default::default(),
            at: 0,
            buf: vec![0u8; PIECE],
            zeros: vec![0u8; edge as usize],
            hits: Vec::new(),
            suppliers: Vec::new(),
            plain: Vec::new(),
            done: Searched::default(),
        })
    }

    /// Searches the plain bytes of `table`'s unlocked BitLocker volumes instead of their
    /// encrypted sectors: where a layer holds a sector of such a volume, the volume's plain bytes
    /// there are searched (and their hits say `decrypted`); what no layer holds stays zeros, not
    /// read, as elsewhere.
    pub fn decrypting(mut self, table: &Table) -> Search {
        self.plain = table.partitions.iter().filter_map(|p| Some((p.offset(), p.len(), p.unlock.clone()?))).collect();
        self.plain.sort_by_key(|w| w.0);
        self
    }

    /// Reads `buf.len()` bytes of the disk at `offset` from `layer`'s file at `file_offset`, or
    /// the plain bytes there of an unlocked volume, cutting `buf` at a volume's edge: the bytes
    /// read and whether they are plain.
    fn read_piece(
        &self,
        reader: &mut DiskReader<'_>,
        layer: usize,
        file_offset: u64,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<(usize, bool)> {
        let mut n = buf.len() as u64;
        for (start, len, unlock) in &self.plain {
            let end = start.saturating_add(*len);
            if offset >= *start && offset < end {
                n = n.min(end - offset);
                let mut vol = Volume::mapped(&mut *reader, *start, *len, unlock.decrypt());
                vol.read_virtual(offset - start, &mut buf[..n as usize])?;
                return Ok((n as usize, true));
            }
            if *start > offset {
                n = n.min(start - offset);
                break;
            }
        }
        reader.read_file(layer, file_offset, &mut buf[..n as usize])?;
        Ok((n as usize, false))
    }

    /// What it did so far.
    pub fn searched(&self) -> Searched {
        self.done
    }

    /// Searches on until about `budget` bytes of the layers' files are read (at least one piece,
    /// or one stretch no layer holds) or the disk's end, calling `found` with each piece's hits.
    /// True when the disk's end is reached. A part the chain cannot supply (a missing parent, a
    /// file cut short) is an error naming it, as reading it is.
    pub fn step(&mut self, reader: &mut DiskReader<'_>, budget: u64, found: &mut FoundFn<'_>) -> Result<bool> {
        let disk = reader.disk;
        let size = disk.size();
        let mut spent = 0;
        loop {
            let Some(&e) = self.pending.front() else {
                if self.planned >= size {
                    self.done.position = size;
                    self.done.complete = true;
                    return Ok(true);
                }
                if spent >= budget.max(1) {
                    return Ok(false);
                }
                let stop = self.steps.end(disk, self.planned, size);
                self.pending.extend(reader.plan(self.planned, stop - self.planned)?);
                self.planned = stop;
                // Planning a stretch costs about as much as reading a bitmap.
                spent += 4096;
                continue;
            };
            match e.source {
                Source::Data { layer, file_offset } if self.scope == Scope::Disk || self.scope == Scope::Layer(layer) => {
                    if spent >= budget.max(1) {
                        return Ok(false);
                    }
                    let n = (e.len - self.at).min(PIECE as u64) as usize;
                    let offset = e.offset + self.at;
                    let mut buf = std::mem::take(&mut self.buf);
                    let read = self.read_piece(reader, layer, file_offset + self.at, offset, &mut buf[..n]);
                    self.buf = buf;
                    let (n, decrypted) = read?;
                    self.suppliers.push((offset, Some(layer), decrypted));
                    self.matcher.feed(offset, &self.buf[..n], &mut self.hits);
                    self.done.data_bytes += n as u64;
                    spent += n as u64;
                    self.at += n as u64;
                    self.report(reader, found)?;
                    if self.at < e.len {
                        self.done.position = offset + n as u64;
                        continue;
                    }
                }
                Source::Zero if self.scope == Scope::Disk => {
                    // Only a hit reaching in from either side can touch zeros no layer holds.
                    let head = self.edge.min(e.len);
                    let tail = e.len.saturating_sub(self.edge).max(head);
                    self.suppliers.push((e.offset, None, false));
                    self.matcher.feed(e.offset, &self.zeros[..head as usize], &mut self.hits);
                    if tail < e.len {
                        self.matcher.feed(e.offset + tail, &self.zeros[..(e.len - tail) as usize], &mut self.hits);
                    }
                    self.report(reader, found)?;
                }
                Source::Missing { .. } if self.scope == Scope::Disk => return Err(missing_error(disk, &e)),
                _ => self.matcher.reset(),
            }
            self.pending.pop_front();
            self.at = 0;
            self.done.position = e.offset + e.len;
        }
    }

    /// Hands the hits found so far to `found`, each with the supplier of its first byte.
    fn report(&mut self, reader: &mut DiskReader<'_>, found: &mut FoundFn<'_>) -> Result<()> {
        if !self.hits.is_empty() {
            let suppliers = &self.suppliers;
            let list: Vec<Found> = self
                .hits
                .iter()
                .map(|&hit| {
                    let i = suppliers.partition_point(|s| s.0 <= hit.offset);
                    let s = i.checked_sub(1).map(|i| suppliers[i]);
                    Found { hit, layer: s.and_then(|s| s.1), decrypted: s.is_some_and(|s| s.2) }
                })
                .collect();
            self.done.hits += list.len() as u64;
            self.hits.clear();
            found(reader, &list)?;
        }
        // Keep the suppliers of the bytes a later hit may start in.
        let from = self.matcher.kept_from();
        let i = self.suppliers.partition_point(|s| s.0 <= from).saturating_sub(1);
        self.suppliers.drain(..i);
        Ok(())
    }
}

/// Runs search `s` of `reader`'s disk to the end, calling `found` with each piece's hits and
/// `progress(done, total)` in virtual bytes between steps; `progress` returns false to stop
/// (then `complete` is false).
pub fn search(
    reader: &mut DiskReader<'_>,
    mut s: Search,
    found: &mut FoundFn<'_>,
    progress: &mut dyn FnMut(u64, u64) -> bool,
) -> Result<Searched> {
    let size = reader.disk.size();
    while !s.step(reader, 4 * PIECE as u64, found)? {
        if !progress(s.searched().position, size) {
            break;
        }
    }
    progress(s.searched().position, size);
    Ok(s.searched())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(text: &str, opts: PatternOptions) -> Pattern {
        Pattern::new(text, opts).unwrap()
    }

    /// Every hit of `p` in `data` fed in pieces of `piece` bytes, as (offset, encoding).
    fn hits_in_pieces(p: &Pattern, data: &[u8], piece: usize) -> Vec<(u64, Encoding)> {
        let mut m = Matcher::new(p);
        let mut hits = Vec::new();
        for (i, c) in data.chunks(piece).enumerate() {
            m.feed((i * piece) as u64, c, &mut hits);
        }
        hits.iter().map(|h| (h.offset, h.encoding)).collect()
    }

    /// Leftmost, non-overlapping hits of one needle, as `grep -obaF` gives them.
    fn naive(data: &[u8], needle: &[u8]) -> Vec<u64> {
        let (mut out, mut i) = (Vec::new(), 0);
        while i + needle.len() <= data.len() {
            if &data[i..i + needle.len()] == needle {
                out.push(i as u64);
                i += needle.len();
            } else {
                i += 1;
            }
        }
        out
    }

    #[test]
    fn hits_across_pieces_are_found_once_and_never_overlap() {
        let mut data = b"xxaaaaaxxhello worldxxHELLO".to_vec();
        data.extend("hello".encode_utf16().flat_map(u16::to_le_bytes));
        data.extend(b"aaa");
        let aa = pat("aa", PatternOptions::default());
        let hello = pat("hello", PatternOptions { ignore_case: true, ..Default::default() });
        for piece in 1..=data.len() {
            let got: Vec<u64> = hits_in_pieces(&aa, &data, piece).iter().filter(|h| h.1 == Encoding::Utf8).map(|h| h.0).collect();
            assert_eq!(got, naive(&data, b"aa"), "pieces of {piece}");
            let got = hits_in_pieces(&hello, &data, piece);
            assert_eq!(got, vec![(9, Encoding::Utf8), (22, Encoding::Utf8), (27, Encoding::Utf16le)], "pieces of {piece}");
        }
    }

    #[test]
    fn pieces_that_do_not_follow_start_afresh() {
        let p = pat("abcd", PatternOptions::default());
        let mut m = Matcher::new(&p);
        let mut hits = Vec::new();
        m.feed(0, b"xxab", &mut hits);
        m.feed(100, b"cdxx", &mut hits);
        assert!(hits.is_empty(), "{hits:?}");
        m.feed(104, b"abcd", &mut hits);
        assert_eq!(hits, vec![Hit { offset: 104, length: 4, encoding: Encoding::Utf8 }]);
    }

    #[test]
    fn patterns_and_their_refusals() {
        let hex = |s: &str| Pattern::new(s, PatternOptions { hex: true, ..Default::default() });
        assert_eq!(hex("de ad BE ef").unwrap().needles().next().unwrap().0, &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(hex("0xde0xad").map(|p| p.max_len()).ok(), None, "0x only before a byte group");
        assert_eq!(hex("0xde 0xad").unwrap().needles().next().unwrap().0, &[0xde, 0xad]);
        assert!(hex("dea").is_err());
        assert!(hex("zz").is_err());
        assert!(hex("00 00").is_err(), "zeros only");
        assert!(hex("").is_err());
        assert!(Pattern::new("", PatternOptions::default()).is_err());
        assert!(Pattern::new(&"a".repeat(MAX_PATTERN + 1), PatternOptions::default()).is_err());
        assert!(Pattern::new("ab", PatternOptions { hex: true, utf16: true, ..Default::default() }).is_err());
        let u = pat("Aé", PatternOptions { utf16: true, ..Default::default() });
        assert_eq!(u.needles().collect::<Vec<_>>(), vec![(&[0x41, 0, 0xe9, 0][..], Encoding::Utf16le)]);
        let both = pat("Aé", PatternOptions::default());
        assert_eq!(both.needles().map(|n| n.1).collect::<Vec<_>>(), vec![Encoding::Utf8, Encoding::Utf16le]);
        assert_eq!(both.max_len(), 4);
    }
}
