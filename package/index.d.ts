// Types of the vhd-viewer package: the <vhd-viewer> element and the JavaScript API. The data
// shapes (what the disk's methods answer: its info, findings, partitions, files, diffs, ...) are
// the page's own, declared once in www/js/common/types.d.ts and shipped as js/common/types.d.ts:
// they are re-exported here, not repeated.

import type {
  BlockTable,
  ByteRange,
  ChainLink,
  CopyReport,
  CopyRequest,
  Compacted,
  TrimVolume,
  DiffReport,
  DiskLayer,
  DiskOwner,
  DiskType,
  Extent,
  FileEntry,
  FileStat,
  Finding,
  FitReport,
  FitRule,
  Info,
  LayerStructures,
  MissingParent,
  PartsTable,
  System,
  PictureRequest,
  PublicFile,
  Rebase,
  RemoteErrorCode,
  ResizePlan,
  Resized,
  SectorsView,
  Source,
  Survey,
  SurveyNode,
  Unreadable,
  Writable,
} from './js/common/types.js';

export type {
  BlockTable,
  ByteRange,
  ChainLink,
  CopyReport,
  CopyRequest,
  Compacted,
  TrimVolume,
  DiffReport,
  DiskLayer,
  DiskOwner,
  DiskType,
  Extent,
  FileEntry,
  FileStat,
  Finding,
  FitReport,
  FitRule,
  LayerStructures,
  MissingParent,
  PartsTable,
  System,
  PictureRequest,
  Rebase,
  RemoteErrorCode,
  ResizePlan,
  Resized,
  SectorsView,
  Source,
  Survey,
  SurveyNode,
  Unreadable,
  Writable,
};
/** The same object as `vhd-viewer info --json`. */
export type DiskInfo = Info;
/** A file given: what it is, or why it is not a readable disk. */
export type OpenedFile = PublicFile;

/** A file on a web server, read with HTTP Range requests. */
export interface RemoteSource extends Source {
  readonly url: string;
  readonly stats: { reads: number; bytes: number; requests: number; transferred: number };
}

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
  /** One input given: its structures as soon as they are read, before its block table is. */
  onStructures?(info: LayerStructures): void;
}

/** A long task's options: `signal` stops it, `onProgress` hears how far it got. */
export interface TaskOptions {
  signal?: AbortSignal;
  onProgress?(done: number, total: number): void;
}

/**
 * An opened virtual disk: the top file and the parents found among the files given. The core runs
 * in a Worker (one per page, started with the first disk or element): every method asks it and
 * returns a promise; the properties are what it answered when the chain was selected.
 */
export class VhdDisk {
  /** The same object as `vhd-viewer info --json`. */
  readonly info: DiskInfo;
  /** The chain's file names, top first. */
  readonly names: string[];
  /** The chain's files, read through the Worker; `stats` are the Worker's figures for each. */
  readonly sources: Source[];
  /** Every file given, including those that are not disks. */
  readonly files: OpenedFile[];
  /** The chains the files make: indices into `files`, top first. */
  readonly chains: number[][];
  readonly chainCount: number;
  /** The chain of the files given that was opened first (the longest). */
  readonly best: number;
  readonly chainIndex: number;
  /** What the last file's parent is called when it was not given, else null. */
  readonly missingParent: MissingParent | null;
  /** Whether Azure takes the disk, rule by rule: the same object as `vhd-viewer check --for azure --json`. */
  readonly fit: FitReport | null;
  /** The virtual disk's size in bytes. */
  readonly size: number;
  /** Its logical sector size in bytes: 512, or 4096 for a disk that has them. */
  readonly sectorSize: number;
  /** The span of the virtual disk planned at once (a block, or 2 MiB for a fixed disk). */
  readonly chunkSize: number;
  readonly layers: DiskLayer[];
  readonly layerCount: number;
  /** Each file's own info (the chain from it down). */
  readonly layerInfos: DiskInfo[];
  /** What has been read from each file given, in the order given. */
  readonly stats: { reads: number; bytes: number; requests?: number; transferred?: number }[];
  selectChain(k: number, options?: { signal?: AbortSignal }): Promise<void>;
  /** Layer `i`'s own info (the chain from it down). */
  layerInfo(i: number): Promise<DiskInfo>;
  /** Virtual bytes [offset, offset + length), read through the chain. */
  read(offset: number, length: number, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
  /** The same, with where each part comes from (a `missing` part says why it cannot be read). */
  readWithExtents(offset: number, length: number, options?: { signal?: AbortSignal }): Promise<{ bytes: Uint8Array; extents: (Extent & { why?: Unreadable | null })[] }>;
  /** Bytes [start, end) of layer `layer`'s file. */
  readFile(layer: number, start: number, end: number, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
  /** Layer `layer`'s block table (0xFFFFFFFF: not allocated) and which blocks are stored out of order. */
  bat(layer: number): Promise<BlockTable>;
  /** Which layer each sector of [start, start + len) is read from (255 zeros, 254 missing); a block's sector bitmap with layer and block. */
  sectors(what: { layer?: number | null; block?: number | null; start: number; len: number }, options?: { signal?: AbortSignal }): Promise<SectorsView>;
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
  /**
   * A new standalone VHD or VHDX (`vhdx`, `vhdx-fixed`) of the disk as of layer `layer` (0: the whole chain);
   * `azure`: a fixed VHD Azure takes, its size rounded up to a whole MiB (at least 20 MiB), zeros added at the end
   * (`vhd-viewer convert --for azure`; the layer's `azureSize`).
   * `blockSize`: bytes per block, a power of two (a dynamic VHD's 512 bytes to 256 MiB, 2 MiB if not
   * given; a VHDX's 1 to 256 MiB, 32 MiB if not given); `sectorSize`: a VHDX's logical sector size,
   * 512 or 4096 (the disk's own if not given), as `vhd-viewer convert --block-size --sector-size`.
   */
  saveVhd(kind: 'dynamic' | 'fixed' | 'vhdx' | 'vhdx-fixed' | 'azure', layer: number, writable: Writable | null, options?: TaskOptions & { blockSize?: number; sectorSize?: number }): Promise<{ size: number; blocks: number; blob?: Blob }>;
  /**
   * A copy of file `layer` of the chain (0, the default: the file opened) made by the core's writers, as the command line makes
   * it: `compact` (`vhd-viewer compact`; with `trim`, `vhd-viewer compact --trim`: what the file systems mark free is not
   * kept either, and `volumes` says of each whether it was), `repair` (`vhd-viewer repair [--scrub]`), `relink` (`vhd-viewer relink`: the parent,
   * the next layer, at `relative` to the copy's folder, e.g. `.\\base.vhd`, and `absolute` if given), `resize` (`vhd-viewer
   * resize --size SIZE [--no-gpt-fix]`: the virtual size `size` bytes, a GPT's backup moved to the new end unless `gptFix` is
   * false; see `resizePlan`). Into `writable`, or as a
   * Blob without one (refused past 512 MiB: it is held in memory). The copy has the file's format (VHD or VHDX).
   */
  saveCopy(req: CopyRequest, writable: Writable | null, options?: TaskOptions): Promise<CopyReport & { blob?: Blob }>;
  /**
   * What `saveCopy({ op: 'resize', layer, size, gptFix })` would do, worked out without writing anything; rejects with the
   * core's refusal when the file cannot be resized so (a shrink past a partition or a file system names it and where it ends).
   */
  resizePlan(layer: number, size: number, gptFix?: boolean): Promise<ResizePlan>;
  /** The partition table and each partition's file system (`vhd-viewer parts --json`), as of layer `layer` (0: the whole chain). */
  partitions(options?: { layer?: number }): Promise<PartsTable>;
  /**
   * The operating system on each volume that holds one (`vhd-viewer inspect --json`'s `systems`), as of layer `layer`:
   * Windows from its registry hives, Linux from `/etc` and dpkg's status; each answer with the file (and key, value) it came from.
   */
  systems(options?: { layer?: number }): Promise<System[]>;
  /** A folder's entries (`vhd-viewer ls PATH --partition N --json`). */
  list(partition: number, path: string, options?: { deleted?: boolean; layer?: number }): Promise<FileEntry[]>;
  /** One file or folder: its entry, times, streams, runs on the virtual disk and which layer holds each part. */
  stat(partition: number, path: string, options?: { deleted?: boolean; layer?: number }): Promise<FileStat>;
  /** Bytes of a file (`vhd-viewer get`): at most `length` (64 MiB at most) from `offset`. */
  readPath(partition: number, path: string, options?: { offset?: number; length?: number; stream?: string; deleted?: boolean; layer?: number; signal?: AbortSignal }): Promise<Uint8Array>;
  /** What owns virtual byte `offset` (`vhd-viewer owner --json`). */
  owner(offset: number, options?: { layer?: number }): Promise<DiskOwner>;
  /**
   * What a differencing disk changed, file by file (`vhd-viewer diff --from FROM --to TO --json`); with `other`, the index of
   * another chain of the files given (`chains`), that disk against this one as of layer `to` (`vhd-viewer diff OLD NEW --json`:
   * every allocated sector of both is read). Runs in a Worker of its own.
   */
  diff(options?: { from?: number; to?: number; other?: number } & TaskOptions): Promise<DiffReport>;
  /**
   * Whether this child (its parent the old base) can move onto chain `onto` of the files given, a new base (`vhd-viewer
   * rebase-check --json`): the files changed by the child only, by the new base only, and by both. Runs in a Worker of its own.
   */
  rebaseCheck(options: { onto: number } & TaskOptions): Promise<Rebase>;
  /**
   * The report (`vhd-viewer report`): one self-contained static HTML file, readable without scripts and printable, with
   * each file's SHA-256 (every byte is read), the summary, the findings, the pictures, the partitions, what a child changed
   * and every structure's fields. Runs in a Worker of its own; progress in thousandths.
   */
  report(options?: TaskOptions): Promise<string>;
  /**
   * A picture of the disk as SVG, the bytes `vhd-viewer draw` writes for the same files: `chain`, `bat` (layer `layer`'s
   * block map), `bitmap` (block `block` of layer `layer`), `provenance` and `partitions` (as of layer `layer`), or `changes`
   * (the Changes bar of a `report` from `diff`). The provenance map reads every block's bitmap, in a Worker of its own.
   */
  picture(what: PictureRequest, options?: TaskOptions): Promise<string>;
  /** Where the bytes a `diff` report's newer layers hold went: five `[label, bytes]` (files, file-system structures, free space, outside the partitions, elsewhere). */
  destinations(report: DiffReport): Promise<[string, number][]>;
  /** Ends its session in the Worker and frees the memory. */
  close(): void;
}

/** Opens a disk and its parents (in any order: they are matched by the ids inside them). */
export function openVhd(inputs: DiskInput | DiskInput[], options?: OpenOptions): Promise<VhdDisk>;
/**
 * Sorts a folder's files into trees of disks by unique id, with orphans, moved and modified parents, copies and files that
 * are not disks (the same object as `vhd-viewer chains --json`), reading only each file's identifying structures. Each
 * name is the file's path under the folder (`/` between folders). Runs in a Worker of its own (`alone: false`: the
 * page's Worker, for a few files); `stats` is what was read of each file.
 */
export function surveyFolder(
  files: { name: string; blob: Blob }[],
  options?: TaskOptions & { wasm?: WasmInput; alone?: boolean },
): Promise<{ survey: Survey; stats: { reads: number; bytes: number }[] }>;
export function toSource(input: DiskInput, options?: { signal?: AbortSignal; fetch?: typeof globalThis.fetch; name?: string }): Promise<Source>;
/** Instantiates the WebAssembly core on this thread once (the first call's argument wins). */
export function loadWasm(wasm?: WasmInput): Promise<unknown>;
/** Starts the Worker the core runs in (done by the first disk or element; call it early to fetch its modules with the page). */
export function startWorker(wasm?: WasmInput): Promise<unknown>;

export type VhdViewerView = 'summary' | 'files' | 'changes' | 'timeline' | 'footer' | 'chain' | 'bat' | 'bitmap' | 'hex' | 'search' | 'findings' | 'save';
export const VIEWS: [VhdViewerView, string][];

export interface VhdLoadEventDetail {
  info: DiskInfo;
  names: string[];
}
/** Where the reader is: the element's attributes of the same names, and the page's URL fragment's keys. */
export interface VhdNavigateEventDetail {
  view?: VhdViewerView;
  /** The file of the chain whose block is shown (0: the file opened). */
  layer?: number;
  /** The block shown up close: of `layer`, or without it the provenance map's square at that multiple of the block size. */
  block?: number;
  /** The virtual sector the hex tab shows, in the disk's logical sectors. */
  sector?: number;
  /** The partition of the files tab, and the folder or file shown in it. */
  partition?: number;
  path?: string;
  /** The changes tab's path filter. */
  changes?: string;
}
export interface VhdErrorEventDetail {
  error: Error;
  /** A RemoteError's code, or the core's (e.g. `no-footer`, `other-format`, `block-size`, `chain-loop`). */
  code: RemoteErrorCode | string | null;
  message: string;
}

/**
 * <vhd-viewer src="disk.vhd" parent="parent.vhd grandparent.vhd" view="bat" views="footer bat hex" sector="63">
 * Also `layer`, `block`, `partition`, `path`, `changes` (VhdNavigateEventDetail), reflected as the reader moves.
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
  /** The reader moved (or the place's attributes were set): its attributes are set to the place shown. */
  'vhd-navigate': CustomEvent<VhdNavigateEventDetail>;
}

declare global {
  interface HTMLElementTagNameMap {
    'vhd-viewer': VhdViewerElement;
  }
}
