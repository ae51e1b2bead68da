// The Worker's own types (the core's bindings and the objects it holds), for TypeScript's checker
// only; the data shapes it shares with the page and the npm package are in common/types.d.ts.

import type { Identity, PublicFile, Source } from '../common/types.js';

/** The WebAssembly core's bindings, as loadWasm() gives them. */
export type Bindings = typeof import('../../pkg/vhd_viewer.js');

/** A file given (openFiles): what the main thread is told of it, and the live objects. */
export interface OpenedFile extends PublicFile {
  blob?: Blob;
  source: Source;
  /** Its index in the WasmFiles, when it was opened. */
  wi?: number;
}

/** A file of a chain: opened, so it has its identity and its index in the WasmFiles. */
export type ChainFile = OpenedFile & { identity: Identity; wi: number };

/** What openFiles() returns: the files given, sorted into chains. */
export interface Opened {
  wfiles: import('../../pkg/vhd_viewer.js').WasmFiles;
  files: OpenedFile[];
  /** Lists of indices into `files`, top first. */
  chains: number[][];
  /** The longest chain. */
  best: number;
}

declare global {
  /** A Worker's synchronous file reader (TypeScript's DOM types leave it out: it is not in windows). */
  class FileReaderSync {
    readAsArrayBuffer(blob: Blob): ArrayBuffer;
  }
}
