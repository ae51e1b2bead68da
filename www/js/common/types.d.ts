// The data shapes that cross between the core, the Worker, the page and the npm package's users,
// declared once, for TypeScript's checker only (`make lint`: nothing imports this file at run
// time; the modules name these types in JSDoc, and the package's index.d.ts re-exports them: it
// is shipped as js/common/types.d.ts, so it imports nothing but the DOM's types). The
// WebAssembly core's methods return `any` in wasm-bindgen's .d.ts; these are what they really
// return (src/wasm.rs, src/info.rs), cast where the modules take them. The page's own types
// are in page/types.d.ts, the Worker's in worker/types.d.ts.

/**
 * A 64-bit integer of the core after `normalize()`: a number when it is exact, else the string of
 * its digits (a corrupt footer can claim any size).
 */
export type U64 = number | string;

export type DiskType = 'fixed' | 'dynamic' | 'differencing' | 'unknown';
/** What "Save as…" writes, as `vhd-viewer convert --to` names it: a dynamic or fixed VHD or VHDX; or `azure`, a fixed VHD made larger to a whole MiB for Azure (`vhd-viewer convert --for azure`). */
export type SaveKind = 'dynamic' | 'fixed' | 'vhdx' | 'vhdx-fixed' | 'azure';
export type Severity = 'error' | 'warning' | 'info';

/** Bytes of a file, read piece by piece (an AsyncBuffer, as hyparquet calls it). */
export interface Source {
  readonly byteLength: number;
  readonly name: string;
  /** The File or Blob read, when it is one. */
  readonly blob?: Blob;
  /** Bytes [start, end), shorter only at the end of the file. */
  slice(start: number, end: number, signal?: AbortSignal): Promise<Uint8Array>;
  /** The same, read synchronously (a Blob in a Worker: FileReaderSync). */
  sliceSync?(start: number, end: number): Uint8Array;
  /** What has been read so far (for a URL, its requests and the bytes they transferred too). */
  readonly stats: { reads: number; bytes: number; requests?: number; transferred?: number };
}

/** Why a remote file cannot be read (RemoteError's `code`). */
export type RemoteErrorCode = 'not-found' | 'http' | 'network' | 'no-range' | 'no-content-range' | 'changed' | 'bad-answer';

/**
 * A layer's block table (`WasmDisk.blockTable()`), whatever the format and the disk's size:
 * `states[i]` is block i's state code (a VHD's 0 not allocated or 6 in the file; a VHDX's payload
 * block states 0 not present, 1 undefined, 2 zero, 3 unmapped, 6 fully and 7 partially present),
 * `offsets[i] * unit` where it is in the file, `ooo[i]` 1 when stored before a block with a lower
 * index (empty for a VHDX); blocks past `states` are not present. `legend`: the states present,
 * as [code, name, count].
 */
export interface BlockTable {
  blocks: number;
  states: Uint8Array;
  offsets: Uint32Array;
  unit: number;
  bitmapBefore: number;
  ooo: Uint8Array;
  legend: [number, string, number][];
}

/** Bytes `[offset, offset + len)` of a file. */
export interface ByteRange {
  offset: number;
  len: number;
}

/** A sector bitmap to read and hand to `provideBitmap`. */
export interface BitmapNeed extends ByteRange {
  layer: number;
  block: number;
}

/** What `VhdDisk.sectors` answers: which layer each sector comes from, and a block's bitmap. */
export interface SectorsView {
  /** Where the block's sector bitmap is in its file (null without `layer` and `block`, or none). */
  range: { offset: number; len: number } | null;
  bitmap: Uint8Array | null;
  /** Per sector of the range: the layer it is read from (255: zeros, 254: a missing parent). */
  sources: Uint8Array;
  /** Where the block's data starts in its file. */
  dataOffset: number | null;
}

/** Where virtual bytes come from (`plan()`): a file of the chain, zeros, or a layer that cannot be read. */
export type Extent =
  | { offset: number; len: number; kind: 'data'; layer: number; fileOffset: number; /** bytes the file ends early (readVirtual) */ short?: number }
  | { offset: number; len: number; kind: 'missing'; layer: number; fileOffset: null }
  | { offset: number; len: number; kind: 'zero'; layer: null; fileOffset: null };
export type MissingExtent = Extent & { kind: 'missing' };

/** `WasmDisk.plan()`. */
export type Plan = { need: BitmapNeed[]; extents: null } | { need: null; extents: Extent[] };

/** `WasmDisk.scanStep()`. */
export interface ScanStep {
  need: BitmapNeed[] | null;
  done: number;
  total: number;
  finished: boolean;
}

/** `WasmDisk.checkNext()` (its `layer` is a Rust usize: a BigInt). */
export interface CheckRead extends ByteRange {
  layer: bigint;
  block: number;
  kind: 'bitmap' | 'data';
  done: number;
  total: number;
}

/** `WasmLayer.identity()`. */
export interface Identity {
  diskType: DiskType;
  uniqueId: string;
  size: number;
  parentUniqueId: string | null;
  parentUniqueIdOffset: number | null;
  parentUnicodeName: string | null;
  parentCandidates: string[];
}

/** `WasmFiles.arrange()`, normalized: indices into the files added. */
export interface Arranged {
  chains: number[][];
  duplicates: [number, number][];
}

/** A finding, normalized (the core gives `layer` and `offset` as BigInts). */
export interface Finding {
  severity: Severity;
  code: string;
  layer: number;
  offset: number | null;
  message: string;
}

/** One row of a structure: a field with its place, raw bytes and meaning. */
export interface Field {
  key: string;
  name: string;
  offset: number;
  size: number;
  raw: string;
  value: string;
  explain: string;
  ok: boolean;
}

export interface FooterCopyInfo {
  offset: number;
  checksum_valid: boolean;
  identical: boolean;
  differences: string[];
  fields: Field[];
}

export interface LocatorInfo {
  index: number;
  offset: number;
  platform_code: string;
  platform_data_space: number;
  platform_data_length: number;
  platform_data_offset: U64;
  path: string | null;
  path_valid: boolean;
  fields: Field[];
}

/** The dynamic header's keys (present for dynamic and differencing disks only). */
export interface DynamicInfo {
  header_offset: number;
  table_offset: U64;
  header_version: string;
  max_table_entries: number;
  block_size: number;
  header_checksum: number;
  header_checksum_valid: boolean;
  parent_unique_id: string;
  parent_timestamp: string;
  parent_unicode_name: string;
  parent_locators: LocatorInfo[];
  bat_entries: number;
  allocated_blocks: number;
  out_of_order_blocks: number;
  bitmap_size: number;
}

export interface ChainLink {
  file: string;
  disk_type: DiskType;
  creator_application: string;
  current_size: U64;
  unique_id: string;
  parent_unique_id: string | null;
  parent_verified: boolean | null;
  allocated_blocks: number;
}

/** The same object as `vhd-viewer info --json`, normalized. */
export interface Info extends Partial<DynamicInfo> {
  file: string;
  file_size: number;
  disk_type: DiskType;
  cookie: string;
  features: number;
  file_format_version: string;
  data_offset: string;
  timestamp: string;
  timestamp_seconds: number;
  creator_application: string;
  creator_version: string;
  creator_host_os: string;
  original_size: U64;
  current_size: U64;
  geometry: { cylinders: number; heads: number; sectors_per_track: number };
  geometry_size: U64;
  checksum: number;
  checksum_valid: boolean;
  unique_id: string;
  saved_state: number;
  footer_offset: number;
  footer_source: 'end' | 'end-511' | 'copy';
  footer_copy: FooterCopyInfo | null;
  fields: Field[];
  findings: Finding[];
  /** Every layer, the opened file first (absent for one disk without parent). */
  chain?: ChainLink[];
  parent_missing: boolean;
  all_findings: Finding[];
  /** `vhd` or `vhdx`. */
  format?: 'vhd' | 'vhdx';
  /** A VHDX's structures, each with its fields. */
  structures?: { name: string; offset: number; fields: Field[] }[];
  /** A VHDX's creator (its file type identifier's), where a VHD has `creator_application`. */
  creator?: string;
  /** A VHDX's DataWriteGuid: what its children link to, where a VHD has `unique_id`. */
  data_write_guid?: string;
  headers_valid?: boolean[];
  current_header?: number;
  log_dirty?: boolean;
  log_replayed?: boolean;
}

/**
 * A file's structures before its block table is read (openVhd's `onStructures`): the keys of
 * `Info` about its footers, dynamic header and parent locators. The block table's counts are 0
 * and the findings are those made so far; the Info that follows has them all.
 */
export type LayerStructures = Omit<Info, 'chain' | 'parent_missing' | 'all_findings'>;

/** What a chain's last file needs when its parent was not given (neededParentText, chainDisk). */
export interface MissingParent {
  names: string[];
  paths: string[];
  id: string | null;
  /** The file of the chain it names as its parent (the chain loops). */
  loop?: string | null;
  /** Files given under the parent's name that are other disks. */
  impostors?: { name: string; id: string }[];
  /** Where the parent unique id field lies in the file. */
  at?: number | null;
  severity?: 'error' | 'warning';
}

/** Why a part of the disk cannot be read (WasmDisk.unreadable, from the core's reader::Unreadable). */
export type Unreadable =
  | { why: 'parent'; layer: number }
  | { why: 'bitmap' | 'data'; layer: number; block: number; file_offset: number }
  | { why: 'cut-short'; layer: number; file_offset: number };

/** One changed file of a diff (`vhd-viewer diff --json`). */
export interface DiffChange {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  kind: 'added' | 'deleted' | 'modified' | 'renamed' | 'metadata' | 'transient';
  old_path: string | null;
  content_changed: boolean;
  size: number;
  old_size: number;
  bytes_held: number;
  identical_bytes: number;
  /** Why Windows changes it on every boot (pagefile, hive logs, ...), or null. */
  noise: string | null;
  /** A deleted FAT entry's name: whether all of it was recovered. */
  name_complete?: boolean;
  /** The file's other names (hard links), on its side. */
  links?: string[];
}

/** One file in `rebase-check`: what the child and what the new base did to it. */
export interface RebaseItem {
  partition: number;
  path: string;
  child: DiffChange['kind'] | null;
  base: DiffChange['kind'] | null;
  noise: string | null;
}

/** `vhd-viewer rebase-check --json`. */
export interface Rebase {
  child_only: RebaseItem[];
  base_only: RebaseItem[];
  conflicts: RebaseItem[];
}

/** What a differencing disk changed, file by file (`vhd-viewer diff --json`, the core's diff::Report). */
export interface DiffReport {
  mode: 'chain' | 'unrelated';
  held_bytes: number;
  identical_bytes: number;
  outside_partitions_bytes: number;
  bytes_read: number;
  partitions: {
    index: number;
    filesystem: string | null;
    changes: DiffChange[];
    filesystem_metadata: { name: string; bytes_held: number }[];
    held: { files: number; filesystem_metadata: number; free_space: number };
    held_bytes: number;
    identical_bytes: number;
    error?: string;
  }[];
  /** What the newer side changed in the operating systems (src/inspect: `compare`). */
  systems: SystemChange[];
}

/** One thing a newer layer changed in a system: a fact, a user, a program (`diff --json`'s `systems`). */
export interface SystemChange {
  partition: number;
  os: 'windows' | 'linux';
  kind: 'system-added' | 'system-removed' | 'field' | 'user-added' | 'user-removed' | 'program-added' | 'program-removed' | 'program-changed';
  /** The field's JSON name, the user's or the program's name. */
  name: string;
  old: string | null;
  new: string | null;
  source: SystemSource | null;
  /** In plain words: `computer name: A -> B`, `program installed: X 1.2 (publisher)`. */
  message: string;
}

/** A file given, as the Worker describes it to the main thread. */
export interface PublicFile {
  name: string;
  size: number;
  /** Set when the file was opened. */
  identity?: Identity;
  /** Why it is not a readable VHD. */
  error?: string;
  /** The core's code for that (e.g. `no-footer`, `other-format`; a RemoteError's for a URL), and the file offset it names. */
  errorCode?: string | null;
  errorOffset?: number | null;
  /** The index of the earlier file with the same unique id. */
  duplicateOf?: number;
}

// ---- A folder's survey (src/folder.rs, `vhd-viewer chains --json`), after normalize().

/** One file of a survey's trees, with the files whose parent it is. */
export interface SurveyNode {
  /** Its path under the folder (`/` between folders). */
  file: string;
  format: 'vhd' | 'vhdx';
  disk_type: string;
  /** `base` (no parent), `checkpoint` (a child with children) or `leaf`. */
  role: 'base' | 'checkpoint' | 'leaf';
  id: string;
  parent_id: string | null;
  /** The virtual disk's size in bytes. */
  size: number;
  /** A child whose parent is in no file given: the root of a tree of its own. */
  orphan?: boolean;
  /** What else is worth knowing (a VHDX whose log is not empty, identified from its headers as stored). */
  notes?: string[];
  children: SurveyNode[];
}

/** What `folder::survey` answers for a folder's files. */
export interface Survey {
  trees: SurveyNode[];
  orphans: { file: string; parent_id: string | null; looks_for: string[] }[];
  moved: { file: string; parent: string; locator_says: string; relink: string }[];
  modified: { file: string; expected_id: string; found: string; found_id: string }[];
  duplicates: string[][];
  unreadable: { file: string; reason: string }[];
  bytes_read: { file: string; bytes: number }[];
}

/** What the Worker answers to `open`. */
export interface OpenedSummary {
  files: PublicFile[];
  chains: number[][];
  best: number;
}

/** One file of the chain shown, as the views need it. */
export interface DiskLayer {
  name: string;
  byteLength: number;
  diskType: DiskType;
  format: 'vhd' | 'vhdx';
  /** 0 for a fixed disk. */
  blockSize: number;
  /** The bitmap before each block (a VHD's); 0 for a VHDX, whose bitmaps are blocks of their own. */
  bitmapSize: number;
  /** A VHDX's sector bitmaps run from each byte's least significant bit, in its logical sectors. */
  bitmapLsbFirst: boolean;
  bitmapSectorSize: number;
  /** Why each writer cannot copy this file (the core's rule), or null when it can. */
  refusals: { compact: string | null; repair: string | null; relink: string | null; resize: string | null };
  /** The virtual size of the disk as of this file. */
  size: number;
  /** The size of its Azure-ready copy (`vhd-viewer convert --for azure --layer K`): rounded up to a whole MiB, at least 20 MiB. */
  azureSize: number;
  /** Why no Azure-ready copy can be written (larger than a VHD holds), or null. */
  azureRefusal: string | null;
}

/** What the Worker answers to `chain`: the disk of one chain. */
export interface ChainView {
  info: Info;
  names: string[];
  missing: MissingParent | null;
  size: number;
  /** The virtual disk's logical sector size (the opened file's: 512, or 4096 for some VHDX). */
  sectorSize: number;
  chunkSize: number;
  layers: DiskLayer[];
  /** Each layer's own info (the chain from that file down); the first is `info`. */
  layerInfos: Info[];
  /** Whether Azure takes the disk (`check --for azure --json`). */
  fit: FitReport;
}

/** One rule of a target, read on the disk (`check --for TARGET --json`'s `rules`). */
export interface FitRule {
  code: string;
  rule: string;
  /** `always`: every disk; the others only a disk used so, and do not decide `fits`. */
  scope: 'always' | 'os-disk' | 'gen1-boot' | 'gen2-boot';
  pass: boolean;
  field: string;
  offset: number | null;
  found: string;
  expected: string;
  /** The document that states the rule. */
  source: string;
}

/** Whether a target takes the disk: `check --for TARGET --json`. */
export interface FitReport {
  target: 'azure' | 'hyper-v';
  fits: boolean;
  /** `Ready for Azure: yes`, `Not ready for Azure: 2 of 11 rules fail`. */
  verdict: string;
  rules: FitRule[];
}

/**
 * What a file being saved is written through: a FileSystemWritableFileStream, or the Worker's
 * stand-in for one. `copies: true` says that `write` is done with `data` once its promise
 * settles (a FileSystemWritableFileStream copies it): the buffer is then filled again for a
 * later write instead of a new one being made. Without it, every write gets a buffer of its own.
 */
export interface Writable {
  truncate(size: number): Promise<unknown>;
  write(w: { type: 'write'; position: number; data: Uint8Array<ArrayBuffer> }): Promise<unknown>;
  copies?: boolean;
}

/** Which copy `VhdDisk.saveCopy` writes, and how. */
export type CopyRequest =
  | { op: 'compact'; layer?: number; trim?: boolean }
  | { op: 'repair'; layer?: number; scrub?: boolean }
  | { op: 'relink'; layer?: number; relative: string; absolute?: string }
  | { op: 'resize'; layer?: number; size: number; gptFix?: boolean };

/** What a resize will do (the core's `resize::ResizePlan`), known before anything is written. */
export interface ResizePlan {
  /** The copy's format and type: the input's. */
  format: 'vhd' | 'vhdx';
  disk_type: DiskType;
  old_size: number;
  new_size: number;
  /** True when the disk grows (false when it shrinks). */
  grows: boolean;
  /** The partition table found. */
  scheme: 'mbr' | 'gpt' | 'none';
  /** Whether a GPT's backup header and entries move to the new end (and the protective MBR's size is set). */
  gpt_moved: boolean;
  /** Bytes at the end of the resized disk that no partition covers (before a GPT's backup). */
  unpartitioned_bytes: number;
  /** What else to know, in plain sentences. */
  notes: string[];
}

/** What `resize` says it did (the core's `resize::Resized`): its plan, and the blocks of the file before and after. */
export interface Resized extends ResizePlan {
  /** Blocks the input allocates (1 MiB stretches of a fixed VHD). */
  blocks_before: number;
  /** Blocks placed in the copy. */
  blocks_after: number;
  file_len: number;
}

/** One thing a repair did (`vhd-viewer repair`): fixed, lost (data), or not fixed. */
export interface RepairAction {
  kind: 'fixed' | 'lost' | 'not_fixed';
  /** The offset in the damaged file it concerns. */
  offset: number | null;
  code: string;
  message: string;
}

/** What `compact --trim` did with one volume of the disk (the core's `trim::TrimVolume`). */
export interface TrimVolume {
  /** Its partition's number (as `parts` numbers them), or null for a file system on the whole disk. */
  partition: number | null;
  /** Where it lies on the virtual disk, in bytes. */
  start: number;
  len: number;
  /** The file system recognised on it, or null. */
  filesystem: string | null;
  /** Free bytes by its allocation map. */
  free_bytes: number;
  /** Whether its free space was given back. */
  trimmed: boolean;
  /** Why it was kept whole, when it was. */
  reason: string | null;
}

/** What `compact` says it did (the core's `compact::Compacted`). */
export interface Compacted {
  /** "vhd" or "vhdx": the copy's format, the input's. */
  format: 'vhd' | 'vhdx';
  blocks_before: number;
  blocks_after: number;
  sectors_cleared: number;
  /** Bytes of the input's data dropped because a file system marks them free. */
  bytes_free: number;
  /** Bytes of the input's data dropped because they are zeros. */
  bytes_zero: number;
  /** Bytes of the input's data kept. */
  bytes_kept: number;
  file_len_before: number;
  file_len: number;
}

/** What the core says of a copy it wrote: `report` as the command line would (per operation). */
export interface CopyReport {
  report:
    | Compacted
    | { actions: RepairAction[]; blocks: number; sectors_scrubbed: number; file_len: number }
    | { blocks: number; file_len: number }
    | Resized;
  /** Warnings to show (a relinked parent whose size differs from the child's). */
  warnings: string[];
  /** A compaction with the free space given back: each volume, trimmed or kept whole and why. */
  volumes?: TrimVolume[];
  /** Bytes of the input files read to make the copy. */
  bytes_read: number;
  /** The core's memory (the WebAssembly instance's) when the copy was done, in bytes. */
  memory: number;
  /** The copy's length in bytes. */
  file_len: number;
}

/** An input as the Worker is given it: a URL or a Blob it reads itself, or a source the main thread reads. */
export type WorkerInput =
  | { url: string; name: string | null; headers: [string, string][] }
  | { blob: Blob; name: string; proxy: number }
  | { proxy: number; byteLength: number; name: string };

// ---- The files view (views/files.js) and the core's WasmVolumes (src/wasm_files.rs), after normalize().

/** A file system the core recognises (`parts --json`). */
export type FsName = 'fat12' | 'fat16' | 'fat32' | 'exfat' | 'ntfs' | 'ext2' | 'ext3' | 'ext4' | 'xfs' | 'bitlocker';

/** The key a BitLocker volume is unlocked with in the page. */
export type UnlockKind = 'password' | 'recovery-password' | 'key-file';

/** A BitLocker partition's `bitlocker` object (`parts --json`). */
export interface BitLockerSummary {
  method: string;
  state: 'encrypted' | 'suspended' | 'decrypted' | 'encrypting' | 'encryption-paused' | 'decrypting' | 'decryption-paused';
  suspended: boolean;
  version: 'vista' | 'windows7' | 'to-go';
  volume_id: string;
  description: string | null;
  encrypted_bytes: number;
  percent_encrypted: number;
  protectors: { kind: string; value: number; id: string; offset: number; modified: string | null }[];
  /** The file system inside once unlocked, else null. */
  unlocked: FsName | null;
}

/** One partition of `parts --json`. */
export interface Partition {
  /** Numbered as Linux numbers them: MBR primaries 1-4, logicals from 5; GPT entry numbers. */
  index: number;
  /** In the disk's logical sectors (`PartsTable.sector_size` bytes each). */
  start_sector: number;
  sector_count: number;
  /** `0x07` (MBR) or the type GUID (GPT). */
  type: string;
  type_name: string;
  name: string | null;
  role: 'primary' | 'extended' | 'logical' | 'gpt' | 'whole';
  entry_offset: number | null;
  aligned_4k: boolean;
  filesystem: FsName | null;
  label: string | null;
  cluster_size: number | null;
  data_offset: number | null;
  /** A BitLocker volume's description. */
  bitlocker?: BitLockerSummary;
}

/** `vhd-viewer parts --json`, `WasmVolumes.partitions()`. */
export interface PartsTable {
  scheme: 'mbr' | 'gpt' | 'none';
  /** Bytes per sector, the unit of every sector number in the table: 512, or 4096 on a disk of 4096-byte logical sectors. */
  sector_size: number;
  disk_guid: string | null;
  partitions: Partition[];
  findings: Finding[];
  structures: { name: string; offset: number; fields: Field[] }[];
}

// ---- What system is on the disk (`vhd-viewer inspect --json`, `WasmVolumes.systems()`; src/inspect/mod.rs).

/** Where an answer was read: a file of the volume, and for the registry the key and value in it. */
export interface SystemSource {
  /** Absolute, with `/`: the file browser opens it. */
  path: string;
  key?: string;
  value?: string;
}

/** One user (Windows: `sid`; Linux: `uid` and `shell`). */
export interface SystemUser {
  name: string;
  sid?: string;
  uid?: number;
  home: string | null;
  shell?: string;
  source: SystemSource;
}

/** One installed program or package. */
export interface SystemProgram {
  name: string;
  version: string | null;
  publisher: string | null;
  install_date?: string;
  source: SystemSource;
}

/** A network interface's last addresses. */
export interface SystemInterface {
  name: string;
  addresses: string[];
  dhcp: boolean;
  source: SystemSource;
}

/** A mount of `/etc/fstab`, mapped to a partition of the disk where found. */
export interface SystemMount {
  spec: string;
  target: string;
  fstype: string;
  partition: number | null;
  /** How the partition was found: `uuid`, `label`, `partuuid`, `partlabel` or `device`. */
  by: string | null;
}

/** How the answers were read: a dirty or damaged hive, a file that could not be read. */
export interface SystemNote {
  severity: Severity;
  code: string;
  path: string;
  offset: number | null;
  message: string;
}

/** The operating system found on one volume. */
export interface System {
  partition: number;
  os: 'windows' | 'linux';
  product: string | null;
  edition: string | null;
  version: string | null;
  build: string | null;
  id: string | null;
  hostname: string | null;
  timezone: string | null;
  install_date: string | null;
  last_shutdown: string | null;
  registered_owner: string | null;
  users: SystemUser[];
  programs: SystemProgram[];
  interfaces: SystemInterface[];
  mounts: SystemMount[];
  /** Where each field above was read, by its name. */
  sources: Record<string, SystemSource>;
  notes: SystemNote[];
}

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

/** One line of `vhd-viewer ls --json`, an entry of `WasmVolumes.list()`. */
export interface FileEntry {
  partition: number;
  /** Absolute, with `/`. */
  path: string;
  type: EntryType;
  size: number;
  /** ISO 8601 UTC. */
  modified: string | null;
  deleted: boolean;
  /** NTFS record, ext inode, FAT first cluster. */
  id: number;
  /** In words: `hidden`, `system`, `compressed`, `sparse`, ... */
  attributes: string[];
  /** NTFS alternate data streams (absent when none), wherever their attributes are. */
  streams?: { name: string; size: number }[];
}

/** A stretch of a file on the virtual disk. */
export interface FileRun {
  file_offset: number;
  len: number;
  /** Virtual-disk byte offset; null for a hole (reads as zeros). */
  disk_offset: number | null;
  sparse: boolean;
}

/** A part of a file's runs and where the chain takes it from (layer 0 is the disk's top). */
export interface FileSupply {
  file_offset: number;
  len: number;
  /** `data` from `layer`; `zero`: no layer holds it; `missing`: `layer`'s parent is not given; `sparse`: a hole of the file. */
  kind: 'data' | 'zero' | 'missing' | 'sparse';
  layer: number | null;
}

/** `WasmVolumes.stat()`. */
export interface FileStat extends FileEntry {
  name: string;
  /** ISO 8601 UTC; null where the file system keeps none (FAT: no change time; ext2/3: no creation time). */
  times: { created: string | null; modified: string | null; accessed: string | null; changed: string | null };
  /** Where its directory entry (FAT) or MFT record (NTFS) is, on the virtual disk. */
  entry_disk_offset: number | null;
  storage: 'inline' | 'runs' | 'compressed' | null;
  compression_unit: number | null;
  runs: FileRun[];
  /** Which layer of the chain supplies each part of the runs, in file order. */
  supply: FileSupply[];
  /** True when there were more parts than `supply` lists (4096). */
  supply_truncated: boolean;
  /** NTFS alternate data streams. */
  streams: { name: string; size: number }[];
  data_error: string | null;
}

/** `vhd-viewer owner --json`, `WasmVolumes.owner()`. */
export interface DiskOwner {
  /** The sector holding the byte, in the disk's logical sectors (`sector_size` bytes each). */
  sector: number;
  sector_size: number;
  partition: number | null;
  /** The LVM2 logical volume (`VG/LV`) holding it, when one does (absent otherwise). */
  volume?: string;
  filesystem: FsName | null;
  kind: 'file' | 'dir' | 'structure' | 'free' | 'outside' | 'unknown';
  path: string | null;
  what: string;
  id: number | null;
  file_offset: number | null;
  deleted: boolean;
  source: 'data' | 'zero' | 'missing';
  layer: number | null;
  layer_file: string | null;
}

/**
 * A picture as `vhd-viewer draw DISK KIND [BLOCK] --layer LAYER --theme THEME --width WIDTH`
 * draws it (VhdDisk.picture): `chain`, `bat` (layer `layer`'s block map), `bitmap` (block
 * `block` of layer `layer`), `provenance` and `partitions` (the disk as of layer `layer`), or
 * `changes` (the Changes bar of `report`, a report `diff` gave).
 */
export interface PictureRequest {
  kind: 'chain' | 'bat' | 'bitmap' | 'provenance' | 'partitions' | 'changes';
  layer: number;
  block?: number | null;
  report?: DiffReport;
  theme: 'light' | 'dark';
  width: number;
}

/** A search's options (`vhd-viewer search`'s flags). */
export interface SearchOptions {
  /** The pattern is bytes in hexadecimal (`--hex`). */
  hex: boolean;
  /** A text found as UTF-16LE only (`--utf16`). */
  utf16: boolean;
  /** ASCII letters in either case (`--ignore-case`). */
  ignoreCase: boolean;
  /** The disk as of this layer of the chain (`--layer K`); 0: the whole chain. */
  layer: number;
  /** Only what this layer holds (`--only-layer K`, numbered in the whole chain); null: the whole disk. */
  onlyLayer: number | null;
}

/** One hit of a search: a line of `vhd-viewer search --json`. */
export interface SearchHit {
  /** On the virtual disk. */
  offset: number;
  length: number;
  encoding: 'utf-8' | 'utf-16le' | 'bytes';
  /** The layer that supplies its first byte (null: zeros no layer holds). */
  layer: number | null;
  partition: number | null;
  /** True when it lies in an unlocked BitLocker volume, found in its plain bytes (absent otherwise). */
  decrypted?: boolean;
  owner: {
    kind: 'file' | 'deleted file' | 'dir' | 'deleted dir' | 'structure' | 'free' | 'outside' | 'unknown';
    path: string | null;
    file_offset: number | null;
    id: number | null;
    what: string;
    filesystem: FsName | null;
  };
}

/** A search's progress: virtual disk bytes searched of the disk's size, and this step's hits. */
export interface SearchStep {
  done: number;
  total: number;
  /** Bytes of the layers' files read so far. */
  read: number;
  hits: SearchHit[];
}

/**
 * Every file's and directory's times (`vhd-viewer timeline --json`), as the core's columns
 * (WasmVolumes.timeline). Per body-file line (index i): `path[i]`, `inode[i]`, `partition[i]`,
 * `size[i]`, `deleted[i]` (1: deleted), `layer[i]` (-1: none), `attribute[i]` (0 none, 1 NTFS
 * `$STANDARD_INFORMATION`, 2 `$FILE_NAME`). Per row (index r, sorted by time): `line[r]`,
 * `kind[r]` (0 m, 1 a, 2 c, 3 b), `unix[r]` (seconds), `nanos[r]`.
 */
export interface TimelineColumns {
  path: string[];
  inode: string[];
  partition: Uint32Array;
  size: Float64Array;
  deleted: Uint8Array;
  layer: Int32Array;
  attribute: Uint8Array;
  line: Uint32Array;
  kind: Uint8Array;
  unix: Float64Array;
  nanos: Uint32Array;
}
