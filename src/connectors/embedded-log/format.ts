/**
 * The on-disk record format of the embedded log (version 1). Every record stands alone — length-prefixed and
 * checksummed — so a reader can find the end of valid data after a crash without any other file.
 *
 * ```
 * field        size  notes (all integers big-endian)
 * length       4     u32: bytes that follow this field (crc … end of headers)
 * crc          4     u32: CRC-32 (IEEE, as zlib) of every byte after this field
 * magic        1     1
 * attributes   1     0 (reserved)
 * offset       8     int64
 * timestamp    8     int64, ms since epoch
 * keyLength    4     int32, -1 = null key
 * key          n
 * valueLength  4     int32, -1 = null value
 * value        n
 * headerCount  4     int32
 * headers      …     per header: keyLength int32, key UTF-8, valueLength int32 (-1 = null), value
 * ```
 *
 * A record whose value starts with many of the same bytes as an earlier record's value in the same write (Kafka
 * Connect's JSON with its schema repeats the schema in every value) is stored with magic 2 and only the rest:
 *
 * ```
 * field        size  notes
 * length … key       as above (magic = 2)
 * baseDistance 4     u32: bytes from the start of this record back to the start of its base record
 * prefixLength 4     u32: this value starts with the first prefixLength bytes of the base record's value
 * valueLength  4     int32: bytes of the rest of the value
 * value        n     the rest
 * headerCount … headers  as above
 * ```
 *
 * The base record is a magic-1 record with a value, earlier in the same segment (the writer takes it from the same
 * write cycle), so a reader finds it whatever offset it starts at, and a cut after a crash never keeps a record
 * without its base. Readers of magic 1 only (before this format) refuse magic 2 as corrupt.
 *
 * Integers above 2^53 are not representable in offsets/timestamps here (JavaScript numbers); 2^53 records per
 * partition is not a practical limit.
 */
import { crc32 } from 'node:zlib';
import type { Header } from '../../sdk/record.js';

export const MAGIC = 1;
/** magic of a record whose value shares a prefix with its base record's value */
export const MAGIC_SHARED = 2;
/** bytes a shared-prefix record has besides RECORD_OVERHEAD, its key, the rest of its value and its headers */
export const SHARED_EXTRA = 8;
/** bytes of a record with null key, null value and no headers */
export const RECORD_OVERHEAD = 4 + 4 + 1 + 1 + 8 + 8 + 4 + 4 + 4;
/** upper bound of one record's `length` field; anything bigger is treated as corruption */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

const TWO_32 = 4294967296;

/** The record fields the encoder needs (a PlatformRecord fits). */
export interface RecordInput {
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** bytes `value` starts with, the same object for all values starting with them (PlatformRecord.valuePrefix) */
  valuePrefix?: Uint8Array | undefined;
  timestamp: number;
  headers?: Header[] | undefined;
}

/** A record decoded from disk. `key`, `value` and header values are views into the read buffer. */
export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Header[];
}

/** CRC-32 (IEEE) of a byte range, computed natively by zlib (Node ≥ 20.15). */
export function checksum(buf: Uint8Array): number {
  return crc32(buf) >>> 0;
}

/** slicing-by-8 tables of CRC-32 (IEEE, reflected): table t at [t * 256, t * 256 + 256) */
const CRC_TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n]! >>> 8) ^ t[t[(k - 1) * 256 + n]! & 255]!;
  return t;
})();

/** below this many bytes the JavaScript CRC beats zlib's, whose per-call cost (~0.2 µs with the view) dominates */
const JS_CRC_MAX = 384;

/**
 * `checksum` of `buf[s, e)`. Short ranges (most records) in JavaScript, eight bytes per step (~0.6 ns per byte, no
 * view object, no native call); longer ones by zlib, which is faster per byte.
 */
export function checksumRange(buf: Uint8Array, s: number, e: number): number {
  if (e - s >= JS_CRC_MAX) return crc32(buf.subarray(s, e)) >>> 0;
  const T = CRC_TABLES;
  let c = -1;
  let i = s;
  for (; i + 8 <= e; i += 8) {
    const a = c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    c =
      T[1792 + (a & 255)]! ^
      T[1536 + ((a >>> 8) & 255)]! ^
      T[1280 + ((a >>> 16) & 255)]! ^
      T[1024 + (a >>> 24)]! ^
      T[768 + buf[i + 4]!]! ^
      T[512 + buf[i + 5]!]! ^
      T[256 + buf[i + 6]!]! ^
      T[buf[i + 7]!]!;
  }
  for (; i < e; i++) c = T[(c ^ buf[i]!) & 255]! ^ (c >>> 8);
  return ~c >>> 0;
}

function headerValueBytes(v: Buffer | string | null): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
}

/** Size in bytes of a record on disk. */
export function encodedSize(r: RecordInput): number {
  let n = RECORD_OVERHEAD + (r.key ? r.key.length : 0) + (r.value ? r.value.length : 0);
  const hs = r.headers;
  if (hs) for (let i = 0; i < hs.length; i++) n += 8 + Buffer.byteLength(hs[i]!.key, 'utf8') + headerValueBytes(hs[i]!.value);
  return n;
}

/** 32 bits big-endian with byte stores (the caller checked the room; `writeInt32BE` checks range and room again) */
function put32(buf: Buffer, v: number, at: number): void {
  buf[at] = v >>> 24;
  buf[at + 1] = v >>> 16;
  buf[at + 2] = v >>> 8;
  buf[at + 3] = v;
}

function writeInt64(buf: Buffer, n: number, at: number): void {
  const hi = Math.floor(n / TWO_32);
  put32(buf, hi, at);
  put32(buf, n - hi * TWO_32, at + 4);
}

function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_32 + buf.readUInt32BE(at + 4);
}

/**
 * Writes one record at `at` (the buffer must have `size` bytes free there, as given by `encodedSize`).
 * Returns the position after the record.
 */
export function encodeInto(buf: Buffer, at: number, r: RecordInput, offset: number, size: number, withChecksum = true, baseDistance = 0, prefixLength = 0): number {
  const end = at + size;
  put32(buf, size - 4, at);
  let p = at + 8;
  buf[p++] = prefixLength > 0 ? MAGIC_SHARED : MAGIC;
  buf[p++] = 0;
  writeInt64(buf, offset, p);
  writeInt64(buf, r.timestamp, p + 8);
  p += 16;
  if (r.key === null) {
    put32(buf, -1, p);
    p += 4;
  } else {
    put32(buf, r.key.length, p);
    p += 4;
    buf.set(r.key, p);
    p += r.key.length;
  }
  if (prefixLength > 0) {
    // a shared-prefix record (the caller checked that the value starts with the base's first prefixLength bytes)
    const v = r.value!;
    const rest = v.length - prefixLength;
    put32(buf, baseDistance, p);
    put32(buf, prefixLength, p + 4);
    put32(buf, rest, p + 8);
    p += 12;
    if (p + v.length <= buf.length) {
      // the whole value, then the rest moved down over its prefix: two native copies and no view object per record
      // (the bytes after the rest are the next records' room; a writer's buffer has room for every value whole)
      buf.set(v, p);
      buf.copyWithin(p, p + prefixLength, p + v.length);
    } else Buffer.prototype.copy.call(v, buf, p, prefixLength);
    p += rest;
  } else if (r.value === null) {
    put32(buf, -1, p);
    p += 4;
  } else {
    put32(buf, r.value.length, p);
    p += 4;
    buf.set(r.value, p);
    p += r.value.length;
  }
  const hs = r.headers;
  const count = hs ? hs.length : 0;
  put32(buf, count, p);
  p += 4;
  for (let i = 0; i < count; i++) {
    const h = hs![i]!;
    const kl = buf.write(h.key, p + 4, 'utf8');
    buf.writeInt32BE(kl, p);
    p += 4 + kl;
    const v = h.value;
    if (v === null || v === undefined) {
      buf.writeInt32BE(-1, p);
      p += 4;
    } else if (typeof v === 'string') {
      const vl = buf.write(v, p + 4, 'utf8');
      buf.writeInt32BE(vl, p);
      p += 4 + vl;
    } else {
      buf.writeInt32BE(v.length, p);
      buf.set(v, p + 4);
      p += 4 + v.length;
    }
  }
  if (p !== end) throw new Error(`internal: record encoded to ${p - at} bytes, expected ${size}`);
  if (withChecksum) buf.writeUInt32BE(checksumRange(buf, at + 8, end), at + 4);
  return end;
}

/**
 * Fills in the checksum field of every record in `buf[start, end)`, records framed back to back by `encodeInto`
 * with `withChecksum` false. Throws a RangeError if a length field does not fit the range.
 */
export function checksumRecords(buf: Buffer, start: number, end: number): void {
  let at = start;
  while (at < end) {
    const len = buf.readUInt32BE(at);
    if (len < RECORD_OVERHEAD - 4 || at + 4 + len > end) throw new RangeError(`record length ${len} at ${at} does not fit ${start}..${end}`);
    buf.writeUInt32BE(checksumRange(buf, at + 8, at + 4 + len), at + 4);
    at += 4 + len;
  }
}

/** Result codes of `checkRecord` besides a positive size. */
export const INCOMPLETE = 0;
export const CORRUPT = -1;

/**
 * Checks the record starting at `at` within `buf[0, avail)`: returns its total size when it is complete and its
 * checksum matches, `INCOMPLETE` when more bytes are needed (`neededSize` says how many), `CORRUPT` otherwise.
 */
export function checkRecord(buf: Buffer, at: number, avail: number): number {
  if (avail - at < 4) return INCOMPLETE;
  const len = buf.readUInt32BE(at);
  if (len < RECORD_OVERHEAD - 4 || len > MAX_RECORD_BYTES) return CORRUPT;
  if (avail - at < 4 + len) return INCOMPLETE;
  if (buf[at + 8] !== MAGIC && buf[at + 8] !== MAGIC_SHARED) return CORRUPT;
  if (checksumRange(buf, at + 8, at + 4 + len) !== buf.readUInt32BE(at + 4)) return CORRUPT;
  return 4 + len;
}

/** Bytes needed to hold the record starting at `at` (4 when even its length is not there yet). */
export function neededSize(buf: Buffer, at: number, avail: number): number {
  if (avail - at < 4) return 4;
  return 4 + buf.readUInt32BE(at);
}

/** Sets the offset field of a record framed at `at` (its checksum must be computed after). */
export function setRecordOffset(buf: Buffer, at: number, offset: number): void {
  writeInt64(buf, offset, at + 10);
}

/** The offset field of a record already checked by `checkRecord`. */
export function recordOffset(buf: Buffer, at: number): number {
  return readInt64(buf, at + 10);
}

/**
 * Bytes between a record's start and the first byte of its value (a magic-1 record with key `r.key`): where a
 * shared-prefix record's base value starts.
 */
export function valueStart(r: RecordInput): number {
  return 34 + (r.key ? r.key.length : 0);
}

/**
 * Length of the common prefix of `v` and `buf[at, at + n)`. `hint` is where the last such prefix ended: the bytes up
 * to 16 before it are compared natively, then byte by byte; a mismatch earlier than that is found by bisection.
 */
export function sharedPrefix(v: Buffer, buf: Buffer, at: number, n: number, hint: number): number {
  const max = Math.min(v.length, n);
  let lo = Math.min(hint, max) - 16;
  if (lo < 0) lo = 0;
  if (lo > 0 && v.compare(buf, at, at + lo, 0, lo) !== 0) {
    let a = 0;
    let b = lo;
    while (b - a > 16) {
      const m = (a + b) >>> 1;
      if (v.compare(buf, at, at + m, 0, m) === 0) a = m;
      else b = m;
    }
    lo = a;
  }
  let i = lo;
  while (i < max && v[i] === buf[at + i]) i++;
  return i;
}

/** The record's magic (1 = whole value, 2 = shared prefix; see the file comment). */
export function recordMagic(buf: Buffer, at: number): number {
  return buf[at + 8]!;
}

/**
 * Decodes a record already checked by `checkRecord`. Throws a RangeError if fields overrun the record. A
 * shared-prefix record needs `base(distance)`: the value of the record `distance` bytes before it.
 */
export function decodeRecord(buf: Buffer, at: number, base?: (distance: number) => Buffer | null): DecodedRecord {
  const end = at + 4 + buf.readUInt32BE(at);
  const need = (p: number, n: number) => {
    if (p + n > end) throw new RangeError('record field overruns the record');
  };
  const offset = readInt64(buf, at + 10);
  const timestamp = readInt64(buf, at + 18);
  let p = at + 26;
  const bytes = (): Buffer | null => {
    need(p, 4);
    const l = buf.readInt32BE(p);
    p += 4;
    if (l < 0) return null;
    need(p, l);
    const b = buf.subarray(p, p + l);
    p += l;
    return b;
  };
  const key = bytes();
  let value: Buffer | null;
  if (buf[at + 8] === MAGIC_SHARED) {
    need(p, 12);
    const distance = buf.readUInt32BE(p);
    const prefix = buf.readUInt32BE(p + 4);
    const rest = buf.readInt32BE(p + 8);
    p += 12;
    if (rest < 0) throw new RangeError('negative length of a shared-prefix value');
    need(p, rest);
    const b = base?.(distance) ?? null;
    if (b === null || b.length < prefix) throw new RangeError(`the base record of a shared-prefix record (${distance} bytes back) is missing or too short`);
    value = Buffer.allocUnsafe(prefix + rest);
    b.copy(value, 0, 0, prefix);
    buf.copy(value, prefix, p, p + rest);
    p += rest;
  } else value = bytes();
  need(p, 4);
  const count = buf.readInt32BE(p);
  p += 4;
  const headers: Header[] = [];
  for (let i = 0; i < count; i++) {
    need(p, 4);
    const kl = buf.readInt32BE(p);
    p += 4;
    if (kl < 0) throw new RangeError('negative header key length');
    need(p, kl);
    const hk = buf.toString('utf8', p, p + kl);
    p += kl;
    headers.push({ key: hk, value: bytes() });
  }
  return { offset, timestamp, key, value, headers };
}
