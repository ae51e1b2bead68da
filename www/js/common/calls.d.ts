// The calls between the page and the Worker, in one table, for TypeScript's checker only (`make
// lint`; nothing imports this file at run time). The main thread's side (page/engine.js: `call`,
// `job`; page/api.js: `ask`) and the Worker's (worker/worker.js: its handlers, `ask`) both take
// their argument and result types from here, so that a call and its handler cannot disagree.

import type {
  BlockTable,
  ChainView,
  CopyReport,
  CopyRequest,
  DiffReport,
  DiskOwner,
  Extent,
  FileEntry,
  VolumeRef,
  FileStat,
  Finding,
  Info,
  LayerStructures,
  OpenedSummary,
  PartsTable,
  PictureRequest,
  ResizePlan,
  SaveKind,
  Rebase,
  SearchOptions,
  SearchStep,
  SectorsView,
  Survey,
  System,
  TimelineColumns,
  Unreadable,
  UnlockKind,
  WorkerInput,
  Writable,
} from './types.js';

/** A long job's progress: `done` of `total` (bytes, blocks or squares: the job says which). */
export interface Steps {
  done: number;
  total: number;
}

/**
 * The main thread's calls to the Worker, by name: the arguments (`args`), the answer (`result`)
 * and, for a long job, what its progress messages carry (`progress`). `toFile`: the result is
 * written into the file the main thread saves into (the Worker's `write` and `truncate` asks);
 * else it comes back as a Blob.
 */
export interface Calls {
  /** Opens the inputs and sorts them into chains; one input's structures come first as progress. */
  open: { args: [inputs: WorkerInput[]]; result: OpenedSummary; progress: { structures: LayerStructures } };
  /** Surveys the inputs as one folder's files (`vhd-viewer chains --json`); progress: files reached. */
  survey: { args: [inputs: WorkerInput[]]; result: Survey; progress: Steps };
  chain: { args: [k: number]; result: ChainView };
  layerInfo: { args: [i: number]; result: Info };
  bat: { args: [layer: number]; result: BlockTable };
  read: { args: [offset: number, len: number]; result: { bytes: Uint8Array; extents: (Extent & { why?: Unreadable | null })[] } };
  fileBytes: { args: [layer: number, start: number, end: number]; result: Uint8Array };
  sectors: { args: [what: { layer: number | null; block: number | null; start: number; len: number }]; result: SectorsView };
  estimate: { args: [cellSize: number]; result: { masks: Uint32Array; needed: number } };
  scan: { args: [cellSize: number]; result: Uint32Array; progress: Steps & { masks?: Uint32Array } };
  scanStopped: { args: [cellSize: number]; result: Uint32Array };
  check: { args: []; result: Finding[]; progress: Steps };
  raw: { args: [toFile: boolean]; result: { size: number; blob?: Blob }; progress: Steps };
  vhd: { args: [kind: SaveKind, layer: number, toFile: boolean, blockSize: number, sectorSize: number]; result: { size: number; blocks: number; blob?: Blob }; progress: Steps };
  copy: { args: [req: CopyRequest, toFile: boolean]; result: CopyReport & { blob?: Blob }; progress: Steps };
  resizePlan: { args: [layer: number, size: number, gptFix: boolean]; result: ResizePlan };
  partitions: { args: [k: number]; result: PartsTable };
  systems: { args: [k: number]; result: System[] };
  list: { args: [k: number, partition: VolumeRef, path: string, deleted: boolean]; result: FileEntry[] };
  stat: { args: [k: number, partition: VolumeRef, path: string, deleted: boolean]; result: FileStat };
  readPath: { args: [k: number, partition: VolumeRef, path: string, stream: string | undefined, deleted: boolean, offset: number, len: number]; result: Uint8Array };
  owner: { args: [k: number, offset: number]; result: DiskOwner };
  /** A BitLocker partition unlocked in the Worker (the secret never comes back); progress: key stretch rounds. */
  unlock: { args: [k: number, partition: number, kind: UnlockKind, secret: string | Uint8Array]; result: PartsTable; progress: Steps };
  /** The keys of the BitLocker volumes unlocked in this session, posted on `port` to a job's Worker (the answer names none). */
  handKeys: { args: [port: MessagePort]; result: null };
  /** A job's session: the keys `handKeys` posts on `port`, kept for its diff or report. */
  takeKeys: { args: [port: MessagePort]; result: null };
  /** `vhd-viewer search` a step at a time: each step's hits come as progress; the answer is the bytes read. */
  search: { args: [pattern: string, options: SearchOptions]; result: { searched: number; read: number }; progress: SearchStep };
  diff: { args: [from: number, to: number]; result: DiffReport; progress: Steps };
  diffWith: { args: [other: number, to: number]; result: DiffReport; progress: Steps };
  rebaseCheck: { args: [onto: number]; result: Rebase; progress: Steps };
  /** `vhd-viewer timeline --json` as of layer k, as columns; progress: lines read. */
  timeline: { args: [k: number, deleted: boolean]; result: TimelineColumns; progress: Steps };
  /** The bytes `timeline --bodyfile` (`body`) or `--csv` (`csv`) writes, as of layer k. */
  timelineText: { args: [k: number, deleted: boolean, format: 'body' | 'csv']; result: string; progress: Steps };
  /** `vhd-viewer report`: the HTML file; progress in thousandths. */
  report: { args: []; result: string; progress: Steps };
  /** A picture as SVG, the bytes `vhd-viewer draw` writes (progress: the provenance map's bytes). */
  draw: { args: [what: PictureRequest]; result: string; progress: Steps };
  /** Where a diff report's held bytes went, as the core's Changes bar sums them. */
  destinations: { args: [report: DiffReport]; result: [label: string, bytes: number][] };
}

export type Method = keyof Calls;
export type Args<M extends Method> = Calls[M]['args'];
export type Result<M extends Method> = Calls[M]['result'];
/** What a call's progress messages carry (never, for a call that sends none). */
export type Progress<M extends Method> = Calls[M] extends { progress: infer P } ? P : never;

/** The Worker's asks of the main thread, by name: a read of a source kept there, a write to the file being saved. */
export interface Asks {
  read: { args: [input: number, start: number, end: number]; result: Uint8Array };
  truncate: { args: [size: number]; result: unknown };
  /** Answers the buffer back when the writable copied it (`Writable.copies`), to be filled again. */
  write: { args: [w: Parameters<Writable['write']>[0]]; result: Uint8Array<ArrayBuffer> | undefined };
}
export type AskName = keyof Asks;

/** An error as it crosses between the threads. */
export interface WireError {
  message: string;
  name?: string;
  code: string | null;
  offset?: number | null;
  status?: number;
  url?: string;
}

/** What the Worker has read, per input: `{ reads, bytes }`, and for a URL its requests and bytes transferred. */
export type Stats = { reads: number; bytes: number; requests?: number; transferred?: number }[];

/** A call as the main thread posts it. */
export type CallMessage = { [M in Method]: { id: number; sid: number; method: M; args: Args<M> } }[Method];
/** An ask as the Worker posts it (`id`: the call it is for; 0 for a read). */
export type AskMessage = { [A in AskName]: { ask: number; sid: number; id: number; what: A; args: Asks[A]['args'] } }[AskName];

/** What the main thread posts to the Worker. */
export type ToWorker =
  | { init: WebAssembly.Module; warm?: boolean }
  | CallMessage
  | { abort: number; sid: number }
  | { close: number }
  | { rid: number; sid: number; result: Asks[AskName]['result'] }
  | { rid: number; sid: number; error: WireError };

/** What the Worker posts to the main thread. */
export type FromWorker =
  | { warm: true }
  | AskMessage
  | { id: number; sid: number; result: Result<Method>; stats: Stats }
  | { id: number; sid: number; error: WireError; stats: Stats }
  | { id: number; sid: number; progress: Progress<Method>; stats: Stats };

/**
 * The Worker's handler of each call but `open` and `survey` (which make the session): `s` the session, `c`
 * what the call may use (its signal, its progress, the file being saved).
 */
export type Handlers<S, C> = {
  [M in Exclude<Method, 'open' | 'survey'>]: (s: S, args: Args<M>, c: C & { progress: (p: Progress<M>) => void }) => Result<M> | Promise<Result<M>>;
};
