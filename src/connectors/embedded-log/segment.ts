/**
 * Segment files of one partition: `<base offset, 20 digits>.log` holds records back to back (see format.ts);
 * `<base>.index` is a sparse index of 8-byte entries (u32 offset − base, u32 file position), one about every
 * `INDEX_INTERVAL_BYTES` of log. The index is advisory: it is rebuilt for the active segment on open and every
 * entry is checked against the record it points to before use.
 */
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { checkRecord, CORRUPT, INCOMPLETE, neededSize, recordOffset } from './format.js';

export const INDEX_INTERVAL_BYTES = 4096;
const INDEX_ENTRY_BYTES = 8;
const CHUNK_BYTES = 1024 * 1024;

export function segmentFileName(base: number): string {
  return `${String(base).padStart(20, '0')}.log`;
}
export function indexFileName(base: number): string {
  return `${String(base).padStart(20, '0')}.index`;
}

/** Base offset from a segment file name, or undefined for other files. */
export function parseSegmentName(name: string): number | undefined {
  const m = /^(\d{20})\.log$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Base offsets of the segments in a partition directory, ascending. */
export async function listSegments(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: number[] = [];
  for (const n of names) {
    const b = parseSegmentName(n);
    if (b !== undefined) out.push(b);
  }
  return out.sort((a, b) => a - b);
}

/** In-memory sparse index of one segment. */
export class SegmentIndex {
  /** flat pairs: relative offset, position (both below 2^32: a segment is at most 1 GiB) */
  #e = new Uint32Array(64);
  #n = 0;

  get length(): number {
    return this.#n / 2;
  }

  add(relOffset: number, position: number): void {
    if (this.#n + 2 > this.#e.length) {
      const grown = new Uint32Array(this.#e.length * 2);
      grown.set(this.#e);
      this.#e = grown;
    }
    this.#e[this.#n++] = relOffset;
    this.#e[this.#n++] = position;
  }

  /** Drops entries whose position is at or past `size`. */
  truncate(size: number): void {
    let n = this.#n;
    while (n > 0 && this.#e[n - 1]! >= size) n -= 2;
    this.#n = n;
  }

  /** Position of the last entry with relative offset ≤ `relOffset` (0 when none). */
  lookup(relOffset: number): number {
    let lo = 0;
    let hi = this.#n / 2 - 1;
    let best = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.#e[mid * 2]! <= relOffset) {
        best = this.#e[mid * 2 + 1]!;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  }

  /** Entries from `from` (entry number) encoded for the index file. */
  encode(from = 0): Buffer {
    const n = this.length - from;
    const buf = Buffer.allocUnsafe(Math.max(0, n) * INDEX_ENTRY_BYTES);
    for (let i = 0; i < n; i++) {
      buf.writeUInt32BE(this.#e[(from + i) * 2]!, i * INDEX_ENTRY_BYTES);
      buf.writeUInt32BE(this.#e[(from + i) * 2 + 1]!, i * INDEX_ENTRY_BYTES + 4);
    }
    return buf;
  }

  /** Parses an index file's bytes, keeping the longest prefix of increasing entries below `segmentSize`. */
  static decode(buf: Buffer, segmentSize: number): SegmentIndex {
    const idx = new SegmentIndex();
    let lastRel = -1;
    let lastPos = 0;
    for (let at = 0; at + INDEX_ENTRY_BYTES <= buf.length; at += INDEX_ENTRY_BYTES) {
      const rel = buf.readUInt32BE(at);
      const pos = buf.readUInt32BE(at + 4);
      if (rel <= lastRel || pos <= lastPos || pos >= segmentSize) break;
      idx.add(rel, pos);
      lastRel = rel;
      lastPos = pos;
    }
    return idx;
  }

  /** Loads `<base>.index` from `dir`; an absent or unreadable file gives an empty index. */
  static async load(dir: string, base: number, segmentSize: number): Promise<SegmentIndex> {
    try {
      return SegmentIndex.decode(await fsp.readFile(path.join(dir, indexFileName(base))), segmentSize);
    } catch {
      return new SegmentIndex();
    }
  }
}

export function readAt(fd: number, buf: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buf, 0, length, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

/** Writes all of `buf` at `position` (looping over short writes). */
export async function writeFully(fd: number, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const n = await new Promise<number>((resolve, reject) => {
      fs.write(fd, buf, done, buf.length - done, position + done, (err, written) => (err ? reject(err) : resolve(written)));
    });
    if (n <= 0) throw new Error('write returned 0 bytes');
    done += n;
  }
}

export function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

export function ftruncate(fd: number, len: number): Promise<void> {
  return new Promise((resolve, reject) => fs.ftruncate(fd, len, (err) => (err ? reject(err) : resolve())));
}

export function fstatSize(fd: number): Promise<number> {
  return new Promise((resolve, reject) => fs.fstat(fd, (err, st) => (err ? reject(err) : resolve(st.size))));
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.close(fd, (err) => (err ? reject(err) : resolve())));
}

/** fsync of a directory, so that created or renamed entries in it survive a crash. */
export async function syncDir(dir: string): Promise<void> {
  const fd = await fsp.open(dir, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}

export type ScanEnd = 'end' | 'incomplete' | 'corrupt' | 'stopped';

/**
 * Walks the valid records of a segment file from `start` up to `end` (bytes), calling `visit(buf, at, size,
 * filePosition)` for each; `visit` returns false to stop. Returns where the walk stopped and why: `end` (clean end),
 * `incomplete` (a record runs past `end`: a torn tail or a write in progress), `corrupt` (bad length, magic or
 * checksum), `stopped` (by `visit`; position is that of the record `visit` refused).
 */
export async function scanRecords(
  fd: number,
  start: number,
  end: number,
  visit: (buf: Buffer, at: number, size: number, filePos: number) => boolean,
): Promise<{ pos: number; status: ScanEnd }> {
  let filePos = start;
  let buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(end - start, 4)));
  while (filePos < end) {
    const want = Math.min(buf.length, end - filePos);
    const got = await readAt(fd, buf, want, filePos);
    if (got <= 0) return { pos: filePos, status: 'incomplete' };
    let at = 0;
    for (;;) {
      const r = checkRecord(buf, at, got);
      if (r === CORRUPT) return { pos: filePos + at, status: 'corrupt' };
      if (r === INCOMPLETE) {
        const need = neededSize(buf, at, got);
        if (filePos + at + need > end) return { pos: filePos + at, status: 'incomplete' };
        if (at === 0 && got < want) return { pos: filePos, status: 'incomplete' }; // file shrank under us
        if (at === 0) {
          // the record does not fit the buffer: grow it (records may be up to MAX_RECORD_BYTES)
          buf = Buffer.allocUnsafe(Math.max(need, buf.length * 2));
        } else if (buf.length > CHUNK_BYTES && need <= CHUNK_BYTES) {
          buf = Buffer.allocUnsafe(CHUNK_BYTES);
        } else {
          // records handed to `visit` may keep views of the buffer: never overwrite it
          buf = Buffer.allocUnsafe(Math.max(buf.length, need));
        }
        break;
      }
      if (!visit(buf, at, r, filePos + at)) return { pos: filePos + at, status: 'stopped' };
      at += r;
      if (at >= got) {
        buf = Buffer.allocUnsafe(buf.length);
        break;
      }
    }
    filePos += at;
  }
  return { pos: filePos, status: 'end' };
}

/**
 * Recovers a segment after an unclean stop: keeps the longest prefix of valid records whose offsets run
 * contiguously from `base`, rebuilds its sparse index, and reports where valid data ends.
 */
export async function recoverSegment(
  fd: number,
  base: number,
  size: number,
): Promise<{ validBytes: number; nextOffset: number; index: SegmentIndex; status: ScanEnd }> {
  const index = new SegmentIndex();
  let expected = base;
  let lastIndexed = 0;
  const { pos, status } = await scanRecords(fd, 0, size, (buf, at, _size, filePos) => {
    if (recordOffset(buf, at) !== expected) return false;
    if (filePos - lastIndexed >= INDEX_INTERVAL_BYTES) {
      index.add(expected - base, filePos);
      lastIndexed = filePos;
    }
    expected++;
    return true;
  });
  return { validBytes: pos, nextOffset: expected, index, status };
}
