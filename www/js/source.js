// Byte sources: an AsyncBuffer-like `{ byteLength, slice(start, end) }` over a File or Blob that
// reads only the ranges asked for (Blob.slice, never the whole file), counts what it read, and a
// helper that reads a list of ranges with adjacent or overlapping ones merged into one read.

/**
 * @typedef {{ byteLength: number, name: string, blob?: Blob,
 *   slice(start: number, end: number, signal?: AbortSignal): Promise<Uint8Array>,
 *   stats: { reads: number, bytes: number } }} Source
 */

/** A source over a Blob or File. `onRead(start, end)` is told of every read. */
export function blobSource(blob, name = blob.name || 'disk', onRead = null) {
  const stats = { reads: 0, bytes: 0 };
  return {
    byteLength: blob.size,
    name,
    blob,
    stats,
    async slice(start, end, signal) {
      signal?.throwIfAborted();
      start = Math.max(0, Math.min(start, blob.size));
      end = Math.max(start, Math.min(end, blob.size));
      stats.reads++;
      stats.bytes += end - start;
      onRead?.(start, end);
      const buf = await blob.slice(start, end).arrayBuffer();
      signal?.throwIfAborted();
      return new Uint8Array(buf);
    },
  };
}

/** A source over bytes in memory (tests, and sample files already fetched). */
export function bytesSource(bytes, name = 'disk') {
  const stats = { reads: 0, bytes: 0 };
  return {
    byteLength: bytes.length,
    name,
    stats,
    async slice(start, end, signal) {
      signal?.throwIfAborted();
      end = Math.min(end, bytes.length);
      stats.reads++;
      stats.bytes += Math.max(0, end - start);
      return bytes.slice(start, Math.max(start, end));
    },
  };
}

/**
 * Merges ranges `{offset, len}` that touch or overlap (or lie at most `gap` bytes apart) into
 * spans sorted by offset. Each span lists the indices of the ranges it covers.
 */
export function mergeRanges(ranges, gap = 0) {
  const order = ranges.map((r, i) => i).sort((a, b) => ranges[a].offset - ranges[b].offset || ranges[a].len - ranges[b].len);
  const spans = [];
  for (const i of order) {
    const r = ranges[i];
    const last = spans[spans.length - 1];
    if (last && r.offset <= last.end + gap) {
      last.end = Math.max(last.end, r.offset + r.len);
      last.members.push(i);
    } else {
      spans.push({ start: r.offset, end: r.offset + r.len, members: [i] });
    }
  }
  return spans;
}

/**
 * Reads `ranges` from `source`, merged into as few reads as possible. Returns one Uint8Array per
 * range, in the order given (shorter than asked only at the end of the file).
 */
export async function readRanges(source, ranges, signal, gap = 0) {
  const out = new Array(ranges.length);
  for (const span of mergeRanges(ranges, gap)) {
    const bytes = await source.slice(span.start, span.end, signal);
    for (const i of span.members) {
      const from = ranges[i].offset - span.start;
      out[i] = bytes.subarray(Math.min(from, bytes.length), Math.min(from + ranges[i].len, bytes.length));
    }
  }
  return out;
}
