// Small pure helpers for showing values: no DOM, no state (unit-tested in tests/web/unit.test.mjs).

/**
 * `0x` and lower-case hex, optionally zero-padded to `width` digits.
 * @param {number | bigint | string} n
 */
export function hex(n, width = 0) {
  return '0x' + Number(n).toString(16).padStart(width, '0');
}

/**
 * A byte count the way a person reads it (the same rules as the command line's).
 * @param {import('./types.js').U64} bytes
 */
export function humanSize(bytes) {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = Number(bytes);
  let u = 0;
  while (v >= 1024 && u + 1 < units.length) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${bytes} bytes`;
  if (Number.isInteger(v)) return `${v} ${units[u]}`;
  return `${v.toFixed(2).replace(/\.00$/, '')} ${units[u]}`;
}

/**
 * Turns what the WebAssembly side gives (64-bit integers as BigInt) into plain JSON-like data:
 * a BigInt becomes a number when exact, else the string of its digits; Maps become objects.
 * @param {unknown} v
 * @returns {unknown}
 */
export function normalize(v) {
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(normalize);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, normalize(x)]));
  if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) {
    /** @type {Record<string, unknown>} */
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = normalize(x);
    return out;
  }
  return v;
}

/**
 * The text a `data-field` element holds for a JSON value: strings as they are, arrays joined.
 * @param {unknown} v
 * @returns {string}
 */
export function valueText(v) {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map(valueText).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * The value at a dotted path such as `parent_locators.0.path` (undefined when absent).
 * @param {unknown} obj
 * @param {string} path
 * @returns {unknown}
 */
export function getPath(obj, path) {
  let v = obj;
  for (const k of path.split('.')) {
    if (v === null || v === undefined) return undefined;
    v = /** @type {Record<string, unknown>} */ (v)[k];
  }
  return v;
}

/**
 * A hex dump: rows of 16 bytes with their offset, hex pairs and printable ASCII.
 * @param {Uint8Array} bytes
 */
export function hexRows(bytes, base = 0) {
  /** @type {{ offset: number, hex: string[], ascii: string }[]} */
  const rows = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const chunk = bytes.subarray(i, Math.min(i + 16, bytes.length));
    rows.push({
      offset: base + i,
      hex: Array.from(chunk, (b) => b.toString(16).padStart(2, '0')),
      ascii: Array.from(chunk, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join(''),
    });
  }
  return rows;
}

/**
 * Parses a number a person typed: decimal, `0x` hex, or with a K/M/G/T suffix (binary).
 * @param {unknown} text
 */
export function parseNumber(text) {
  const t = String(text).trim().toLowerCase().replace(/[_\s]/g, '');
  let m = /^0x([0-9a-f]+)$/.exec(t);
  if (m) return parseInt(m[1], 16);
  m = /^(\d+(?:\.\d+)?)([kmgt]?)i?b?$/.exec(t);
  if (!m) return NaN;
  const mult = /** @type {Record<string, number>} */ ({ '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 })[m[2]];
  const v = Number(m[1]) * mult;
  return Number.isSafeInteger(v) ? v : NaN;
}

/** The file systems' names (`parts --json`'s `filesystem`) in words. */
export const FS_WORDS = /** @type {Record<string, string>} */ ({ fat12: 'FAT12', fat16: 'FAT16', fat32: 'FAT32', exfat: 'exFAT', ntfs: 'NTFS', ext2: 'ext2', ext3: 'ext3', ext4: 'ext4', xfs: 'XFS', bitlocker: 'BitLocker' });

/**
 * The last part of a path written with `/` or `\`.
 * @param {unknown} path
 */
export function baseName(path) {
  return /** @type {string} */ (String(path).split(/[\\/]/).pop());
}
