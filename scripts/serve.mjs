#!/usr/bin/env node
// Serves a folder (default: www/) on http://127.0.0.1:$PORT (default 8080; 0 picks a free port)
// with the right Content-Type for .wasm and modules, and HTTP Range requests (206 Partial
// Content), which Python's http.server lacks. No dependencies.
//
//   node scripts/serve.mjs [folder] [--port N] [--host H]
//
// Prints "serving <folder> on http://HOST:PORT/" once listening. Also usable as a module:
//   import { serve } from './serve.mjs'; const { server, url } = await serve({ root, port: 0 });

import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
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

export function serve({ root = 'www', port = 8080, host = '127.0.0.1', log = false } = {}) {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    try {
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
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
        return;
      }
      const headers = {
        'Content-Type': TYPES[extname(file).toLowerCase()] || 'application/octet-stream',
        'Accept-Ranges': 'bytes',
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
        'Last-Modified': st.mtime.toUTCString(),
      };
      const range = parseRange(req.headers.range, st.size);
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
      if (stream) stream.pipe(res);
      else res.end();
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
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--port') port = Number(args[++i]);
    else if (args[i] === '--host') host = args[++i];
    else root = args[i];
  }
  const { url } = await serve({ root, port, host, log: !!process.env.VERBOSE });
  console.log(`serving ${root} on ${url}  (Ctrl+C stops)`);
}
