// The page's own types (the main thread's: its views and the DOM), for TypeScript's checker only;
// the data shapes it shares with the Worker and the npm package are in common/types.d.ts.

import type { FileEntry, FileStat, PartsTable, UnlockKind, VolumeRef } from '../common/types.js';

/**
 * What an element can be given as children (dom.js): nodes, text (numbers too) and nested lists of
 * them; `null`, `undefined` and `false` are left out.
 */
export type Child = Node | string | number | boolean | null | undefined | readonly Child[];

/** What the views read through. */
export interface ViewContext {
  disk: import('./api.js').VhdDisk;
  names: string[];
  signal: AbortSignal;
  parentMissing: boolean;
}

/** What the files view reads through (the Worker's WasmVolumes, made asynchronous). */
export interface FilesApi {
  partitions(): Promise<PartsTable>;
  list(partition: VolumeRef, path: string, deleted: boolean): Promise<FileEntry[]>;
  stat(partition: VolumeRef, path: string, deleted: boolean): Promise<FileStat>;
  read(partition: VolumeRef, path: string, stream: string | undefined, deleted: boolean, offset: number, len: number): Promise<Uint8Array>;
  /** Unlocks a BitLocker partition in the Worker; resolves to the table with it unlocked. */
  unlock(partition: number, kind: UnlockKind, secret: string | Uint8Array, signal: AbortSignal, onProgress: (done: number, total: number) => void): Promise<PartsTable>;
}

/** The files view's callbacks and options. */
export interface FilesOptions {
  /** Show virtual-disk bytes `[offset, offset + len)` on the page's maps and hex view. */
  onPlace?: (offset: number, len: number) => void;
  /** The reader moved to `path` of partition `partition`: a folder listed, or a file picked. */
  onMove?: (partition: VolumeRef, path: string) => void;
  /** The virtual disk's size in bytes, for drawing the strip to scale (else the partitions' end). */
  diskSize?: number;
  /** The chain's file names, layer 0 (the top of the disk read) first: the legend of a file's supply bar. */
  layerNames?: string[];
  /** Where the partitions' picture (the strip drawn to scale) goes, when not above their list: the page's first screen. */
  pictureRoot?: HTMLElement;
  /** A partition of the picture was chosen (the host shows the list it opens in). */
  onPicture?: () => void;
}

/** What `filesView()` returns. */
export interface FilesView {
  /** Settles when the partitions are drawn (and the first readable partition listed). */
  ready: Promise<void>;
  /** Opens partition `index` (or LVM2 logical volume `VG/LV`) at `path` (`/` by default). */
  open(index: VolumeRef, path?: string): Promise<void>;
  /** Stops a save in progress and empties the root. */
  destroy(): void;
}

declare global {
  interface Window {
    /** What the page has read and its state, for users' scripts and the tests (app.js). */
    vhdViewer?: { readStats: { reads: number; bytes: number }; state: object; loadFolder(files: { name: string; blob: Blob }[]): Promise<void> };
    /** The File System Access API's save dialog (Chromium only: not in TypeScript's DOM types). */
    showSaveFilePicker?(options?: {
      suggestedName?: string;
      types?: { description?: string; accept: Record<string, string[]> }[];
    }): Promise<FileSystemFileHandle>;
  }
}
