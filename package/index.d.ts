// Types of the vhd-viewer package: the <vhd-viewer> element and the JavaScript API.

/** Bytes of a file, read piece by piece (an AsyncBuffer, as hyparquet calls it). */
export interface Source {
  readonly byteLength: number;
  readonly name: string;
  /** Bytes [start, end), shorter only at the end of the file. */
  slice(start: number, end: number, signal?: AbortSignal): Promise<Uint8Array>;
  readonly stats: { reads: number; bytes: number };
}

/** A file on a web server, read with HTTP Range requests. */
export interface RemoteSource extends Source {
  readonly url: string;
  readonly stats: { reads: number; bytes: number; requests: number; transferred: number };
}

/** Why a remote file cannot be read. */
export type RemoteErrorCode = 'not-found' | 'http' | 'network' | 'no-range' | 'no-content-range' | 'changed' | 'bad-answer';

export class RemoteError extends Error {
  readonly name: 'RemoteError';
  readonly code: RemoteErrorCode;
  readonly status?: number;
  readonly url?: string;
}

export interface UrlSourceOptions {
  /** Default: the last part of the URL's path. */
  name?: string;
  fetch?: typeof globalThis.fetch;
  /** Added to every request (e.g. Authorization). */
  headers?: HeadersInit;
  signal?: AbortSignal;
  onRequest?(request: { start: number; end: number; status: number; bytes: number }): void;
}

/** A remote file: one request learns its size; then only the bytes asked for travel. */
export function urlSource(url: string | URL, options?: UrlSourceOptions): Promise<RemoteSource>;
export function blobSource(blob: Blob, name?: string, onRead?: (start: number, end: number) => void): Source & { readonly blob: Blob };
export function bytesSource(bytes: Uint8Array, name?: string): Source;

export interface ByteRange {
  offset: number;
  len: number;
}
/** Ranges that touch or overlap (or lie at most `gap` bytes apart) merged, sorted by offset. */
export function mergeRanges(ranges: ByteRange[], gap?: number): { start: number; end: number; members: number[] }[];
/** Reads `ranges` in as few reads (requests) as possible; one Uint8Array per range, in order. */
export function readRanges(source: Source, ranges: ByteRange[], signal?: AbortSignal, gap?: number): Promise<Uint8Array[]>;

/** What a disk can be opened from: a URL, a File or Blob, or anything with byteLength and slice(). */
export type DiskInput =
  | string
  | URL
  | Blob
  | Source
  | { byteLength: number; name?: string; slice(start: number, end: number): Promise<Uint8Array | ArrayBuffer> | Uint8Array | ArrayBuffer };

/** The .wasm, when it is not to be fetched from beside the modules. */
export type WasmInput = BufferSource | WebAssembly.Module | Response | URL | string;

export interface OpenOptions {
  signal?: AbortSignal;
  /** A URL read with a custom fetch is read on the main thread for the Worker. */
  fetch?: typeof globalThis.fetch;
  wasm?: WasmInput;
  /** Resolve even when no file given is a VHD; then no chain is selected yet. */
  all?: boolean;
}

export interface Finding {
  severity: 'error' | 'warning' | 'info';
  code: string;
  message: string;
  layer: number;
  offset: number | null;
}

export interface ChainLink {
  file: string;
  disk_type: DiskType;
  creator_application: string;
  current_size: number;
  unique_id: string;
  parent_unique_id: string | null;
  parent_verified: boolean | null;
  allocated_blocks: number;
}

/**
 * A layer's block table, whatever the format and the disk's size: `states[i]` is block i's
 * state code (a VHD's 0 not allocated or 6 in the file; a VHDX's payload block states 0 not
 * present, 1 undefined, 2 zero, 3 unmapped, 6 fully and 7 partially present), `offsets[i] * unit`
 * where it is in the file, `ooo[i]` 1 when stored before a block with a lower index (empty for a
 * VHDX); blocks past `states` are not present. `legend`: the states present, as [code, name, count].
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

export type DiskType = 'fixed' | 'dynamic' | 'differencing';

/** The same object as `vhd-viewer info --json` (the main keys; every field is there). */
export interface DiskInfo {
  file: string;
  file_size: number;
  disk_type: DiskType;
  current_size: number;
  unique_id: string;
  checksum_valid: boolean;
  parent_missing: boolean;
  all_findings: Finding[];
  chain?: ChainLink[];
  fields: { key: string; name: string; offset: number; size: number; raw: string; value: unknown; ok: boolean; explain: string }[];
  [key: string]: unknown;
}

/** Where virtual bytes come from: a file of the chain, zeros, or a parent that was not given. */
export interface Extent {
  offset: number;
  len: number;
  kind: 'data' | 'zero' | 'missing';
  layer: number | null;
  fileOffset: number | null;
}

export interface OpenedFile {
  name: string;
  size: number;
  /** Why the file is not a readable VHD. */
  error?: string;
  /** Index of the earlier file with the same unique id. */
  duplicateOf?: number;
  identity?: { diskType: DiskType; uniqueId: string; size: number; parentUniqueId: string | null; parentUnicodeName: string | null; parentCandidates: string[] };
}

/** One file of the chain shown. */
export interface DiskLayer {
  name: string;
  byteLength: number;
  diskType: DiskType;
  /** 0 for a fixed disk. */
  blockSize: number;
  bitmapSize: number;
}

export interface TaskOptions {
  signal?: AbortSignal;
  onProgress?(done: number, total: number): void;
}

/**
 * A file being saved into: a FileSystemWritableFileStream, or anything with these two methods.
 * Each write's `data` is the writable's to keep, unless it says `copies: true` (it is done with
 * the bytes once the write's promise settles, as a FileSystemWritableFileStream is): then the
 * buffer is taken back and filled again for a later write, which saves making a new one.
 */
export interface Writable {
  truncate(size: number): Promise<unknown>;
  write(w: { type: 'write'; position: number; data: Uint8Array }): Promise<unknown>;
  copies?: boolean;
}

/**
 * An opened virtual disk: the top file and the parents found among the files given. The core runs
 * in a Worker (one per page, started with the first disk or element): every method asks it and
 * returns a promise; the properties are what it answered when the chain was selected.
 */
export class VhdDisk {
  readonly info: DiskInfo;
  /** The chain's file names, top first. */
  readonly names: string[];
  /** The chain's files, read through the Worker; `stats` are the Worker's figures for each. */
  readonly sources: Source[];
  /** Every file given, including those that are not VHDs. */
  readonly files: OpenedFile[];
  /** The chains the files make: indices into `files`, top first. */
  readonly chains: number[][];
  readonly chainCount: number;
  readonly chainIndex: number;
  /** What the last file's parent is called when it was not given, else null. */
  readonly missingParent: { names: string[]; paths: string[]; id: string } | null;
  /** The virtual disk's size in bytes. */
  readonly size: number;
  readonly layers: DiskLayer[];
  readonly layerCount: number;
  /** What has been read from each file given, in the order given. */
  readonly stats: { reads: number; bytes: number; requests?: number; transferred?: number }[];
  selectChain(k: number, options?: { signal?: AbortSignal }): Promise<void>;
  /** Layer `i`'s own info (the chain from it down). */
  layerInfo(i: number): Promise<DiskInfo>;
  /** Virtual bytes [offset, offset + length), read through the chain. */
  read(offset: number, length: number, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
  readWithExtents(offset: number, length: number, options?: { signal?: AbortSignal }): Promise<{ bytes: Uint8Array; extents: Extent[] }>;
  /** Bytes [start, end) of layer `layer`'s file. */
  readFile(layer: number, start: number, end: number, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
  /** Layer `layer`'s block table (0xFFFFFFFF: not allocated) and which blocks are stored out of order. */
  bat(layer: number): Promise<BlockTable>;
  /** Which layer each sector of [start, start + len) is read from (255 zeros, 254 missing); a block's sector bitmap with layer and block. */
  sectors(what: { layer?: number | null; block?: number | null; start: number; len: number }, options?: { signal?: AbortSignal }): Promise<{ range: { offset: number; len: number } | null; bitmap: Uint8Array | null; sources: Uint8Array }>;
  /** The provenance map from the block tables: one mask per cell (bit k: layer k may supply part of it). */
  estimate(cellSize: number): Promise<{ masks: Uint32Array; needed: number }>;
  /** The exact provenance map: every block bitmap read. */
  scan(cellSize: number, options?: { signal?: AbortSignal; onProgress?(done: number, total: number, masks?: Uint32Array): void }): Promise<Uint32Array>;
  /** After a stopped scan, the masks as far as it got. */
  scanStopped(cellSize: number): Promise<Uint32Array>;
  /** The deep check `vhd-viewer check` runs: the findings it adds. */
  check(options?: TaskOptions): Promise<Finding[]>;
  /** The flattened raw image into `writable`, or as a Blob (of slices of the files) without one. */
  saveRaw(writable: Writable | null, options?: TaskOptions): Promise<{ size: number; blob?: Blob }>;
  /** A new standalone VHD of the disk as of layer `layer` (0: the whole chain). */
  saveVhd(kind: 'dynamic' | 'fixed', layer: number, writable: Writable | null, options?: TaskOptions): Promise<{ size: number; blocks: number; blob?: Blob }>;
  /**
   * A copy of file `layer` of the chain (0, the default: the file opened) made by the core's writers, as the command line makes
   * it: `compact` (`vhd-viewer compact`), `repair` (`vhd-viewer repair [--scrub]`), `relink` (`vhd-viewer relink`: the parent,
   * the next layer, at `relative` to the copy's folder, e.g. `.\\base.vhd`, and `absolute` if given). Into `writable`, or as a
   * Blob without one (refused past 512 MiB: it is held in memory).
   */
  saveCopy(
    req: { op: 'compact'; layer?: number } | { op: 'repair'; layer?: number; scrub?: boolean } | { op: 'relink'; layer?: number; relative: string; absolute?: string },
    writable: Writable | null,
    options?: TaskOptions,
  ): Promise<{
    /** What the command line's report says: blocks before and after (compact), every fix with its offset (repair), blocks copied (relink). */
    report: { file_len: number; [key: string]: unknown };
    warnings: string[];
    file_len: number;
    blob?: Blob;
  }>;
  /** The partition table and each partition's file system (`vhd-viewer parts --json`), as of layer `layer` (0: the whole chain). */
  partitions(options?: { layer?: number }): Promise<{ scheme: string; partitions: { index: number; start: number; length: number; filesystem: string | null; [key: string]: unknown }[]; findings: Finding[]; [key: string]: unknown }>;
  /** A folder's entries (`vhd-viewer ls PATH --partition N --json`). */
  list(partition: number, path: string, options?: { deleted?: boolean; layer?: number }): Promise<{ partition: number; path: string; type: string; size: number; modified: string | null; deleted: boolean; id: number; attributes: string[] }[]>;
  /** One file or folder: its entry, times, streams, runs on the virtual disk and which layer holds each part. */
  stat(partition: number, path: string, options?: { deleted?: boolean; layer?: number }): Promise<Record<string, unknown>>;
  /** Bytes of a file (`vhd-viewer get`): at most `length` (64 MiB at most) from `offset`. */
  readPath(partition: number, path: string, options?: { offset?: number; length?: number; stream?: string; deleted?: boolean; layer?: number; signal?: AbortSignal }): Promise<Uint8Array>;
  /** What owns virtual byte `offset` (`vhd-viewer owner --json`). */
  owner(offset: number, options?: { layer?: number }): Promise<Record<string, unknown>>;
  /**
   * What a differencing disk changed, file by file (`vhd-viewer diff --from FROM --to TO --json`); with `other`, the index of
   * another chain of the files given (`chains`), that disk against this one as of layer `to` (`vhd-viewer diff OLD NEW --json`:
   * every allocated sector of both is read). Runs in a Worker of its own.
   */
  diff(options?: { from?: number; to?: number; other?: number } & TaskOptions): Promise<{ mode: 'chain' | 'unrelated'; held_bytes: number; identical_bytes: number; outside_partitions_bytes: number; bytes_read: number; partitions: { index: number; filesystem: string | null; changes: { path: string; type: string; kind: string; old_path: string | null; content_changed: boolean; size: number; old_size: number; bytes_held: number; identical_bytes: number; noise: string | null }[]; filesystem_metadata: { name: string; bytes_held: number }[]; held: { files: number; filesystem_metadata: number; free_space: number } }[] }>;
  /**
   * Whether this child (its parent the old base) can move onto chain `onto` of the files given, a new base (`vhd-viewer
   * rebase-check --json`): the files changed by the child only, by the new base only, and by both. Runs in a Worker of its own.
   */
  rebaseCheck(options: { onto: number } & TaskOptions): Promise<Record<'child_only' | 'base_only' | 'conflicts', { partition: number; path: string; child: string | null; base: string | null; noise: string | null }[]>>;
  /** Ends its session in the Worker and frees the memory. */
  close(): void;
}

/** Opens a disk and its parents (in any order: they are matched by the ids inside them). */
export function openVhd(inputs: DiskInput | DiskInput[], options?: OpenOptions): Promise<VhdDisk>;
export function toSource(input: DiskInput, options?: { signal?: AbortSignal; fetch?: typeof globalThis.fetch; name?: string }): Promise<Source>;
/** Instantiates the WebAssembly core on this thread once (the first call's argument wins). */
export function loadWasm(wasm?: WasmInput): Promise<unknown>;
/** Starts the Worker the core runs in (done by the first disk or element; call it early to fetch its modules with the page). */
export function startWorker(wasm?: WasmInput): Promise<unknown>;

export type VhdViewerView = 'summary' | 'files' | 'changes' | 'footer' | 'chain' | 'bat' | 'bitmap' | 'hex' | 'findings';
export const VIEWS: [VhdViewerView, string][];

export interface VhdLoadEventDetail {
  info: DiskInfo;
  names: string[];
}
export interface VhdErrorEventDetail {
  error: Error;
  /** A RemoteError's code, or the core's (e.g. `no-footer`, `other-format`, `block-size`, `chain-loop`). */
  code: RemoteErrorCode | string | null;
  message: string;
}

/**
 * <vhd-viewer src="disk.vhd" parent="parent.vhd grandparent.vhd" view="bat" views="footer bat hex" sector="63">
 * Without src it takes dropped or picked files. Theme it with --vhd-* custom properties.
 */
export class VhdViewerElement extends HTMLElement {
  /** Registers the element (default name vhd-viewer); returns the class registered. */
  static define(tag?: string, registry?: CustomElementRegistry): typeof VhdViewerElement;
  static readonly observedAttributes: string[];
  /** The disk's URL (the `src` attribute). */
  src: string;
  /** The parents' URLs separated by spaces (the `parent` attribute). */
  parent: string;
  /** The tab shown. */
  view: VhdViewerView;
  /** The opened disk, or null. */
  readonly disk: VhdDisk | null;
  readonly state: 'idle' | 'loading' | 'ready' | 'error';
  /** Opens files, Blobs or URLs instead of src. */
  open(inputs: DiskInput | DiskInput[]): Promise<void>;
  addEventListener<K extends keyof VhdViewerEventMap>(type: K, listener: (this: VhdViewerElement, ev: VhdViewerEventMap[K]) => unknown, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
}

export interface VhdViewerEventMap extends HTMLElementEventMap {
  'vhd-load': CustomEvent<VhdLoadEventDetail>;
  'vhd-error': CustomEvent<VhdErrorEventDetail>;
}

declare global {
  interface HTMLElementTagNameMap {
    'vhd-viewer': VhdViewerElement;
  }
}
