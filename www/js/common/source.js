// Byte sources: an AsyncBuffer-like `{ byteLength, slice(start, end) }` over a File or Blob that
// reads only the ranges asked for (Blob.slice, never the whole file), over a URL read with HTTP
// Range requests (never the whole file either), counting what they read, and a helper that reads
// a list of ranges with adjacent or overlapping ones merged into one read (one request).

/**
 * A file read piece by piece. `sliceSync`, where there is one, reads synchronously: in a Worker
 * (FileReaderSync for a Blob, a synchronous XMLHttpRequest for a URL), for the readers of file
 * systems, which want Read + Seek.
 * @typedef {import('./types.js').Source} Source
 * @typedef {import('./types.js').ByteRange} ByteRange
 * @typedef {import('./types.js').RemoteErrorCode} RemoteErrorCode
 */

/**
 * A source over a Blob or File. `onRead(start, end)` is told of every read.
 * @param {Blob & { name?: string }} blob
 * @param {string} [name]
 * @param {((start: number, end: number) => void) | null} [onRead]
 * @returns {Source & { blob: Blob }}
 */
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
    ...(typeof FileReaderSync === 'function' && {
      /** @type {(start: number, end: number) => Uint8Array} */
      sliceSync(start, end) {
        start = Math.max(0, Math.min(start, blob.size));
        end = Math.max(start, Math.min(end, blob.size));
        stats.reads++;
        stats.bytes += end - start;
        onRead?.(start, end);
        return new Uint8Array(new FileReaderSync().readAsArrayBuffer(blob.slice(start, end)));
      },
    }),
  };
}

/**
 * A source over bytes in memory (tests, and sample files already fetched).
 * @param {Uint8Array} bytes
 * @returns {Source}
 */
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
 * @param {readonly ByteRange[]} ranges
 */
export function mergeRanges(ranges, gap = 0) {
  const order = ranges.map((r, i) => i).sort((a, b) => ranges[a].offset - ranges[b].offset || ranges[a].len - ranges[b].len);
  /** @type {{ start: number, end: number, members: number[] }[]} */
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
 * Reads `ranges` from `source`, merged into as few reads as possible, with up to `parallel` reads
 * in flight (one round trip at a time is what bounds a scan of thousands of bitmaps). Returns one
 * Uint8Array per range, in the order given (shorter than asked only at the end of the file).
 * @param {Source} source
 * @param {readonly ByteRange[]} ranges
 * @param {AbortSignal} [signal]
 * @returns {Promise<Uint8Array[]>}
 */
export async function readRanges(source, ranges, signal, gap = 0, parallel = 4) {
  /** @type {Uint8Array[]} */
  const out = new Array(ranges.length);
  const spans = mergeRanges(ranges, gap);
  let next = 0;
  const worker = async () => {
    while (next < spans.length) {
      const span = spans[next++];
      const bytes = await source.slice(span.start, span.end, signal);
      for (const i of span.members) {
        const from = ranges[i].offset - span.start;
        out[i] = bytes.subarray(Math.min(from, bytes.length), Math.min(from + ranges[i].len, bytes.length));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, spans.length) }, worker));
  return out;
}

// ---------------------------------------------------------------- remote files (HTTP Range)

/**
 * Why a remote file cannot be read. `code`: `not-found` (404/410), `http` (another status),
 * `network` (no answer: the server is down, or a cross-origin server refused with CORS),
 * `no-range` (the server sends whole files, not parts), `no-content-range` (a cross-origin
 * server that hides the Content-Range header), `changed` (the file changed between two reads),
 * `bad-answer` (an answer that does not match the question).
 */
export class RemoteError extends Error {
  /**
   * @param {RemoteErrorCode} code
   * @param {string} message
   * @param {{ status?: number, url?: string }} [where]
   */
  constructor(code, message, { status, url } = {}) {
    super(message);
    this.name = 'RemoteError';
    this.code = code;
    this.status = status;
    this.url = url;
  }
}

/**
 * The part of a path after the last slash, decoded.
 * @param {URL} url
 */
function urlName(url) {
  const last = /** @type {string} */ (url.pathname.split('/').pop());
  try {
    return decodeURIComponent(last) || url.host || 'disk';
  } catch {
    return last || 'disk';
  }
}

/**
 * `bytes START-END/TOTAL` (TOTAL may be `*`); null when absent or not of that form.
 * @param {string | null} header
 */
export function parseContentRange(header) {
  const m = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(header || '');
  if (!m) return null;
  return { start: Number(m[1]), end: Number(m[2]) + 1, total: m[3] === '*' ? null : Number(m[3]) };
}

/** The first bytes read when a remote file is opened: every VHD starts with a copy of its footer. */
const PROBE = 512;

/**
 * A source over a file on a web server, read with HTTP `Range` requests: only the bytes asked
 * for travel. The first request (`Range: bytes=0-511`) learns the file's size from its
 * `Content-Range` and keeps those bytes (the footer copy, which opening reads first). A server
 * that ignores `Range` and starts sending the whole file (200) is cut off at once, before its
 * body is read, and reported. Every answer's `ETag`, `Last-Modified` and size are compared with
 * the first one's, and same-origin requests carry `If-Range` too (cross-origin ones do not, so
 * that they stay simple requests without a CORS preflight): a file that changed while it was
 * being read is reported instead of mixing old and new bytes.
 *
 * Options: `name` (default: the last part of the path), `fetch` (default: the global one),
 * `headers` (added to every request), `signal`, `onRequest({ start, end, status, bytes })` told
 * of every request answered.
 * @param {string | URL} url
 * @param {{ name?: string, fetch?: typeof globalThis.fetch, headers?: HeadersInit, signal?: AbortSignal,
 *   onRequest?: (request: { start: number, end: number, status: number, bytes: number }) => void }} [options]
 * @returns {Promise<Source & { url: string, stats: { reads: number, bytes: number, requests: number, transferred: number } }>}
 */
export async function urlSource(url, { name, fetch: fetchFn = globalThis.fetch.bind(globalThis), headers, signal, onRequest } = {}) {
  const base = globalThis.document?.baseURI ?? globalThis.location?.href;
  const href = new URL(url, base);
  const shown = href.href;
  const crossOrigin = !globalThis.location || href.origin !== globalThis.location.origin;
  name ??= urlName(href);
  const stats = { reads: 0, bytes: 0, requests: 0, transferred: 0 };
  /** @typedef {{ etag: string | null, lastModified: string | null, total: number }} FirstAnswer */
  let first = /** @type {FirstAnswer | null} */ (null); // the probe's answer
  let byteLength = 0;

  /** @param {string} what */
  const changed = (what) =>
    new RemoteError('changed', `${name} changed on the server while it was being read (${what}): the parts read before and after do not belong together. Reload to read it again from the start.`, { url: shown });

  /**
   * One request for bytes [start, end); returns their bytes.
   * @param {number} start
   * @param {number} end
   * @param {AbortSignal | undefined} signal
   * @param {boolean} probe
   * @returns {Promise<Uint8Array>}
   */
  async function request(start, end, signal, probe) {
    // Set by the probe (the first request) before any other request is made: read only when !probe.
    const known = /** @type {FirstAnswer} */ (first);
    const ctrl = new AbortController();
    const onAbort = () => ctrl.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const h = new Headers(headers);
    h.set('Range', `bytes=${start}-${end - 1}`);
    const ifRange = !probe && !crossOrigin ? known.etag && !known.etag.startsWith('W/') ? known.etag : known.lastModified : null;
    if (ifRange) h.set('If-Range', ifRange);
    let res;
    try {
      stats.requests++;
      res = await fetchFn(shown, { headers: h, signal: ctrl.signal, cache: 'no-store', credentials: 'same-origin' });
    } catch (e) {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) throw signal.reason;
      throw new RemoteError(
        'network',
        crossOrigin
          ? `${name} could not be read from ${href.origin}: no answer reached this page. That server does not allow other sites to read its files (it must send the CORS header Access-Control-Allow-Origin), or it cannot be reached.`
          : `${name} could not be read: the server did not answer (${/** @type {Error} */ (e).message}).`,
        { url: shown },
      );
    }
    try {
      const etag = res.headers.get('ETag');
      const lastModified = res.headers.get('Last-Modified');
      if (res.status === 200) {
        // The whole file is on its way: stop it now, before any of its body is read.
        ctrl.abort(new DOMException('the server ignored the Range request', 'AbortError'));
        onRequest?.({ start, end, status: 200, bytes: 0 });
        if (!probe && (ifRange || (known.etag && etag && etag !== known.etag) || (known.lastModified && lastModified && lastModified !== known.lastModified))) {
          throw changed('the server sent a different version of the file');
        }
        const size = Number(res.headers.get('Content-Length'));
        throw new RemoteError(
          'no-range',
          `${name} cannot be read piece by piece: the server ignored the request for a part of the file (HTTP Range) and began sending all of it${size ? ` (${size} bytes)` : ''}. The download was stopped at once. Put the file on a server that supports Range requests (most static hosts do), or download it and open it from your computer.`,
          { status: 200, url: shown },
        );
      }
      if (res.status === 404 || res.status === 410) {
        throw new RemoteError('not-found', `${name} was not found on the server (HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}): check the address ${shown}.`, { status: res.status, url: shown });
      }
      if (res.status === 416 && !probe) throw changed('it is now shorter');
      if (res.status === 416) throw new RemoteError('bad-answer', `${name} is empty on the server: there is no disk to read.`, { status: 416, url: shown });
      if (res.status !== 206) {
        throw new RemoteError('http', `${name} could not be read: the server answered HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}.`, { status: res.status, url: shown });
      }
      const range = parseContentRange(res.headers.get('Content-Range'));
      if (!range) {
        throw new RemoteError(
          crossOrigin ? 'no-content-range' : 'bad-answer',
          crossOrigin
            ? `${name} cannot be read from ${href.origin}: the server sends parts of the file but hides how big it is from other sites. It must also send the CORS header Access-Control-Expose-Headers: Content-Range (and ETag).`
            : `${name} cannot be read: the server's partial answer has no usable Content-Range header.`,
          { status: 206, url: shown },
        );
      }
      if (probe) {
        if (range.total === null) throw new RemoteError('bad-answer', `${name} cannot be read: the server does not say how big the file is.`, { status: 206, url: shown });
        first = { etag, lastModified, total: range.total };
      } else {
        if (range.total !== null && range.total !== known.total) throw changed(`its size went from ${known.total} to ${range.total} bytes`);
        if (known.etag && etag && etag !== known.etag) throw changed('its ETag changed');
        if (known.lastModified && lastModified && lastModified !== known.lastModified) throw changed('its modification time changed');
      }
      const want = Math.min(end, range.total ?? end);
      if (range.start !== start || range.end < want) {
        throw new RemoteError('bad-answer', `${name}: the server sent bytes ${range.start}-${range.end - 1} when bytes ${start}-${want - 1} were asked for.`, { status: 206, url: shown });
      }
      const bytes = new Uint8Array(await res.arrayBuffer());
      stats.transferred += bytes.length;
      onRequest?.({ start, end, status: 206, bytes: bytes.length });
      if (bytes.length < want - start) throw new RemoteError('bad-answer', `${name}: the server sent ${bytes.length} bytes of the ${want - start} it announced.`, { status: 206, url: shown });
      return bytes.subarray(0, want - start);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * The same request, synchronous (a Worker's XMLHttpRequest), for the readers that want Read + Seek.
   * @param {number} start
   * @param {number} end
   * @returns {Uint8Array}
   */
  function requestSync(start, end) {
    const known = /** @type {FirstAnswer} */ (first);
    const xhr = new XMLHttpRequest();
    xhr.open('GET', shown, false);
    xhr.responseType = 'arraybuffer';
    new Headers(headers).forEach((v, k) => xhr.setRequestHeader(k, v));
    xhr.setRequestHeader('Range', `bytes=${start}-${end - 1}`);
    const ifRange = !crossOrigin ? (known.etag && !known.etag.startsWith('W/') ? known.etag : known.lastModified) : null;
    if (ifRange) xhr.setRequestHeader('If-Range', ifRange);
    stats.requests++;
    try {
      xhr.send();
    } catch (e) {
      throw new RemoteError('network', `${name} could not be read: the server did not answer (${/** @type {Error} */ (e).message}).`, { url: shown });
    }
    if (xhr.status === 200) throw changed('the server sent the whole file instead of the part asked for');
    if (xhr.status === 404 || xhr.status === 410) throw new RemoteError('not-found', `${name} is no longer on the server (HTTP ${xhr.status}).`, { status: xhr.status, url: shown });
    if (xhr.status === 416) throw changed('it is now shorter');
    if (xhr.status !== 206) throw new RemoteError('http', `${name} could not be read: the server answered HTTP ${xhr.status}.`, { status: xhr.status, url: shown });
    const range = parseContentRange(xhr.getResponseHeader('Content-Range'));
    if (!range) throw new RemoteError('bad-answer', `${name} cannot be read: the server's partial answer has no usable Content-Range header.`, { status: 206, url: shown });
    if (range.total !== null && range.total !== known.total) throw changed(`its size went from ${known.total} to ${range.total} bytes`);
    const etag = xhr.getResponseHeader('ETag');
    const lastModified = xhr.getResponseHeader('Last-Modified');
    if (known.etag && etag && etag !== known.etag) throw changed('its ETag changed');
    if (known.lastModified && lastModified && lastModified !== known.lastModified) throw changed('its modification time changed');
    const bytes = new Uint8Array(/** @type {ArrayBuffer} */ (xhr.response));
    stats.transferred += bytes.length;
    onRequest?.({ start, end, status: 206, bytes: bytes.length });
    if (range.start !== start || bytes.length < end - start) {
      throw new RemoteError('bad-answer', `${name}: the server sent bytes ${range.start}-${range.end - 1} when bytes ${start}-${end - 1} were asked for.`, { status: 206, url: shown });
    }
    return bytes.subarray(0, end - start);
  }

  const head = await request(0, PROBE, signal, true);
  byteLength = /** @type {FirstAnswer} */ (first).total; // the probe set it

  /**
   * Bytes [start, end) counted, from the probe's answer when they lie in it; null when a request
   * is needed for them (`start`, `end` clamped to the file).
   * @param {number} start
   * @param {number} end
   */
  const fromHead = (start, end) => {
    start = Math.max(0, Math.min(start, byteLength));
    end = Math.max(start, Math.min(end, byteLength));
    stats.reads++;
    stats.bytes += end - start;
    if (end <= head.length) return { start, end, bytes: head.slice(start, end) };
    return { start, end, bytes: end === start ? new Uint8Array(0) : null };
  };
  return {
    byteLength,
    name,
    url: shown,
    stats,
    async slice(start, end, signal) {
      signal?.throwIfAborted();
      const r = fromHead(start, end);
      return r.bytes ?? request(r.start, r.end, signal, false);
    },
    ...(typeof XMLHttpRequest === 'function' && typeof document === 'undefined' && {
      /** @type {(start: number, end: number) => Uint8Array} */
      sliceSync(start, end) {
        const r = fromHead(start, end);
        return r.bytes ?? requestSync(r.start, r.end);
      },
    }),
  };
}
