//! The command line: `info`, `check`, `map` and `cat`, over the core and its file driver; and
//! `convert` (`merge`), `compact`, `relink` and `repair`, which write new files (`write.rs`); and
//! `parts`, `ls`, `get` and `owner`, what is on the disk (`files.rs`); `diff` and
//! `rebase-check`, what a differencing disk changed, file by file (`diff.rs`); `chains`, a folder
//! of disks sorted into trees and problems (`survey.rs`); `draw`, its pictures as SVG (`draw.rs`);
//! `report`, one HTML file of all of it (`report.rs`); `inspect`, the operating systems on the
//! disk (`inspect.rs`); `search`, where bytes or words occur and what owns them (`search.rs`).

mod chain;
mod diff;
mod draw;
mod files;
mod inspect;
mod newfile;
mod output;
mod report;
mod search;
mod survey;
mod timeline;
mod write;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use vhd_viewer::disk::Source;
use vhd_viewer::error::ParentNeed;
use vhd_viewer::reader::DiskReader;
use vhd_viewer::{Error, Severity};

use chain::OpenChain;

#[derive(Parser)]
#[command(
    name = "vhd-viewer",
    version,
    about = "Look inside Microsoft VHD and VHDX disk images: fixed, dynamic and differencing.",
    long_about = "Look inside Microsoft VHD and VHDX disk images (fixed, dynamic and differencing): every structure with its file offset, integrity findings, which file supplies each part of the disk, and the disk's bytes through a differencing chain. What is on the disk: partitions, file systems and files, as of any layer of a chain, and what a differencing disk changed, file by file. Write new disks from them (convert or merge, compact, relink, repair), never touching the originals.\n\nA differencing disk finds its parent through its parent locators (relative to the child's folder first), then through the parent's unicode name in the same folder, or through --parent. The parent's identity is always verified (a VHD's unique id; a VHDX's DataWriteGuid, named by the child's parent_linkage).",
    after_help = "Examples:\n  vhd-viewer info disk.vhd\n  vhd-viewer check child.vhd --parent base.vhd\n  vhd-viewer map child.vhd --json\n  vhd-viewer cat disk.vhd > disk.raw\n  vhd-viewer merge child.vhd merged.vhd\n  vhd-viewer repair damaged.vhd repaired.vhd\n  vhd-viewer parts disk.vhd\n  vhd-viewer ls child.vhd / -r --layer 1\n  vhd-viewer get disk.vhd /Windows/win.ini > win.ini\n  vhd-viewer owner child.vhd 2048\n  vhd-viewer inspect disk.vhd\n  vhd-viewer diff child.vhd\n  vhd-viewer rebase-check child.vhd --onto new-base.vhd\n  vhd-viewer report child.vhd > report.html"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every structure: footer and its copy, dynamic header, parent locators, BAT summary, chain.
    #[command(
        after_help = "Examples:\n  vhd-viewer info disk.vhd\n  vhd-viewer info child.vhd --parent base.vhd --json\n  vhd-viewer info disk.vhd --explain\n  vhd-viewer info child.vhd --layer 1   # the parent, as the chain's top"
    )]
    Info {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        layer: LayerArg,
        /// Print JSON (keys in snake_case after the spec's field names).
        #[arg(long)]
        json: bool,
        /// Print a one-line explanation under every field.
        #[arg(long)]
        explain: bool,
    },
    /// Integrity findings, or with --for whether a target takes the disk. Exit status: 0 no
    /// errors (the target takes it), 1 errors found (a rule fails), 2 not readable as a VHD.
    #[command(
        after_help = "Reads every allocated block's sector bitmap and, in dynamic disks, the sectors marked unused.\n\nWith --for TARGET it checks, in place of that, each rule TARGET states for the disks it takes (azure: an uploaded disk is a fixed VHD, its size a whole number of MiB from 20 MiB to 32,767 GiB, the file that size plus its 512-byte footer, the footer sound, no parent; hyper-v: the sizes Hyper-V takes, and the disk each VM generation boots from), one line per rule: PASS or FAIL, what was found and what is expected, the field read and its byte offset. Rules for only some uses (an OS disk, a generation 1 VM's boot disk) are shown apart and do not fail the disk. Only FILE itself is read: a differencing disk's parents are neither needed nor opened. `convert --for azure` writes a copy Azure takes.\n\nExamples:\n  vhd-viewer check disk.vhd\n  vhd-viewer check child.vhd --parent base.vhd --json\n  vhd-viewer check disk.vhd --for azure\n  vhd-viewer check disk.vhdx --for hyper-v --json"
    )]
    Check {
        #[command(flatten)]
        chain: ChainArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Check only the metadata (footers, header, locators, BAT): do not read the bitmaps.
        #[arg(long)]
        quick: bool,
        /// Check whether TARGET takes the disk (azure, hyper-v) instead of its integrity.
        #[arg(long = "for", value_name = "TARGET", value_parser = parse_target, conflicts_with = "quick")]
        target: Option<vhd_viewer::fit::Target>,
    },
    /// The virtual disk's ranges and which file and offset supplies each (like `qemu-img map`).
    #[command(
        after_help = "Text output lists the ranges that hold data (and those whose parent is missing); --json lists every range, zero-filled ones too.\n\nExamples:\n  vhd-viewer map disk.vhd\n  vhd-viewer map child.vhd --parent base.vhd --json\n  vhd-viewer map child.vhd --layer 1"
    )]
    Map {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        layer: LayerArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Virtual offset to start at (bytes; K, M, G suffixes and 0x accepted).
        #[arg(long, value_parser = parse_size, default_value = "0")]
        offset: u64,
        /// How many bytes to map (default: to the end of the disk).
        #[arg(long, value_parser = parse_size)]
        length: Option<u64>,
    },
    /// The virtual disk's bytes on stdout, flattened through the chain (like `qemu-img convert -O raw`).
    #[command(
        after_help = "Examples:\n  vhd-viewer cat disk.vhd > disk.raw\n  vhd-viewer cat child.vhd --offset 0x7e00 --length 512 | xxd\n  vhd-viewer cat child.vhd --layer 1 > before.raw   # the disk before the child's changes"
    )]
    Cat {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        layer: LayerArg,
        /// Virtual offset to start at (bytes; K, M, G suffixes and 0x accepted); with
        /// --partition, bytes from the partition's start.
        #[arg(long, value_parser = parse_size, default_value = "0")]
        offset: u64,
        /// How many bytes to write (default: to the end of the disk, or of the partition).
        #[arg(long, value_parser = parse_size)]
        length: Option<u64>,
        /// Only this partition's bytes (as `parts` numbers them).
        #[arg(long, short = 'p')]
        partition: Option<u32>,
        /// An LVM2 logical volume instead (`VG/LV`, as `parts` lists them).
        #[arg(long, conflicts_with = "partition")]
        volume: Option<String>,
        /// With --partition: a BitLocker volume's plain bytes, unlocked with a key below.
        #[arg(long, requires = "partition")]
        decrypted: bool,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Writes the disk, read through its chain (or as of layer K), as one new standalone disk:
    /// dynamic, fixed or raw. This is how a differencing chain is merged (also `merge`).
    #[command(
        visible_alias = "merge",
        after_help = "The input files are only read. OUTPUT is written to a temporary file beside it and renamed when complete; an existing OUTPUT is replaced only with --force, and never when it is one of the inputs (also through a link). A dynamic output allocates only the blocks that hold non-zero data. A copy whose sectors are not the size the disk's MBR or GPT counts in (a 4096-byte-sector VHDX into a VHD, --for azure too) is refused: its partitions would be read at the wrong bytes; --to raw copies the bytes as they are. Exit status: 0 written, 1 written with --for azure but not passing check --for azure (a bug), 2 nothing written (the reason on stderr).\n\nExamples:\n  vhd-viewer convert child.vhd merged.vhd            # the chain merged: one dynamic disk\n  vhd-viewer convert disk.vhd disk-fixed.vhd --to fixed\n  vhd-viewer convert child.vhd parent.vhd --layer 1  # the disk as its parent has it\n  vhd-viewer convert disk.vhdx up.vhd --for azure    # a fixed VHD Azure takes\n  vhd-viewer convert disk.vhd disk.raw --to raw\n  vhd-viewer merge child.vhd merged.vhd --parent base.vhd --block-size 512K"
    )]
    Convert(write::ConvertArgs),
    /// Writes a copy of a dynamic or differencing disk that keeps only what it needs: a dynamic
    /// disk loses its all-zero blocks, a differencing disk the sectors identical to its parent.
    #[command(
        after_help = "The copy keeps the disk's type and identity (unique id, parent link), so its children still link to it; left-over bytes behind clear bitmap bits are not copied. It prints what it saved. The input files are only read; OUTPUT is written as for convert. Exit status: 0 written, 2 nothing written.\n\nExamples:\n  vhd-viewer compact disk.vhd disk-compact.vhd\n  vhd-viewer compact child.vhd child-compact.vhd --parent base.vhd"
    )]
    Compact(write::CompactArgs),
    /// Writes a copy of a differencing disk whose parent locators point to the parent's new place.
    #[command(
        after_help = "The copy's parent locators are W2ru (relative to OUTPUT's folder), W2ku (absolute) and MacX (a file URL), and its parent unicode name is the parent's file name. The parent's unique id must be the one the child names (--force accepts another, records its id and time stamp, and warns). The copy keeps the child's own unique id, so disks made from the child still link to it. The input files are only read; OUTPUT is written as for convert. Exit status: 0 written and its parent found again, 1 written but not opened again, 2 nothing written.\n\nExamples:\n  vhd-viewer relink child.vhd child-relinked.vhd --parent /srv/disks/base.vhd\n  vhd-viewer relink old/child.vhd new/child.vhd --parent new/base.vhd"
    )]
    Relink(write::RelinkArgs),
    /// Writes a copy of a damaged file with each recoverable defect fixed, each fix printed with
    /// its offset.
    #[command(
        after_help = "Fixes: the end footer from its copy or the copy from the end footer (a 511-byte footer made whole), checksums recomputed where the fields are sane, a cut-off end restored, a BAT read on when max table entries is too small, BAT entries pointing past the end of the file, into the metadata or into another block cleared (the data there is lost: reported), unreadable parent locators dropped; with --scrub, left-over bytes behind clear bitmap bits zeroed. The copy is checked again before it is named. Only the damaged file is read (a differencing disk's parent is not needed). Exit status: 0 every defect fixed, nothing lost; 1 the copy was written, but data was lost or defects remain (listed); 2 nothing written (the file cannot be read as a VHD, or a reason on stderr).\n\nExamples:\n  vhd-viewer repair damaged.vhd repaired.vhd\n  vhd-viewer repair damaged.vhd repaired.vhd --scrub"
    )]
    Repair(write::RepairArgs),
    /// Writes a copy of a VHD or VHDX with another virtual size: grown (the new tail reads as
    /// zeros) or shrunk (refused when a partition or file system reaches past the new end).
    #[command(
        after_help = "The copy keeps the disk's format, type, block size, sector sizes and identity (unique id, parent link), so its children still link to it; every block the input allocates is copied as it is. On a GPT disk the backup entry array and header move to the new end and the protective MBR's size is fixed (--no-gpt-fix leaves them). Growing a partition or file system is left to the guest: the summary says how much unpartitioned space the disk has at its end. Shrinking is refused, with nothing written, when a partition (or the extended one), a file system (by its own size) or a GPT's backup would not fit; the message names it, the byte where it ends, and the smallest size allowed. The input files are only read; OUTPUT is written as for convert. Exit status: 0 written, 2 nothing written (the reason on stderr).\n\nExamples:\n  vhd-viewer resize disk.vhdx bigger.vhdx --size 64G\n  vhd-viewer resize disk.vhd bigger.vhd --size +10G\n  vhd-viewer resize disk.vhdx smaller.vhdx --size 20G   # refused if a partition reaches past 20 GiB\n  vhd-viewer resize child.vhd child-big.vhd --size 100G --parent base.vhd"
    )]
    Resize(write::ResizeArgs),
    /// The partition table (MBR, GPT or none) and each partition's file system, label, cluster
    /// size and 4 KiB alignment.
    #[command(
        after_help = "Partitions are numbered as Linux numbers them: MBR primaries 1-4, logical partitions from 5, GPT entry numbers; 0 is a file system on the whole disk (no table). Offsets in findings are virtual disk bytes.\n\nExit status: 0 no errors, 1 the table has errors (as `check`: what its spec forbids, e.g. a bad CRC-32, a loop, overlapping partitions), 2 not readable.\n\nExamples:\n  vhd-viewer parts disk.vhd\n  vhd-viewer parts child.vhd --parent base.vhd --json\n  vhd-viewer parts child.vhd --layer 1"
    )]
    Parts {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        layer: LayerArg,
        #[command(flatten)]
        key: KeyArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List files and directories (FAT12/16/32, exFAT, NTFS, ext2/3/4, XFS), through the chain.
    #[command(
        after_help = "With --json, one JSON object per line: {\"partition\", \"path\", \"type\", \"size\", \"modified\", \"deleted\", ...}; an NTFS file with alternate data streams has \"streams\": [{\"name\", \"size\"}] (without --json, a line PATH:STREAM each; `get PATH:STREAM` reads one). Without --partition, every partition whose file system is read.\n\nExamples:\n  vhd-viewer ls disk.vhd\n  vhd-viewer ls disk.vhd /Users -r --partition 2\n  vhd-viewer ls child.vhd / -r --deleted --json\n  vhd-viewer ls child.vhd / -r --layer 1   # the files before the child's changes"
    )]
    Ls {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        layer: LayerArg,
        #[command(flatten)]
        key: KeyArgs,
        /// The directory (or file) to list.
        #[arg(default_value = "/")]
        path: String,
        /// The partition (as `parts` numbers them).
        #[arg(long, short = 'p')]
        partition: Option<u32>,
        /// An LVM2 logical volume instead (`VG/LV`, as `parts` lists them).
        #[arg(long, conflicts_with = "partition")]
        volume: Option<String>,
        /// List the directories under it too.
        #[arg(short = 'r', long)]
        recursive: bool,
        /// List deleted entries too (FAT directory slots, NTFS records no longer in use, ext names left in directory slack).
        #[arg(long)]
        deleted: bool,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// What system is on the disk: each volume's operating system (Windows, Linux), its name,
    /// version, computer name, time zone, users and installed programs, through the chain.
    #[command(
        after_help = "Windows is read from the registry hives under Windows/System32/config (SOFTWARE, SYSTEM, SAM), Linux from /etc/os-release (or /usr/lib/os-release), /etc/hostname, /etc/timezone or the /etc/localtime link, /etc/passwd (users with a login shell or a home under /home), /var/lib/dpkg/status (installed packages; an RPM database is named, not read) and /etc/fstab (each mount mapped to this disk's partition by UUID, LABEL, PARTUUID, PARTLABEL or device name). Linux's install date is when its root file system was made, its last shutdown when that file system was last unmounted cleanly (ext superblock). Every answer says where it was read (the file, or the hive, key and value), so it can be checked with `get` or `ls`. A file is read up to 4 MiB (dpkg's status up to 32 MiB); what is cut, damaged or unreadable is a note, never a failure.\n\n--json: {\"systems\": [{\"partition\", \"os\" (windows, linux), \"product\", \"edition\", \"version\", \"build\", \"id\", \"hostname\", \"timezone\", \"install_date\", \"last_shutdown\" (ISO 8601 UTC), \"registered_owner\", \"users\": [{\"name\", \"sid\" (Windows) or \"uid\" and \"shell\" (Linux), \"home\", \"source\"}], \"programs\": [{\"name\", \"version\", \"publisher\", \"install_date\", \"source\"}], \"interfaces\": [{\"name\", \"addresses\", \"dhcp\", \"source\"}], \"mounts\": [{\"spec\", \"target\", \"fstype\", \"partition\", \"by\"}], \"sources\": {FIELD: {\"path\", \"key\", \"value\"}}, \"notes\": [{\"severity\", \"code\", \"path\", \"offset\", \"message\"}]}]}; a fact the system does not record is null. `diff` names what a child changed in them (\"systems\").\n\nExit status: 0 (also when no operating system is found: the text says so, the JSON's list is empty), 2 the disk cannot be read.\n\nExamples:\n  vhd-viewer inspect disk.vhd\n  vhd-viewer inspect child.vhd --json\n  vhd-viewer inspect child.vhd --layer 1   # the system before the child's changes"
    )]
    Inspect {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        layer: LayerArg,
        #[command(flatten)]
        key: KeyArgs,
        /// Print JSON: {"systems": [...]}.
        #[arg(long)]
        json: bool,
    },
    /// Every file's and directory's times (NTFS: $STANDARD_INFORMATION and $FILE_NAME; ext:
    /// atime, mtime, ctime, crtime; FAT: created, modified, accessed), through the chain.
    #[command(
        after_help = "Without a format, one line per time, sorted: TIME KIND SIZE LAYER PATH. --bodyfile writes sleuthkit's body file as `fls -r -m /` does (mactime reads it); --csv and --json one row per time, sorted: {\"time\", \"unix\", \"nanos\", \"kind\" (m, a, c, b), \"attribute\" (NTFS: si or fn), \"partition\", \"path\", \"inode\", \"size\", \"deleted\", \"layer\"}; layer is the newest layer supplying the entry's metadata (its directory entry, MFT record or inode).\n\nExamples:\n  vhd-viewer timeline disk.vhd --bodyfile > body.txt && mactime -b body.txt\n  vhd-viewer timeline child.vhd --partition 2 --deleted --csv > times.csv"
    )]
    Timeline {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        layer: LayerArg,
        #[command(flatten)]
        key: KeyArgs,
        /// The partition (as `parts` numbers them); without it, every partition whose file system is read.
        #[arg(long, short = 'p')]
        partition: Option<u32>,
        /// An LVM2 logical volume instead (`VG/LV`, as `parts` lists them).
        #[arg(long, conflicts_with = "partition")]
        volume: Option<String>,
        /// Deleted entries too (FAT directory slots, NTFS records no longer in use, ext names left in directory slack).
        #[arg(long)]
        deleted: bool,
        /// sleuthkit's body file (`fls -r -m /`).
        #[arg(long, group = "timeline_format")]
        bodyfile: bool,
        /// CSV sorted by time.
        #[arg(long, group = "timeline_format")]
        csv: bool,
        /// JSON lines sorted by time.
        #[arg(long, group = "timeline_format")]
        json: bool,
    },
    /// Every place a word or bytes occur on the virtual disk, through the chain: each hit's
    /// offset, the layer that supplies it, and what owns it (like `grep -obaF` and `ifind -d`).
    #[command(
        after_help = "A text is found as UTF-8 (ASCII) and as UTF-16LE, each hit saying which; --utf16 finds only UTF-16LE; --hex searches raw bytes (`de ad be ef` or `deadbeef`). Like grep -o, hits of one form do not overlap (the leftmost, then the next after its end). Only what the layers hold is read: a stretch no layer holds is zeros, and a hit reaching into it is still found; a pattern of zero bytes only is refused. Hits across block and layer boundaries are found. --only-layer K searches only what layer K itself holds (what a child wrote). A BitLocker volume unlocked by a key flag is searched in its plain bytes; such a hit says \"decrypted\": true, its offset where its plain byte lies as if the volume were decrypted in place.\n\nEach hit's owner is that of its first byte: a file (path, byte offset in it), a deleted file, a directory, a file-system structure, free space, or outside any partition.\n\n--json: one object a line: {\"offset\" (virtual disk bytes), \"length\", \"encoding\" (utf-8, utf-16le, bytes), \"layer\" (null: zeros no layer holds), \"partition\", \"owner\": {\"kind\" (file, deleted file, dir, deleted dir, structure, free, outside, unknown), \"path\", \"file_offset\", \"id\" (NTFS record, ext inode, FAT first cluster), \"what\", \"filesystem\"}, \"decrypted\" (only when true)}.\n\nExit status: 0 hits found, 1 none, 2 an error, 130 interrupted (the hits so far are written).\n\nExamples:\n  vhd-viewer search disk.vhd password\n  vhd-viewer search child.vhd 'secret plan' --ignore-case --json\n  vhd-viewer search disk.vhd 'de ad be ef' --hex\n  vhd-viewer search child.vhd invoice --only-layer 0   # only what the child wrote"
    )]
    Search {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        layer: LayerArg,
        #[command(flatten)]
        key: KeyArgs,
        /// The text (or with --hex the bytes) to find.
        pattern: String,
        /// The pattern is hexadecimal bytes.
        #[arg(long)]
        hex: bool,
        /// Find the text only as UTF-16LE.
        #[arg(long)]
        utf16: bool,
        /// ASCII letters match either case.
        #[arg(long, short = 'i')]
        ignore_case: bool,
        /// Search only what layer K itself holds (0 is the file opened).
        #[arg(long, value_name = "K")]
        only_layer: Option<usize>,
        /// One JSON object a line.
        #[arg(long)]
        json: bool,
    },
    /// A file's bytes on stdout, read through the chain.
    #[command(
        after_help = "On NTFS, PATH:STREAM reads an alternate data stream. A deleted file is read when no live file has the path (FAT: its clusters taken as contiguous; exFAT: by its FAT chain where the FAT still holds it).\n\nExamples:\n  vhd-viewer get disk.vhd /Windows/win.ini > win.ini\n  vhd-viewer get child.vhd /notes.txt --layer 1   # as it was in the parent\n  vhd-viewer get disk.vhd /a.txt:Zone.Identifier --partition 3"
    )]
    Get {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        layer: LayerArg,
        #[command(flatten)]
        key: KeyArgs,
        /// The file.
        path: String,
        /// The partition (as `parts` numbers them).
        #[arg(long, short = 'p')]
        partition: Option<u32>,
        /// An LVM2 logical volume instead (`VG/LV`, as `parts` lists them).
        #[arg(long, conflicts_with = "partition")]
        volume: Option<String>,
    },
    /// Which file owns a virtual sector (like sleuthkit's `ifind -d`), and which layer supplies it.
    #[command(
        after_help = "Walks the file system's metadata: the answer is a file or directory, a structure (boot sector, FAT, MFT record, inode table, ...), or free space.\n\nExamples:\n  vhd-viewer owner disk.vhd 4096\n  vhd-viewer owner child.vhd 0x1f800 --json\n  vhd-viewer owner child.vhd 4096 --layer 1"
    )]
    Owner {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        layer: LayerArg,
        #[command(flatten)]
        key: KeyArgs,
        /// The virtual sector, in the disk's logical sectors (512 bytes, or a VHDX's 4096; `parts`
        /// says which); 0x accepted.
        #[arg(value_parser = parse_size)]
        sector: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A folder of disks sorted out: the trees of bases and checkpoints, orphans, moved and
    /// modified parents, copies and files that are not disks, each problem with its fix.
    #[command(
        after_help = "Reads only each file's identifying structures (a VHD's footers, dynamic header and parent locators; a VHDX's headers, region tables, metadata table and items), never its block table or data: a few KiB of a VHD, about 145 KiB of a VHDX, whatever the disk's size. A folder is walked (32 folders deep at most, links not followed); files of any name are tried. Children are linked to parents by id (a VHD's unique id; a VHDX's DataWriteGuid, named by parent_linkage), and each child's locators are resolved as the other commands resolve them (relative to the child's folder first), among the files given only.\n\nA tree's root is a base, or a child whose parent is not among the files (\"orphan\": true). A moved parent is found by id elsewhere than the locators look (relink writes a copy of the child that looks where it is); a modified parent is a file where the locators look with another id (a VHDX written to after its child was made has a new DataWriteGuid); duplicates are files with one id, the children under the copy each would open. A VHDX not closed cleanly is identified as stored (its log is not replayed) and its notes say so.\n\n--json: {\"trees\": [{\"file\", \"format\" (vhd, vhdx), \"disk_type\" (fixed, dynamic, differencing), \"role\" (base, checkpoint, leaf), \"id\", \"parent_id\" (null for a base), \"size\" (bytes), \"orphan\" (only when true), \"notes\" (only when any), \"children\": [...]}], \"orphans\": [{\"file\", \"parent_id\", \"looks_for\": [paths]}], \"moved\": [{\"file\", \"parent\", \"locator_says\", \"relink\"}], \"modified\": [{\"file\", \"expected_id\", \"found\", \"found_id\"}], \"duplicates\": [[files]], \"unreadable\": [{\"file\", \"reason\"}], \"bytes_read\": [{\"file\", \"bytes\"}]}, every list in the order of the files' names, which are the paths as given (a folder's files under it).\n\nExit status: 0 all is well, 1 anything is orphaned, moved, modified, duplicated or unreadable, 2 a usage error.\n\nExamples:\n  vhd-viewer chains 'D:/Hyper-V/Web/Virtual Hard Disks'\n  vhd-viewer chains . --json\n  vhd-viewer chains base.vhdx *.avhdx"
    )]
    Chains {
        /// Folders (walked) and files.
        #[arg(required = true, value_name = "DIR_OR_FILE")]
        paths: Vec<PathBuf>,
        /// Print JSON (the shape is above).
        #[arg(long)]
        json: bool,
    },
    /// What a differencing disk changed, file by file: added, deleted, modified, renamed,
    /// metadata-only and transient files, and where every byte the child holds went.
    #[command(
        after_help = "Compares the disk as of the child's parent (--from 1) with the disk as of the child (--to 0), bounded by what the child holds: its sector bitmaps, the held sectors and the parent's at the same places (equal bytes are identical rewrites, not changes), and both sides' file-system metadata. Files are matched by identity, never by directory slot: NTFS record and sequence number, ext inode and generation, FAT start cluster and creation time, then path. A deleted entry the child wrote, whose data the child holds, is a transient file (created and deleted while the child was in use); FAT loses its first character unless long-name entries keep it. Windows' boot noise (pagefile, hiberfil, registry logs, Prefetch, event logs) is flagged, not hidden.\n\nWith two disks that are not one chain (diff A.vhd B.vhd), every allocated sector of both is read, and the output says so (\"mode\": \"unrelated\").\n\n--json keys: held_bytes, identical_bytes, outside_partitions_bytes, mode, bytes_read, partitions[index, filesystem, held_bytes, identical_bytes, changes[path, type, kind, old_path, content_changed, size, old_size, bytes_held, identical_bytes, noise, name_complete], filesystem_metadata[name, bytes_held], held{files, filesystem_metadata, free_space}], systems[partition, os, kind (field, user-added, user-removed, program-added, program-removed, program-changed, system-added, system-removed), name, old, new, source, message]: what the child changed in an operating system (as `inspect` reads it), for a partition where a file it reads changed.\n\nExamples:\n  vhd-viewer diff child.vhd\n  vhd-viewer diff child.vhd --parent base.vhd --json\n  vhd-viewer diff top.vhd --from 2 --to 0   # two layers of one chain\n  vhd-viewer diff old.vhd new.vhd            # two disks that are not one chain"
    )]
    Diff {
        #[command(flatten)]
        chain: ChainArgs,
        /// A second disk, not of the first's chain: compare the two whole disks.
        other: Option<PathBuf>,
        /// The older layer (the parent side): 1 is the child's parent.
        #[arg(long, value_name = "K", default_value = "1")]
        from: usize,
        /// The newer layer (the child side): 0 is the file opened.
        #[arg(long, value_name = "J", default_value = "0")]
        to: usize,
        #[command(flatten)]
        key: KeyArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// One self-contained HTML report to file: the files' SHA-256, the summary, the findings, the
    /// pictures, the partitions, what a child changed, and every structure's fields.
    #[command(
        after_help = "The report needs no script to read and prints to PDF as it shows. Every byte of every file of the chain is read (for its SHA-256), every sector bitmap (as check reads them), and a child is compared with its parent (as diff). The same files give the same bytes.\n\nExamples:\n  vhd-viewer report disk.vhd > report.html\n  vhd-viewer report child.vhd --parent base.vhd > report.html"
    )]
    Report {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// A picture of the disk as SVG on stdout: the chain, a block map, a block's sector bitmap,
    /// the provenance map, the partitions, or what a child changed.
    #[command(
        after_help = "The same disk gives the same bytes (no time stamps, no random ids), so documentation can commit or cache its pictures; the page's \"Save picture\" gives the same bytes. Labels are text, the picture's <title> and <desc> say what it shows in words, and each kind is told apart by a pattern as well as a colour. A map of more than 4096 blocks or sectors is summarised: each square stands for several.\n\nExamples:\n  vhd-viewer draw child.vhd chain > chain.svg\n  vhd-viewer draw child.vhd bat --layer 1 --theme dark > parent-blocks.svg\n  vhd-viewer draw child.vhd bitmap 12 > block-12.svg\n  vhd-viewer draw child.vhd provenance --width 960 > provenance.svg\n  vhd-viewer draw disk.vhd partitions > partitions.svg\n  vhd-viewer draw child.vhd changes --parent base.vhd > changes.svg"
    )]
    Draw(draw::DrawArgs),
    /// Can a differencing disk move onto a new base? Per file: changed only by the child, only
    /// by the new base, or by both (a conflict). Reports only; writes nothing.
    #[command(
        after_help = "The child's parent is the old base. The child's changes are its diff against its parent; the new base's changes are its diff against the old base (through its chain when the old base is one of its layers, else every allocated sector). Exit status: 0 no conflict, 1 conflicts, 2 an error.\n\nExamples:\n  vhd-viewer rebase-check child.vhd --onto new-base.vhd\n  vhd-viewer rebase-check child.vhd --parent old-base.vhd --onto new-base.vhd --json"
    )]
    RebaseCheck {
        #[command(flatten)]
        chain: ChainArgs,
        /// The new base.
        #[arg(long, value_name = "NEW_BASE")]
        onto: PathBuf,
        /// Print JSON: {"child_only": [...], "base_only": [...], "conflicts": [...]}.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct LayerArg {
    /// Read the disk as it was at layer K of the chain (0 is the file opened, 1 its parent, ...):
    /// the chain cut at K.
    #[arg(long = "layer", value_name = "K", default_value = "0")]
    k: usize,
}

/// What unlocks a BitLocker volume (one at most; a suspended volume needs none). The same flags
/// are the hook for `inspect` and every command that reads files.
#[derive(Args)]
#[group(multiple = false)]
pub(crate) struct KeyArgs {
    /// Unlock BitLocker volumes with this password (visible to other users in the process list:
    /// --password-file is safer).
    #[arg(long, value_name = "PASSWORD")]
    password: Option<String>,
    /// Unlock BitLocker volumes with the password in this file's first line (`-`: standard input).
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    /// Unlock BitLocker volumes with this 48-digit recovery password (dashes optional).
    #[arg(long, value_name = "DIGITS")]
    recovery_password: Option<String>,
    /// Unlock BitLocker volumes with this startup key file (`{ID}.BEK`).
    #[arg(long, value_name = "FILE.BEK")]
    key_file: Option<PathBuf>,
}

impl KeyArgs {
    /// The key given, if any.
    pub(crate) fn key(&self) -> Result<Option<vhd_viewer::bitlocker::Key>, Error> {
        use vhd_viewer::bitlocker::Key;
        let read = |p: &PathBuf| -> Result<Vec<u8>, Error> {
            if p.as_os_str() == "-" {
                let mut v = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut v).map_err(io_err)?;
                Ok(v)
            } else {
                std::fs::read(p).map_err(|e| Error::CannotOpen { file: p.display().to_string(), message: e.to_string() })
            }
        };
        Ok(if let Some(p) = &self.password {
            Some(Key::Password(p.clone()))
        } else if let Some(f) = &self.password_file {
            let text = String::from_utf8_lossy(&read(f)?).into_owned();
            Some(Key::Password(text.lines().next().unwrap_or("").to_string()))
        } else if let Some(r) = &self.recovery_password {
            Some(Key::RecoveryPassword(r.clone()))
        } else if let Some(f) = &self.key_file {
            Some(Key::KeyFile(read(f)?))
        } else {
            None
        })
    }
}

#[derive(Args)]
struct ChainArgs {
    /// The VHD file.
    file: PathBuf,
    /// The parent of a differencing disk (repeat for grandparents, in order). Without it the
    /// parent is found through the disk's locators.
    #[arg(long = "parent", value_name = "FILE")]
    parents: Vec<PathBuf>,
    /// Read the chain even when a parent's unique id is not the one its child names.
    #[arg(long)]
    force: bool,
}

/// Parses `4096`, `0x1000`, `4K`, `2M`, `1G`, `1T` (binary units).
fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if "kKmMgGtT".contains(c) && !s.starts_with("0x") => {
            (&s[..i], 1u64 << (10 * (1 + "kmgt".find(c.to_ascii_lowercase()).unwrap_or(0))))
        }
        _ => (s, 1),
    };
    let n = match num.strip_prefix("0x").or_else(|| num.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => num.parse(),
    }
    .map_err(|e| format!("{s:?} is not a size: {e}"))?;
    n.checked_mul(mult).ok_or_else(|| format!("{s:?} is too large"))
}

/// Parses a `--for` target: `azure`, `hyper-v`.
fn parse_target(s: &str) -> Result<vhd_viewer::fit::Target, String> {
    vhd_viewer::fit::Target::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = vhd_viewer::fit::Target::ALL.iter().map(|t| t.name()).collect();
        format!("{s:?} is not a target: one of {}", names.join(", "))
    })
}

/// Runs the command line; returns the exit status.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        // The reader of our output went away (e.g. `| head`): stop quietly, as `cat` does.
        Err(Error::OutputClosed) => 0,
        Err(e) => {
            eprintln!("vhd-viewer: {e}");
            2
        }
    }
}

fn run(cli: Cli) -> Result<i32, Error> {
    match cli.command {
        Command::Convert(args) => write::convert(args),
        Command::Compact(args) => write::compact(args),
        Command::Relink(args) => write::relink(args),
        Command::Repair(args) => write::repair(args),
        Command::Chains { paths, json } => survey::chains(&paths, json),
        Command::Resize(args) => write::resize(args),
        Command::Info { chain, layer, json, explain } => {
            let c = OpenChain::open(&chain.file, &chain.parents, chain.force, false)?.cut(layer.k)?;
            let info = vhd_viewer::info::info(&c.disk, &c.names);
            // Stdout is line-buffered: the report would be a system call per line.
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let written = if json {
                serde_json::to_writer_pretty(&mut out, &info).map_err(std::io::Error::from).and_then(|_| writeln!(out))
            } else {
                output::write_info(&mut out, &info, &c, explain)
            }
            .and_then(|_| out.flush());
            written.map_err(io_err)?;
            Ok(0)
        }
        Command::Check { chain, json, quick: _, target: Some(target) } => {
            // The rules read the file itself: its parents are neither needed nor opened.
            let (_, layer) = chain::open_file(&chain.file)?;
            let report = vhd_viewer::fit::check(&vhd_viewer::Disk::new(vec![layer], false)?, target);
            let mut out = std::io::stdout().lock();
            let written = if json {
                serde_json::to_writer_pretty(&mut out, &report).map_err(std::io::Error::from).and_then(|_| writeln!(out))
            } else {
                output::write_fit(&mut out, &report, &chain.file.display().to_string())
            };
            written.map_err(io_err)?;
            Ok(if report.fits { 0 } else { 1 })
        }
        Command::Check { chain, json, quick, target: None } => {
            let c = OpenChain::open(&chain.file, &chain.parents, chain.force, false)?;
            let mut findings = c.disk.all_findings();
            findings.extend(c.unresolved.iter().cloned());
            if !quick {
                let sources = c.sources();
                let mut reader = DiskReader::new(&c.disk, sources)?;
                let tty = std::io::stderr().is_terminal();
                let mut progress = |done: u64, total: u64| {
                    if tty && total > 0 {
                        eprint!("\rchecking blocks: {done}/{total}");
                        if done == total {
                            eprintln!();
                        }
                    }
                };
                findings.extend(vhd_viewer::check::scan(&mut reader, &mut progress)?);
            }
            let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
            let mut out = std::io::stdout().lock();
            let written = if json {
                serde_json::to_writer_pretty(&mut out, &findings).map_err(std::io::Error::from).and_then(|_| writeln!(out))
            } else {
                output::write_findings(&mut out, &findings, &c.names)
            };
            written.map_err(io_err)?;
            Ok(if errors > 0 { 1 } else { 0 })
        }
        Command::Map { chain, layer, json, offset, length } => {
            let c = OpenChain::open(&chain.file, &chain.parents, chain.force, false)?.cut(layer.k)?;
            let mut reader = DiskReader::new(&c.disk, c.sources())?;
            let len = length.unwrap_or(u64::MAX);
            output::write_map(&mut raw_stdout(), &mut reader, offset, len, &c.names, json, c.base)?;
            Ok(0)
        }
        Command::Cat { chain, layer, offset, length, partition, volume, decrypted, key } if partition.is_some() || volume.is_some() => {
            let c = OpenChain::open(&chain.file, &chain.parents, chain.force, false)?.cut(layer.k)?;
            files::cat_partition(&c, &files::On { partition, volume }, decrypted, key.key()?.as_ref(), offset, length)
        }
        Command::Cat { chain, layer, offset, length, .. } => {
            let c = OpenChain::open(&chain.file, &chain.parents, chain.force, false)?.cut(layer.k)?;
            let mut reader = DiskReader::new(&c.disk, c.sources())?;
            let size = c.disk.size();
            if offset > size {
                return Err(Error::ReadPastEnd { offset, len: None, size });
            }
            let len = length.unwrap_or(size - offset).min(size - offset);
            // Without its parent, a child still gives the ranges it holds itself; refuse before
            // writing anything when the range needs the parent.
            if let Some(unresolved) = c.unresolved.first() {
                let mut needs_parent = false;
                reader.for_each_extent(offset, len, |e| {
                    needs_parent |= matches!(e.source, Source::Missing { layer } if c.disk.layers[layer].disk_type() == vhd_viewer::image::DiskType::Differencing);
                    Ok(())
                })?;
                if needs_parent {
                    return Err(Error::ParentUnavailable(ParentNeed::Cat { missing: unresolved.message.clone() }));
                }
            }
            cat(&mut reader, &c.files(), offset, len)?;
            Ok(0)
        }
        Command::Parts { chain, layer, key, json } => {
            let c = OpenChain::open(&chain.file, &chain.parents, chain.force, false)?.cut(layer.k)?;
            files::parts(&c, key.key()?.as_ref(), json)
        }
        Command::Ls { chain, layer, key, path, partition, volume, recursive, deleted, json } => {
            let c = OpenChain::open(&chain.file, &chain.parents, chain.force, false)?.cut(layer.k)?;
            files::ls(&c, key.key()?.as_ref(), &path, &files::On { partition, volume }, recursive, deleted, json)
        }
        Command::Inspect { chain, layer, key, json } => {
            let c = OpenChain::open(&chain.file, &chain.parents, chain.force, false)?.cut(layer.k)?;
            inspect::inspect(&c, key.key()?.as_ref(), json)
        }
        Command::Timeline { chain, layer, key, partition, volume, deleted, bodyfile, csv, json } => {
            let c = OpenChain::open(&chain.file, &chain.parents, chain.force, false)?.cut(layer.k)?;
            let format = match (bodyfile, csv, json) {
                (true, _, _) => timeline::Format::Body,
                (_, true, _) => timeline::Format::Csv,
                (_, _, true) => timeline::Format::Json,
                _ => timeline::Format::Text,
            };
            timeline::timeline(&c, key.key()?.as_ref(), &files::On { partition, volume }, deleted, format)
        }
        Command::Search { chain, layer, key, pattern, hex, utf16, ignore_case, only_layer, json } => {
            let c = OpenChain::open(&chain.file, &chain.parents, chain.force, false)?.cut(layer.k)?;
            search::search(
                &c,
                key.key()?.as_ref(),
                &pattern,
                vhd_viewer::search::PatternOptions { hex, utf16, ignore_case },
                only_layer,
                json,
            )
        }
        Command::Get { chain, layer, key, path, partition, volume } => {
            let c = OpenChain::open(&chain.file, &chain.parents, chain.force, false)?.cut(layer.k)?;
            files::get(&c, key.key()?.as_ref(), &path, &files::On { partition, volume })
        }
        Command::Owner { chain, layer, key, sector, json } => {
            let c = OpenChain::open(&chain.file, &chain.parents, chain.force, false)?.cut(layer.k)?;
            files::owner(&c, key.key()?.as_ref(), sector, json)
        }
        Command::Diff { chain, other, from, to, key, json } => {
            let c = OpenChain::open(&chain.file, &chain.parents, chain.force, false)?;
            diff::diff(&c, other.as_deref(), chain.force, from, to, key.key()?.as_ref(), json)
        }
        Command::Report { chain, key } => {
            let c = OpenChain::open(&chain.file, &chain.parents, chain.force, false)?;
            report::report(&c, key.key()?.as_ref())
        }
        Command::Draw(args) => draw::draw(args),
        Command::RebaseCheck { chain, onto, json } => {
            let c = OpenChain::open(&chain.file, &chain.parents, chain.force, false)?;
            diff::rebase_check(&c, &onto, chain.force, json)
        }
    }
}

/// A progress function that writes `what: N%` on stderr when it is a terminal, each percent
/// once, and ends the line when the work is done; it never stops the work.
pub(crate) fn percent(what: &'static str) -> impl FnMut(u64, u64) -> bool {
    let tty = std::io::stderr().is_terminal();
    let mut last = u64::MAX;
    move |done, total| {
        if tty && total > 0 {
            let pct = done * 100 / total;
            if pct != last {
                eprint!("\r{what}: {pct}%");
                last = pct;
                if done >= total {
                    eprintln!();
                }
            }
        }
        true
    }
}

pub(crate) fn io_err(e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return Error::OutputClosed;
    }
    Error::Io { offset: 0, message: format!("writing the output: {e}") }
}

/// Standard output as a plain File: a duplicate of fd 1, unbuffered, so that a buffer goes out
/// in one write (`Stdout` is line buffered: it scans every byte for a newline, and splits the
/// writes at them).
fn stdout_file() -> Option<std::fs::File> {
    std::os::fd::AsFd::as_fd(&std::io::stdout()).try_clone_to_owned().map(std::fs::File::from).ok()
}

/// Standard output for large outputs that gather whole buffers themselves ([`stdout_file`], or
/// `Stdout` when fd 1 cannot be duplicated).
fn raw_stdout() -> Box<dyn Write> {
    match stdout_file() {
        Some(f) => Box::new(f),
        None => Box::new(std::io::stdout().lock()),
    }
}

/// Streams the virtual disk's bytes to stdout in constant memory.
///
/// Output goes out in whole buffers of `BUF` bytes straight to the file descriptor (not through
/// `Stdout`'s line buffering, which scans every byte for a newline); long zero runs are written
/// from a zero buffer; the small data extents of a fragmented bitmap (say every other sector)
/// are read with one read of the stretch of file that holds them, not one read each; and data
/// extents of at least `DIRECT` bytes are copied by the kernel from `files` (layer by layer) to
/// an output that is a file or `/dev/null`, never through this process's memory
/// (`std::io::copy` from a file to a file: `copy_file_range` into a file, `sendfile` into
/// `/dev/null`).
fn cat(reader: &mut DiskReader<'_>, files: &[&std::fs::File], offset: u64, len: u64) -> Result<(), Error> {
    // Into a pipe, `sendfile` measured twice the CPU time of writing the buffer (the pipe's
    // reader then copies every page anyway): only files and /dev/null are copied into.
    let direct = stdout_file().filter(|f| {
        use std::os::unix::fs::FileTypeExt;
        f.metadata().is_ok_and(|m| m.file_type().is_file() || (m.file_type().is_char_device() && !std::io::stdout().is_terminal()))
    });
    let mut out = Out {
        sink: match direct.as_ref().map(std::fs::File::try_clone) {
            Some(Ok(f)) => Box::new(f),
            _ => raw_stdout(),
        },
        direct,
        files,
        buf: vec![0u8; BUF],
        filled: 0,
        zeros: vec![0u8; BUF],
    };
    let mut span = vec![0u8; BUF];
    let tty = std::io::stderr().is_terminal() && len >= 64 << 20;
    let mut last_pct = u64::MAX;
    let disk = reader.disk;
    let mut extents = Vec::new();
    // Plan a stretch at a time, then copy, so that memory stays constant.
    let chunk = disk.chunk_size().max(BUF as u64);
    let end = offset + len;
    let mut pos = offset;
    while pos < end {
        let stop = (pos + chunk).min(end);
        extents.clear();
        reader.for_each_extent(pos, stop - pos, |e| {
            extents.push(e);
            Ok(())
        })?;
        let mut i = 0;
        while i < extents.len() {
            let e = extents[i];
            match e.source {
                Source::Zero => out.zeros(e.len)?,
                Source::Missing { .. } => return Err(vhd_viewer::reader::missing_error(reader.disk, &e)),
                Source::Data { layer, file_offset } if e.len >= GAP => out.read(reader, layer, file_offset, e.len)?,
                Source::Data { layer, file_offset } => {
                    // A small piece: take in the next pieces of the same file that lie close
                    // after it (with the zero runs between them), and read them in one go.
                    let (mut last, mut span_end, mut k) = (i, file_offset + e.len, i + 1);
                    while let Some(n) = extents.get(k) {
                        match n.source {
                            Source::Zero if n.len < GAP => {}
                            Source::Data { layer: l, file_offset: f }
                                if l == layer && f >= span_end && f - span_end < GAP && f + n.len - file_offset <= BUF as u64 =>
                            {
                                last = k;
                                span_end = f + n.len;
                            }
                            _ => break,
                        }
                        k += 1;
                    }
                    if last == i {
                        out.read(reader, layer, file_offset, e.len)?;
                    } else {
                        let bytes = &mut span[..(span_end - file_offset) as usize];
                        reader.read_file(layer, file_offset, bytes)?;
                        for p in &extents[i..=last] {
                            match p.source {
                                Source::Data { file_offset: f, .. } => {
                                    out.bytes(&bytes[(f - file_offset) as usize..(f - file_offset + p.len) as usize])?
                                }
                                _ => out.zeros(p.len)?,
                            }
                        }
                    }
                    i = last;
                }
            }
            i += 1;
        }
        pos = stop;
        if tty {
            let pct = (pos - offset) * 100 / len.max(1);
            if pct != last_pct {
                eprint!("\rwriting: {pct}%");
                last_pct = pct;
            }
        }
    }
    out.flush()?;
    if tty {
        eprintln!();
    }
    Ok(())
}

/// Size of `cat`'s output buffer, and the most it reads at once.
const BUF: usize = 1 << 20;
/// Data pieces of the same file closer than this are read together, with the gap between them.
const GAP: u64 = 64 << 10;
/// Data extents at least this long are copied by the kernel, not read into the buffer.
const DIRECT: u64 = 256 << 10;

/// `cat`'s output: bytes are gathered into a buffer and written in whole buffers; long data
/// extents are copied by the kernel from the layer's file into `direct` (a second duplicate of
/// fd 1, sharing its file offset with `sink`) when there is one.
struct Out<'f> {
    sink: Box<dyn Write>,
    direct: Option<std::fs::File>,
    files: &'f [&'f std::fs::File],
    buf: Vec<u8>,
    filled: usize,
    zeros: Vec<u8>,
}

impl Out<'_> {
    fn flush(&mut self) -> Result<(), Error> {
        if self.filled > 0 {
            self.sink.write_all(&self.buf[..self.filled]).map_err(io_err)?;
            self.filled = 0;
        }
        self.sink.flush().map_err(io_err)
    }

    fn flush_if_full(&mut self) -> Result<(), Error> {
        if self.filled == BUF {
            self.flush()?;
        }
        Ok(())
    }

    fn zeros(&mut self, mut n: u64) -> Result<(), Error> {
        while n > 0 {
            if self.filled == 0 && n >= BUF as u64 {
                self.sink.write_all(&self.zeros).map_err(io_err)?;
                n -= BUF as u64;
                continue;
            }
            let k = (BUF - self.filled).min(n as usize);
            self.buf[self.filled..self.filled + k].fill(0);
            self.filled += k;
            n -= k as u64;
            self.flush_if_full()?;
        }
        Ok(())
    }

    fn bytes(&mut self, mut b: &[u8]) -> Result<(), Error> {
        while !b.is_empty() {
            let k = (BUF - self.filled).min(b.len());
            self.buf[self.filled..self.filled + k].copy_from_slice(&b[..k]);
            self.filled += k;
            b = &b[k..];
            self.flush_if_full()?;
        }
        Ok(())
    }

    /// Reads `n` bytes of layer `layer`'s file at `file_offset` straight into the buffer, or has
    /// the kernel copy them to the output when they are many.
    fn read(&mut self, reader: &DiskReader<'_>, layer: usize, mut file_offset: u64, mut n: u64) -> Result<(), Error> {
        if let (true, Some(file)) = (n >= DIRECT && self.direct.is_some(), self.files.get(layer).copied()) {
            reader.check_file_range(layer, file_offset, n)?;
            self.flush()?;
            if let Some(out) = self.direct.as_mut() {
                return kernel_copy(file, out, file_offset, n);
            }
        }
        while n > 0 {
            let k = (BUF - self.filled).min(usize::try_from(n).unwrap_or(BUF));
            reader.read_file(layer, file_offset, &mut self.buf[self.filled..self.filled + k])?;
            self.filled += k;
            file_offset += k as u64;
            n -= k as u64;
            self.flush_if_full()?;
        }
        Ok(())
    }
}

/// Has the kernel copy `n` bytes of `file` at `file_offset` to `out`. `std::io::copy` from a
/// `File` to a `File` copies in the kernel where it can, and through a buffer where it cannot (a
/// file opened to append), so the output is right either way.
fn kernel_copy(mut file: &std::fs::File, out: &mut std::fs::File, file_offset: u64, n: u64) -> Result<(), Error> {
    use std::io::{Read, Seek, SeekFrom};
    let read_err = |e: std::io::Error| Error::Io { offset: file_offset, message: e.to_string() };
    file.seek(SeekFrom::Start(file_offset)).map_err(read_err)?;
    let copied = std::io::copy(&mut file.take(n), out).map_err(io_err)?;
    if copied < n {
        // The file ended early (it shrank after it was opened).
        let file_len = file.metadata().map_or(0, |m| m.len());
        return Err(Error::OutOfFile { what: "block", offset: file_offset + copied, len: n - copied, file_len });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("0x200"), Ok(512));
        assert_eq!(parse_size("2M"), Ok(2 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("x").is_err());
    }
}
