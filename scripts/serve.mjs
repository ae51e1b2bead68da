#!/usr/bin/env node
// Serves a folder (default: www/) on http://127.0.0.1:$PORT (default 8080; 0 picks a free port)
// with the right Content-Type for .wasm and modules, and HTTP Range requests (206 Partial
// Content) with ETag and If-Range, which Python's http.server lacks. No dependencies.
//
//   node scripts/serve.mjs [folder] [--port N] [--host H] [--cors] [--no-range]
//
// --cors lets pages of other origins read the files (Access-Control-Allow-Origin: * and the
// headers a Range reader needs exposed); --no-range answers every request with the whole file
// (200), like servers that do not support Range: both for trying out remote disks.
//
// Prints "serving <folder> on http://HOST:PORT/" once listening. Also usable as a module:
//   import { serve } from './serve.mjs'; const { server, url } = await serve({ root, port: 0 });
// `onResponse({ method, path, range, status, bytes })` is told of every answer once it is done,
// with the body bytes actually sent (tests count what travelled).

import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { stat } from 'node:fs/promises';
import { resolve, join, extname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.vhd': 'application/octet-stream',
};

/**
 * Parses a Range header against a file of `size` bytes.
 * @returns {{start:number,end:number}|null|'invalid'} end inclusive; null when absent or not a
 *   single bytes range (then the whole file is sent); 'invalid' when unsatisfiable (416).
 */
export function parseRange(header, size) {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start, end;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'invalid';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'invalid';
  return { start, end };
}

/** Whether an If-Range header (an ETag or a date) matches the file's current validators. */
export function ifRangeMatches(header, etag, lastModified) {
  if (!header) return true;
  const v = header.trim();
  if (v.startsWith('"') || v.startsWith('W/')) return v === etag; // weak tags never match
  return v === lastModified;
}

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Content-Range, Content-Length, Accept-Ranges, ETag, Last-Modified',
};

export function serve({ root = 'www', port = 8080, host = '127.0.0.1', log = false, cors = false, ranges = true, onResponse = null } = {}) {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    let sent = 0;
    res.on('close', () => onResponse?.({ method: req.method, path: req.url, range: req.headers.range ?? null, status: res.statusCode, bytes: sent }));
    try {
      if (cors && req.method === 'OPTIONS') {
        res.writeHead(204, { ...CORS, 'Access-Control-Allow-Methods': 'GET, HEAD', 'Access-Control-Allow-Headers': 'Range, If-Range', 'Access-Control-Max-Age': '600' }).end();
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' }).end();
        return;
      }
      let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      let file = resolve(join(base, path));
      if (file !== base && !file.startsWith(base + sep)) {
        res.writeHead(403).end('forbidden');
        return;
      }
      let st = await stat(file).catch(() => null);
      if (st && st.isDirectory()) {
        file = join(file, 'index.html');
        st = await stat(file).catch(() => null);
      }
      if (!st || !st.isFile()) {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...(cors ? CORS : {}) }).end('not found');
        return;
      }
      const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs * 1000).toString(16)}"`;
      const lastModified = st.mtime.toUTCString();
      const headers = {
        'Content-Type': TYPES[extname(file).toLowerCase()] || 'application/octet-stream',
        ...(ranges ? { 'Accept-Ranges': 'bytes' } : {}),
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
        'Last-Modified': lastModified,
        ETag: etag,
        ...(cors ? CORS : {}),
      };
      // If-Range: the part only of the version the client has, else the whole (new) file.
      const wanted = ranges && ifRangeMatches(req.headers['if-range'], etag, lastModified) ? req.headers.range : undefined;
      const range = parseRange(wanted, st.size);
      if (range === 'invalid') {
        res.writeHead(416, { ...headers, 'Content-Range': `bytes */${st.size}` }).end();
        return;
      }
      let stream = null;
      if (range) {
        res.writeHead(206, { ...headers, 'Content-Range': `bytes ${range.start}-${range.end}/${st.size}`, 'Content-Length': range.end - range.start + 1 });
        if (req.method === 'GET') stream = createReadStream(file, { start: range.start, end: range.end });
      } else {
        res.writeHead(200, { ...headers, 'Content-Length': st.size });
        if (req.method === 'GET') stream = createReadStream(file);
      }
      if (log) console.log(`${res.statusCode} ${req.method} ${req.url}${req.headers.range ? ' ' + req.headers.range : ''}`);
      if (stream) {
        stream.on('data', (chunk) => (sent += chunk.length));
        // pipeline: a client that goes away stops the file read too.
        pipeline(stream, res, () => {});
      } else res.end();
    } catch (e) {
      if (!res.headersSent) res.writeHead(500).end(String(e));
      else res.destroy();
    }
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      const { port: p } = server.address();
      ok({ server, url: `http://${host}:${p}/` });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let root = 'www';
  let port = Number(process.env.PORT || 8080);
  let host = '127.0.0.1';
  let cors = false;
  let ranges = true;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--port') port = Number(args[++i]);
    else if (args[i] === '--host') host = args[++i];
    else if (args[i] === '--cors') cors = true;
    else if (args[i] === '--no-range') ranges = false;
    else root = args[i];
  }
  const { url } = await serve({ root, port, host, cors, ranges, log: !!process.env.VERBOSE });
  console.log(`serving ${root} on ${url}  (Ctrl+C stops)`);
}
