//! The VHDX log ([MS-VHDX] 2.3): a circular buffer of entries, each a header, descriptors and 4 KiB
//! data sectors, that holds metadata writes not yet made to the file when the disk was not
//! closed cleanly. [`replay`] finds the active sequence and returns the writes it makes, which
//! the opener applies in memory (the file is never written).

use super::format::{log_off, LogDescriptor, LogEntryHeader};
use crate::bytes::{le32, Guid};
use crate::crc32c::crc32c_with_zeroed;
use crate::image::Located;

/// Size of a log sector.
pub const LOG_SECTOR: u64 = 4096;

/// One write the replay makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// `len` zero bytes.
    Zero(u64),
    /// These bytes (4 KiB).
    Data(Vec<u8>),
}

/// The active sequence of a log and the writes it makes, in order.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    /// The entries, in order, with their file offsets.
    pub entries: Vec<Located<LogEntryHeader>>,
    /// (file offset, write), in the order they are made.
    pub writes: Vec<(u64, Write)>,
}

/// `len` bytes of the circular log at `off`, wrapping at its end.
fn circ(log: &[u8], off: u64, len: u64) -> Option<Vec<u8>> {
    let n = log.len() as u64;
    if n == 0 || len > n {
        return None;
    }
    let off = off % n;
    let first = (n - off).min(len);
    let mut v = log.get(off as usize..(off + first) as usize)?.to_vec();
    v.extend_from_slice(log.get(..(len - first) as usize)?);
    Some(v)
}

/// An entry as found in the log: its header and its writes.
struct Entry {
    at: u64,
    header: LogEntryHeader,
    writes: Vec<(u64, Write)>,
}

/// Bytes of entries a replay may read and checksum, as a multiple of the log's length: a log
/// of entries that claim to be as long as the log itself, one every 4 KiB, would otherwise take
/// time in proportion to the square of its length.
const WORK_PER_LOG_BYTE: u64 = 8;

/// Decodes and verifies the entry at log offset `at`, counting the bytes it reads in `work`;
/// `Err` says why it is not a valid entry.
fn entry_at(log: &[u8], at: u64, log_guid: Guid, work: &std::cell::Cell<u64>) -> Result<Entry, String> {
    let head = circ(log, at, 64).ok_or("the log is shorter than an entry header")?;
    let h = LogEntryHeader::parse(&head);
    if &h.signature != b"loge" {
        return Err("no entry signature \"loge\"".into());
    }
    let len = u64::from(h.entry_length);
    if len == 0 || len % LOG_SECTOR != 0 || len > log.len() as u64 {
        return Err(format!("entry length {len} is not a multiple of 4 KiB within the log"));
    }
    if h.log_guid != log_guid {
        return Err(format!("its log GUID {} is not the header's {log_guid}", h.log_guid));
    }
    work.set(work.get() + len);
    if work.get() > WORK_PER_LOG_BYTE * log.len() as u64 + (1 << 20) {
        return Err("the log's entries overlap too much to be verified (each claims much of the log)".into());
    }
    let bytes = circ(log, at, len).ok_or("entry longer than the log")?;
    let crc = crc32c_with_zeroed(&bytes, log_off::CHECKSUM);
    if crc != h.checksum {
        return Err(format!("checksum stored {:#010x}, computed {crc:#010x}", h.checksum));
    }
    let n = u64::from(h.descriptor_count);
    let desc_sectors = (64 + 32 * n).div_ceil(LOG_SECTOR);
    let mut data_sector = desc_sectors;
    let mut writes = Vec::new();
    for i in 0..n {
        let d = bytes.get((64 + 32 * i) as usize..(96 + 32 * i) as usize).ok_or("descriptors past the entry's end")?;
        match LogDescriptor::parse(d) {
            LogDescriptor::Zero { length, file_offset, sequence_number } => {
                if sequence_number != h.sequence_number || length % LOG_SECTOR != 0 || file_offset % LOG_SECTOR != 0 {
                    return Err(format!("zero descriptor {i} is not valid"));
                }
                writes.push((file_offset, Write::Zero(length)));
            }
            LogDescriptor::Data { trailing_bytes, leading_bytes, file_offset, sequence_number } => {
                if sequence_number != h.sequence_number || file_offset % LOG_SECTOR != 0 {
                    return Err(format!("data descriptor {i} is not valid"));
                }
                let s = bytes
                    .get((data_sector * LOG_SECTOR) as usize..((data_sector + 1) * LOG_SECTOR) as usize)
                    .ok_or_else(|| format!("data descriptor {i}'s sector lies past the entry's end"))?;
                let seq = (u64::from(le32(s, 4)) << 32) | u64::from(le32(s, 4092));
                if &s[..4] != b"data" || seq != h.sequence_number {
                    return Err(format!("data sector {data_sector} of the entry is not valid"));
                }
                let mut sector = Vec::with_capacity(LOG_SECTOR as usize);
                sector.extend_from_slice(&leading_bytes);
                sector.extend_from_slice(&s[8..4092]);
                sector.extend_from_slice(&trailing_bytes);
                writes.push((file_offset, Write::Data(sector)));
                data_sector += 1;
            }
            LogDescriptor::Invalid { signature } => {
                return Err(format!("descriptor {i} has the unknown signature \"{}\"", crate::error::show_bytes(&signature)))
            }
        }
    }
    if data_sector * LOG_SECTOR > len {
        return Err("the descriptors need more sectors than the entry has".into());
    }
    Ok(Entry { at, header: h, writes })
}

/// An entry header found in the log region, whether or not it is replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Where its header is in the file.
    pub offset: u64,
    /// Its header as stored.
    pub header: LogEntryHeader,
    /// `None` when the entry verifies under its own log GUID (signature, length, CRC-32C,
    /// descriptors and data sectors); else why not.
    pub problem: Option<String>,
    /// The writes it holds (0 when it does not verify).
    pub writes: usize,
}

/// The most entries [`entries`] lists: a 64 MiB log holds at most 16384 entry headers.
pub const MAX_FOUND: usize = 16384;

/// Every entry header in the log region (`log` read at file offset `log_offset`), one per 4 KiB
/// sector that starts with "loge", each verified under its own log GUID as a replay would verify
/// it. A clean log keeps the entries of earlier sessions; a dirty log may hold entries older than
/// its active sequence. Stops (and says so in the second value) when the entries claim so much
/// of the log that verifying them all would take time in proportion to its square.
pub fn entries(log: &[u8], log_offset: u64) -> (Vec<Found>, Option<String>) {
    let work = std::cell::Cell::new(0u64);
    let limit = WORK_PER_LOG_BYTE * log.len() as u64 + (1 << 20);
    let mut out = Vec::new();
    let mut at = 0u64;
    while at < log.len() as u64 {
        if log.get(at as usize..at as usize + 4) == Some(b"loge") {
            if out.len() >= MAX_FOUND {
                return (out, Some(format!("more than {MAX_FOUND} entry headers; the rest are not listed")));
            }
            let header = circ(log, at, 64).map(|h| LogEntryHeader::parse(&h));
            let Some(header) = header else { break };
            let checked = entry_at(log, at, header.log_guid, &work);
            if work.get() > limit {
                return (
                    out,
                    Some(format!(
                        "the entries from log offset {:#x} on claim so much of the log that they are not verified",
                        log_offset + at
                    )),
                );
            }
            let (problem, writes) = match checked {
                Ok(e) => (None, e.writes.len()),
                Err(why) => (Some(why), 0),
            };
            out.push(Found { offset: log_offset + at, header, problem, writes });
        }
        at += LOG_SECTOR;
    }
    (out, None)
}

/// Finds the active sequence of the log (`log` read at file offset `log_offset`) and returns its
/// writes; `Err((log offset, why))` when the log does not verify.
pub fn replay(log: &[u8], log_offset: u64, log_guid: Guid) -> Result<Replay, (u64, String)> {
    // The entry with the largest sequence number is the head of the active sequence.
    let mut head: Option<Entry> = None;
    let mut first_error: Option<(u64, String)> = None;
    let work = std::cell::Cell::new(0u64);
    let mut at = 0u64;
    while at < log.len() as u64 {
        if log.get(at as usize..at as usize + 4) == Some(b"loge") {
            match entry_at(log, at, log_guid, &work) {
                Ok(e) => {
                    if head.as_ref().map_or(true, |h| e.header.sequence_number > h.header.sequence_number) {
                        head = Some(e);
                    }
                }
                Err(why) if work.get() > WORK_PER_LOG_BYTE * log.len() as u64 + (1 << 20) => return Err((log_offset + at, why)),
                Err(why) => {
                    first_error.get_or_insert((at, why));
                }
            }
        }
        at += LOG_SECTOR;
    }
    let Some(head) = head else {
        return Err(first_error.map(|(a, w)| (log_offset + a, w)).unwrap_or((log_offset, "the log holds no valid entry".into())));
    };
    // Walk from the head's tail to the head: consecutive entries, sequence numbers rising by 1.
    let mut seq_entries = Vec::new();
    let mut pos = u64::from(head.header.tail);
    let mut expect: Option<u64> = None;
    for _ in 0..=(log.len() as u64 / LOG_SECTOR) {
        let e = entry_at(log, pos, log_guid, &work)
            .map_err(|why| (log_offset + pos % log.len() as u64, format!("the active sequence breaks: {why}")))?;
        if let Some(x) = expect {
            if e.header.sequence_number != x {
                return Err((
                    log_offset + pos,
                    format!("the active sequence breaks: sequence number {} where {x} was expected", e.header.sequence_number),
                ));
            }
        }
        expect = Some(e.header.sequence_number + 1);
        let done = e.at == head.at;
        pos = (pos + u64::from(e.header.entry_length)) % log.len() as u64;
        seq_entries.push(e);
        if done {
            let mut r = Replay::default();
            for e in seq_entries {
                r.entries.push(Located { offset: log_offset + e.at, value: e.header });
                r.writes.extend(e.writes);
            }
            return Ok(r);
        }
    }
    Err((log_offset + u64::from(head.header.tail), "the active sequence does not end at its head entry".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log whose every 4 KiB holds an entry header claiming the whole log: refused after a
    /// bounded amount of work, not after 256 checksums of 1 MiB each.
    #[test]
    fn overlapping_entries_are_refused_in_bounded_work() {
        let guid = Guid([7; 16]);
        let mut log = vec![0u8; 1 << 20];
        for at in (0..log.len()).step_by(4096) {
            log[at..at + 4].copy_from_slice(b"loge");
            log[at + 8..at + 12].copy_from_slice(&(1u32 << 20).to_le_bytes());
            log[at + 32..at + 48].copy_from_slice(&guid.0);
        }
        let err = replay(&log, 1 << 20, guid).unwrap_err();
        assert!(err.1.contains("overlap too much"), "{err:?}");
    }

    /// The writer's log replays into the sectors it was given.
    #[test]
    fn the_writers_log_replays() {
        let guid = Guid([9; 16]);
        let sectors = vec![(3u64 << 20, vec![5u8; 4096]), ((3u64 << 20) + 4096, (0..4096).map(|i| i as u8).collect())];
        let log = crate::vhdx::writer::write_log(&sectors, guid, 8 << 20);
        let r = replay(&log, 1 << 20, guid).unwrap();
        assert_eq!(r.entries.len(), 2);
        let got: Vec<(u64, Write)> = r.writes;
        assert_eq!(got, sectors.into_iter().map(|(o, s)| (o, Write::Data(s))).collect::<Vec<_>>());
    }
}
