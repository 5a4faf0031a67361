/**
 * One partition of a topic: its segment files, the writer (serialized, group-committed appends with fsync per
 * policy) and cursors that read it.
 *
 * Ack invariant, enforced in `#writeCycle`/`#sync`: an `append` promise resolves only after the fsync that covers
 * its bytes (policy `always` and `interval`), and `highWatermark` — the bound readers in this process see — moves
 * at the same moment, so nothing is readable here before it is durable.
 */
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { TributaryError } from '../../sdk/errors.js';
import type { Logger } from '../../sdk/logger.js';
import type { StoredRecord } from '../../sdk/record.js';
import { checkRecord, decodeRecord, encodedSize, encodeInto, MAGIC, MAGIC_SHARED, recordMagic, recordOffset, setRecordOffset, SHARED_EXTRA, sharedPrefix, valueStart, type RecordInput } from './format.js';
import { fillChecksums } from './checksums.js';
import {
  closeFd,
  fdatasync,
  fstatSize,
  ftruncate,
  INDEX_INTERVAL_BYTES,
  indexFileName,
  listSegments,
  recoverSegment,
  scanRecords,
  SegmentIndex,
  segmentFileName,
  syncDir,
  writeFully,
} from './segment.js';

/** When an append is acknowledged. See docs/embedded-log.md. */
export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface PartitionLogOptions {
  topic: string;
  partition: number;
  dir: string;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  segmentBytes: number;
  logger?: Logger | undefined;
}

interface Segment {
  base: number;
  /** bytes of valid, written data */
  size: number;
  /** the active segment's sparse index; null for a closed segment (its index file is read when a reader needs it) */
  index: SegmentIndex | null;
}

interface Pending {
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Appends framed and waiting for their write cycle: records back to back in a write buffer, their offsets and
 * checksums filled in when the cycle runs (offsets are only known then). Framing at `append` means the caller's
 * records are not kept: a write queue holds one buffer, not thousands of objects that outlive a garbage collection.
 */
interface Stage {
  /** a whole write buffer (pooled) */
  buf: Buffer;
  used: number;
  pendings: Pending[];
  /** the record later values of this write may share a prefix with (see format.ts), and the prefix its writer declared */
  base: { at: number; valueAt: number; valueLen: number; prefix: Uint8Array | undefined } | null;
  /** where the last shared prefix ended (a hint for the next comparison) */
  lastPrefix: number;
}

/** values shorter than this, or sharing less with the base, are stored whole */
const SHARE_MIN = 64;

/** smallest write buffer a stage starts with */
const STAGE_MIN_BYTES = 16 * 1024;

/** Upper bound of bytes coalesced into one write (one batch may exceed it alone). */
const MAX_CYCLE_BYTES = 8 * 1024 * 1024;

/**
 * Write buffers reused across write cycles (of every partition of the process): a fresh multi-megabyte buffer per
 * cycle costs page faults on first touch and external-memory pressure that triggers full garbage collections. A
 * cycle takes a buffer for the duration of its write; at most POOL_MAX buffers of at most POOL_BUF_MAX bytes are
 * kept, so the memory held stays bounded whatever the number of partitions.
 */
const POOL_MAX = 4;
const POOL_BUF_MAX = 2 * MAX_CYCLE_BYTES;
const writeBuffers: Buffer[] = [];

function takeWriteBuffer(size: number): Buffer {
  for (let i = writeBuffers.length - 1; i >= 0; i--) {
    if (writeBuffers[i]!.length >= size) return writeBuffers.splice(i, 1)[0]!;
  }
  if (size > POOL_BUF_MAX) return Buffer.allocUnsafeSlow(size);
  // grow in steps so that a few sizes serve every cycle (each its own memory, so that it can go to the checksum thread)
  let n = STAGE_MIN_BYTES;
  while (n < size) n *= 2;
  return Buffer.allocUnsafeSlow(Math.min(n, POOL_BUF_MAX));
}

function returnWriteBuffer(buf: Buffer): void {
  if (buf.length > POOL_BUF_MAX) return;
  if (writeBuffers.length >= POOL_MAX) {
    // keep the larger ones
    let min = 0;
    for (let i = 1; i < writeBuffers.length; i++) if (writeBuffers[i]!.length < writeBuffers[min]!.length) min = i;
    if (writeBuffers[min]!.length >= buf.length) return;
    writeBuffers.splice(min, 1);
  }
  writeBuffers.push(buf);
}

function open(file: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) => fs.open(file, flags, 0o644, (err, fd) => (err ? reject(err) : resolve(fd))));
}

function writeError(what: string, cause: unknown, retriable: boolean): TributaryError {
  return new TributaryError('platform.write', `${what}: ${(cause as Error)?.message ?? String(cause)}`, {
    retriable,
    cause,
    hint: retriable ? undefined : 'restart the worker: the embedded log truncates any partial write when it opens',
  });
}

/** The writable side of one partition, owned by the process holding the log's writer lock. */
export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly dir: string;
  #opts: PartitionLogOptions;
  #segments: Segment[] = [];
  #fd = -1;
  #indexFd = -1;
  /** index entries of the active segment already in its index file */
  #indexWritten = 0;
  #lastIndexedPos = 0;
  /** next offset to assign */
  #next = 0;
  /** records below this offset are durable (per policy) and visible to readers */
  #hw = 0;
  /** bytes of the active segment known durable */
  #syncedSize = 0;
  /** appends framed and waiting to be written, oldest first; only the last one takes more appends */
  #stages: Stage[] = [];
  /** bytes of the last write cycle (the size a new stage starts with) */
  #lastCycleBytes = 0;
  /** record sizes of the append being framed (reused) */
  #sizes = new Int32Array(1024);
  /** written, waiting for the interval fsync */
  #unsynced: Pending[] = [];
  #running = false;
  #idle: Array<() => void> = [];
  #syncTimer: NodeJS.Timeout | undefined;
  #syncDue = false;
  #broken: TributaryError | undefined;
  #closed = false;
  #listeners = new Set<() => void>();

  private constructor(opts: PartitionLogOptions) {
    this.#opts = opts;
    this.topic = opts.topic;
    this.partition = opts.partition;
    this.dir = opts.dir;
  }

  /**
   * Opens a partition for writing: recovers the active (last) segment — keeps the longest valid prefix, truncates a
   * torn tail — and continues offsets after the last valid record.
   */
  static async open(opts: PartitionLogOptions): Promise<PartitionLog> {
    const log = new PartitionLog(opts);
    await log.#open();
    return log;
  }

  async #open(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    const bases = await listSegments(this.dir);
    for (let i = 0; i < bases.length - 1; i++) {
      const base = bases[i]!;
      const size = (await fsp.stat(path.join(this.dir, segmentFileName(base)))).size;
      this.#segments.push({ base, size, index: null });
    }
    if (bases.length === 0) {
      await this.#createSegment(0);
      return;
    }
    const base = bases[bases.length - 1]!;
    const file = path.join(this.dir, segmentFileName(base));
    this.#fd = await open(file, 'r+');
    const size = await fstatSize(this.#fd);
    const rec = await recoverSegment(this.#fd, base, size);
    if (rec.validBytes < size) {
      this.#opts.logger?.warn('embedded log: truncating invalid tail of segment', {
        topic: this.topic,
        partition: this.partition,
        segment: segmentFileName(base),
        validBytes: rec.validBytes,
        droppedBytes: size - rec.validBytes,
        reason: rec.status,
      });
      await ftruncate(this.#fd, rec.validBytes);
      await fdatasync(this.#fd);
    }
    // the sparse index of the active segment is always rebuilt from the scan
    this.#indexFd = await open(path.join(this.dir, indexFileName(base)), 'w');
    const ib = rec.index.encode();
    if (ib.length) await writeFully(this.#indexFd, ib, 0);
    this.#indexWritten = rec.index.length;
    this.#lastIndexedPos = rec.index.length ? rec.index.lookup(Number.MAX_SAFE_INTEGER) : 0;
    this.#segments.push({ base, size: rec.validBytes, index: rec.index });
    this.#next = rec.nextOffset;
    this.#hw = rec.nextOffset;
    this.#syncedSize = rec.validBytes;
  }

  async #createSegment(base: number): Promise<void> {
    const file = path.join(this.dir, segmentFileName(base));
    this.#fd = await open(file, 'wx+');
    this.#indexFd = await open(path.join(this.dir, indexFileName(base)), 'w');
    this.#indexWritten = 0;
    this.#lastIndexedPos = 0;
    this.#syncedSize = 0;
    this.#segments.push({ base, size: 0, index: new SegmentIndex() });
    if (this.#opts.fsync !== 'never') await syncDir(this.dir);
  }

  get #active(): Segment {
    return this.#segments[this.#segments.length - 1]!;
  }

  /** Offset the next appended record gets. */
  get nextOffset(): number {
    return this.#next;
  }

  /** End of what readers in this process see: every record below it is durable per the fsync policy. */
  get highWatermark(): number {
    return this.#hw;
  }

  /** Offset of the first record still stored. */
  get startOffset(): number {
    return this.#segments[0]!.base;
  }

  /** Segments as readers need them: base offset, file path, index. */
  segments(): ReadonlyArray<{ base: number; file: string; index: SegmentIndex | (() => Promise<SegmentIndex>) }> {
    return this.#segments.map((s) => ({
      base: s.base,
      file: path.join(this.dir, segmentFileName(s.base)),
      index: s.index ?? (() => SegmentIndex.load(this.dir, s.base, s.size)),
    }));
  }

  /** Calls `fn` after the high watermark moves; returns an unsubscribe function. */
  onAppend(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /**
   * Appends records in order, after every append called before. Resolves once they are durable per the fsync
   * policy; rejects with `platform.write` (retriable when nothing of the batch remains in the log).
   */
  append(records: RecordInput[]): Promise<void> {
    if (this.#closed) return Promise.reject(new TributaryError('platform.write', 'the embedded log is closed'));
    if (this.#broken) return Promise.reject(this.#broken);
    const n = records.length;
    if (n === 0) return Promise.resolve();
    let sizes = this.#sizes;
    if (sizes.length < n) sizes = this.#sizes = new Int32Array(Math.max(n, sizes.length * 2));
    let size = 0;
    let st: Stage | undefined;
    let from = 0;
    let base0: Stage['base'] = null;
    try {
      for (let i = 0; i < n; i++) size += sizes[i] = encodedSize(records[i]!);
      st = this.#stageFor(size); // room for every record whole; shared prefixes take less
      from = st.used;
      base0 = st.base;
      let at = from;
      const buf = st.buf;
      for (let i = 0; i < n; i++) {
        const r = records[i]!;
        const v = r.value;
        const base = st.base;
        let shared = 0;
        if (v !== null && v.length >= SHARE_MIN && base !== null && v instanceof Buffer) {
          // a prefix both values were declared to start with needs no comparison (PlatformRecord.valuePrefix)
          const pre = r.valuePrefix;
          shared = pre !== undefined && pre === base.prefix && pre.length >= SHARE_MIN ? pre.length : sharedPrefix(v, buf, base.valueAt, base.valueLen, st.lastPrefix);
        }
        if (shared >= SHARE_MIN) {
          at = encodeInto(buf, at, r, 0, sizes[i]! - shared + SHARED_EXTRA, false, at - base!.at, shared);
          st.lastPrefix = shared;
        } else {
          if (v !== null && v.length >= SHARE_MIN) {
            const pre = r.valuePrefix;
            st.base = { at, valueAt: at + valueStart(r), valueLen: v.length, prefix: pre !== undefined && pre.length <= v.length ? pre : undefined };
            st.lastPrefix = v.length;
          }
          at = encodeInto(buf, at, r, 0, sizes[i]!, false);
        }
      }
      st.used = at;
    } catch (e) {
      // inputs are validated by send(); this is a last line of defence, nothing of the call is queued
      if (st) {
        st.used = from;
        st.base = base0; // a base this call set lies in what was just given back
      }
      return Promise.reject(writeError(`cannot encode a record for ${this.topic}-${this.partition}`, e, false));
    }
    const stage = st;
    return new Promise<void>((resolve, reject) => {
      stage.pendings.push({ resolve, reject });
      this.#kick();
    });
  }

  /** The stage an append of `size` bytes goes to: the open one while it has room in one cycle, else a new one. */
  #stageFor(size: number): Stage {
    let st = this.#stages[this.#stages.length - 1];
    if (st === undefined || (st.used > 0 && st.used + size > MAX_CYCLE_BYTES)) {
      st = { buf: takeWriteBuffer(Math.max(size, Math.min(this.#lastCycleBytes, MAX_CYCLE_BYTES))), used: 0, pendings: [], base: null, lastPrefix: 0 };
      this.#stages.push(st);
    } else if (st.used + size > st.buf.length) {
      const grown = takeWriteBuffer(Math.max(st.used + size, Math.min(st.buf.length * 2, MAX_CYCLE_BYTES)));
      st.buf.copy(grown, 0, 0, st.used);
      returnWriteBuffer(st.buf);
      st.buf = grown;
    }
    return st;
  }

  #kick(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#run();
  }

  async #run(): Promise<void> {
    for (;;) {
      try {
        // a due fsync goes before further writes, so a steady stream of sends cannot starve acknowledgements
        if (this.#unsynced.length > 0 && this.#syncDue) await this.#sync();
        else if (this.#stages.length > 0) await this.#writeCycle();
        else if (this.#unsynced.length > 0 && this.#closed) await this.#sync();
        else break;
      } catch (e) {
        // #writeCycle and #sync settle their own promises; anything here is a bug, keep the loop alive
        this.#opts.logger?.error('embedded log: writer loop error', { topic: this.topic, partition: this.partition, error: String(e) });
      }
    }
    this.#running = false;
    const idle = this.#idle;
    this.#idle = [];
    for (const f of idle) f();
  }

  async #writeCycle(): Promise<void> {
    if (this.#broken) {
      for (const st of this.#stages.splice(0)) {
        this.#fail(st.pendings, this.#broken);
        returnWriteBuffer(st.buf);
      }
      return;
    }
    // the oldest stage; appends from now on go to a new one
    const stage = this.#stages.shift()!;
    const batch = stage.pendings;
    const total = stage.used;
    if (batch.length === 0) {
      returnWriteBuffer(stage.buf); // only a refused append touched it
      return;
    }
    this.#lastCycleBytes = total;
    let pooled = stage.buf;
    try {
      if (this.#active.size > 0 && this.#active.size + total > this.#opts.segmentBytes) await this.#roll();
    } catch (e) {
      returnWriteBuffer(pooled);
      this.#fail(batch, writeError(`cannot roll a segment of ${this.topic}-${this.partition}`, e, false));
      return;
    }
    const seg = this.#active;
    const start = seg.size;
    let buf = pooled.subarray(0, total);
    const index = seg.index!;
    const indexBefore = index.length;
    let lastIndexed = this.#lastIndexedPos;
    let at = 0;
    let offset = this.#next;
    // offsets are assigned now, in write order
    while (at < total) {
      const filePos = start + at;
      if (filePos - lastIndexed >= INDEX_INTERVAL_BYTES) {
        index.add(offset - seg.base, filePos);
        lastIndexed = filePos;
      }
      setRecordOffset(buf, at, offset);
      at += 4 + buf.readUInt32BE(at);
      offset++;
    }
    // checksums: in the worker thread for large cycles (the buffer is handed over and comes back), else here
    const filled = fillChecksums(pooled, total);
    if (filled) {
      try {
        pooled = await filled;
        buf = pooled.subarray(0, total);
      } catch (e) {
        // the buffer went down with the thread; nothing was written, a resend is safe
        index.truncate(start);
        this.#fail(batch, writeError(`cannot checksum records for ${this.topic}-${this.partition}`, e, true));
        return;
      }
    }
    const policy = this.#opts.fsync;
    try {
      try {
        await writeFully(this.#fd, buf, start);
      } finally {
        returnWriteBuffer(pooled);
      }
      if (policy === 'always') await fdatasync(this.#fd);
    } catch (e) {
      await this.#undo(start, batch, e, false);
      return;
    }
    seg.size = start + total;
    this.#next = offset;
    this.#lastIndexedPos = lastIndexed;
    if (index.length > indexBefore) {
      // advisory; a failure here only costs readers a longer scan
      try {
        await writeFully(this.#indexFd, index.encode(this.#indexWritten), this.#indexWritten * 8);
        this.#indexWritten = index.length;
      } catch (e) {
        this.#opts.logger?.warn('embedded log: cannot write index entries', { topic: this.topic, partition: this.partition, error: String(e) });
      }
    }
    if (policy === 'interval') {
      this.#unsynced.push(...batch);
      this.#armSyncTimer();
      return;
    }
    this.#syncedSize = seg.size;
    this.#publish(offset);
    for (const p of batch) p.resolve();
  }

  /**
   * After a failed write or fsync: cuts the active segment back to `size` and rejects `rejected` (retriable, as
   * none of their bytes remain). `resetNext` also moves the next offset back to the high watermark (after a failed
   * interval fsync, when written-but-unsynced records are dropped). If even that fails the partition is unusable.
   */
  async #undo(size: number, rejected: Pending[], cause: unknown, resetNext: boolean): Promise<void> {
    try {
      await ftruncate(this.#fd, size);
      await fdatasync(this.#fd);
      this.#active.size = size;
      this.#active.index!.truncate(size);
      if (resetNext) this.#next = this.#hw;
      this.#fail(rejected, writeError(`cannot write to ${this.topic}-${this.partition}`, cause, true));
    } catch (e) {
      this.#broken = writeError(`the embedded log partition ${this.topic}-${this.partition} is unusable after a failed write`, e, false);
      this.#fail(rejected, this.#broken);
    }
  }

  #fail(batch: Pending[], err: TributaryError): void {
    for (const p of batch) p.reject(err);
  }

  #publish(hw: number): void {
    this.#hw = hw;
    for (const f of this.#listeners) {
      try {
        f();
      } catch {
        /* a listener's problem */
      }
    }
  }

  #armSyncTimer(): void {
    if (this.#syncTimer !== undefined) return;
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined;
      this.#syncDue = true;
      this.#kick();
    }, this.#opts.fsyncIntervalMs);
  }

  /** fsyncs the active segment and acknowledges everything written before. Runs inside the writer loop. */
  async #sync(): Promise<void> {
    this.#syncDue = false;
    if (this.#syncTimer !== undefined) {
      clearTimeout(this.#syncTimer);
      this.#syncTimer = undefined;
    }
    const covered = this.#unsynced;
    if (covered.length === 0 && this.#syncedSize === this.#active.size) return;
    const size = this.#active.size;
    const next = this.#next;
    try {
      await fdatasync(this.#fd);
    } catch (e) {
      this.#unsynced = [];
      await this.#undo(this.#syncedSize, covered, e, true);
      return;
    }
    this.#unsynced = [];
    this.#syncedSize = size;
    this.#publish(next);
    for (const p of covered) p.resolve();
  }

  async #roll(): Promise<void> {
    if (this.#opts.fsync === 'interval') {
      await this.#sync();
      if (this.#broken) throw this.#broken;
    } else if (this.#opts.fsync === 'never') this.#syncedSize = this.#active.size;
    if (this.#opts.fsync !== 'never') await fdatasync(this.#indexFd);
    await closeFd(this.#fd);
    await closeFd(this.#indexFd);
    this.#fd = -1;
    this.#indexFd = -1;
    // a closed segment's index lives in its file only: memory does not grow with the number of segments
    this.#active.index = null;
    this.#opts.logger?.debug('embedded log: rolling segment', { topic: this.topic, partition: this.partition, base: this.#next });
    await this.#createSegment(this.#next);
  }

  /**
   * Waits until every append queued so far has been written and acknowledged, forcing the interval fsync now; with
   * policy `never` it fsyncs too.
   */
  async flush(): Promise<void> {
    do {
      this.#syncDue = true;
      this.#kick();
      await this.#whenIdle();
    } while (this.#unsynced.length > 0 && !this.#broken);
    if (this.#opts.fsync === 'never' && this.#fd >= 0) {
      try {
        await fdatasync(this.#fd);
      } catch (e) {
        throw writeError(`cannot fsync ${this.topic}-${this.partition}`, e, true);
      }
    }
  }

  #whenIdle(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Writes out everything queued, fsyncs, closes the files. Appends after close are rejected. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#kick();
    await this.#whenIdle();
    if (this.#syncTimer !== undefined) clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
    if (this.#fd >= 0) {
      try {
        await fdatasync(this.#fd);
      } catch (e) {
        this.#opts.logger?.warn('embedded log: fsync at close failed', { topic: this.topic, partition: this.partition, error: String(e) });
      }
      await closeFd(this.#fd).catch(() => undefined);
    }
    if (this.#indexFd >= 0) await closeFd(this.#indexFd).catch(() => undefined);
    this.#fd = -1;
    this.#indexFd = -1;
    this.#listeners.clear();
  }
}

/** Where a reader of one partition is. */
export interface CursorState {
  /** next offset wanted */
  offset: number;
  segBase?: number;
  pos?: number;
  fd?: number;
}

/** What a partition reader needs to know about the partition: its segments and, in the writer's process, its bound. */
export interface PartitionSource {
  topic: string;
  partition: number;
  /** current segments, ascending by base */
  segments(): Promise<ReadonlyArray<{ base: number; file: string; index: SegmentIndex | (() => Promise<SegmentIndex>) }>>;
  /** exclusive offset bound; undefined = up to the last valid record in the files */
  highWatermark(): number | undefined;
}

/**
 * Reads up to `max` records at or after `cursor.offset` and advances the cursor. Returns fewer (or none) when
 * the partition has no more for now. The cursor keeps a file open: call `closeCursor` when done.
 */
export async function readFromCursor(src: PartitionSource, cursor: CursorState, max: number): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  const hw = src.highWatermark();
  if (hw !== undefined && cursor.offset >= hw) return out;
  let segs = await src.segments();
  if (segs.length === 0) return out;
  for (let guard = 0; guard < 10_000 && out.length < max; guard++) {
    // position the cursor
    if (cursor.segBase === undefined || cursor.pos === undefined || cursor.fd === undefined) {
      let i = segs.length - 1;
      while (i > 0 && segs[i]!.base > cursor.offset) i--;
      const seg = segs[i]!;
      if (cursor.offset < seg.base) cursor.offset = seg.base; // older data is gone
      let fd: number;
      try {
        fd = await open(seg.file, 'r');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return out;
        throw e;
      }
      const idx = typeof seg.index === 'function' ? await seg.index() : seg.index;
      cursor.fd = fd;
      cursor.segBase = seg.base;
      cursor.pos = idx.lookup(cursor.offset - seg.base);
    }
    const fd = cursor.fd;
    const size = await fstatSize(fd);
    const startPos = cursor.pos;
    const bases: BaseCache = { pos: -1, value: null };
    let reset = false;
    const { pos, status } = await scanRecords(fd, startPos, size, (buf, at, _sz, filePos) => {
      const off = recordOffset(buf, at);
      if (hw !== undefined && off >= hw) return false;
      if (off < cursor.offset) {
        return true;
      }
      if (off > cursor.offset && filePos === startPos && startPos !== 0 && out.length === 0) {
        // the index pointed past what we want: start the segment over
        reset = true;
        return false;
      }
      if (out.length >= max) return false;
      let r: ReturnType<typeof decodeRecord>;
      if (recordMagic(buf, at) !== MAGIC_SHARED) r = decodeRecord(buf, at);
      else {
        try {
          r = decodeRecord(buf, at, (d) => baseValue(fd, buf, at, filePos, d, bases));
        } catch (e) {
          // a reader in another process may see a write the writer is still cutting back: stop here for now
          if (hw === undefined && e instanceof RangeError) return false;
          throw e;
        }
      }
      out.push({ topic: src.topic, partition: src.partition, offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers });
      cursor.offset = r.offset + 1;
      return true;
    });
    if (reset || (status === 'corrupt' && pos === startPos && startPos !== 0)) {
      // the sparse index pointed somewhere unusable: scan the segment from its start
      cursor.pos = 0;
      continue;
    }
    cursor.pos = pos;
    if (status === 'stopped') break;
    if (hw !== undefined && cursor.offset >= hw) break;
    // end of this segment's data for now: move on if a later segment exists
    segs = await src.segments();
    const nextSeg = segs.find((s) => s.base > cursor.segBase!);
    if (nextSeg === undefined) break;
    if (status !== 'end' && cursor.offset < nextSeg.base) {
      // invalid bytes at the end of a closed segment (only after a crash of the writer with fsync=never)
      break;
    }
    await closeFd(fd).catch(() => undefined);
    cursor.fd = undefined;
    cursor.segBase = undefined;
    cursor.pos = undefined;
    if (cursor.offset < nextSeg.base) cursor.offset = nextSeg.base;
  }
  return out;
}

/** the base value a reader looked up last (the records of one write share it) */
interface BaseCache {
  pos: number;
  value: Buffer | null;
}

/**
 * The value of the base record `distance` bytes before the shared-prefix record at `at` of `buf` (file position
 * `filePos`): from the buffer when the base is in it (the scan checked it already), else read from the file and
 * checked here. Null when it is not a whole, valid record with a value.
 */
function baseValue(fd: number, buf: Buffer, at: number, filePos: number, distance: number, cache: BaseCache): Buffer | null {
  const pos = filePos - distance;
  if (distance <= 0 || pos < 0) return null;
  if (cache.pos === pos) return cache.value;
  cache.pos = pos;
  cache.value = null;
  if (distance <= at) {
    // in the buffer (the scan checked it already; the scan never overwrites a buffer it handed out)
    const b = at - distance;
    if (recordMagic(buf, b) === MAGIC) cache.value = decodeRecord(buf, b).value;
    return cache.value;
  }
  const head = Buffer.allocUnsafe(4);
  if (fs.readSync(fd, head, 0, 4, pos) !== 4) return null;
  const len = head.readUInt32BE(0);
  if (len > distance) return null;
  const rec = Buffer.allocUnsafe(4 + len);
  if (fs.readSync(fd, rec, 0, rec.length, pos) !== rec.length) return null;
  if (checkRecord(rec, 0, rec.length) <= 0 || recordMagic(rec, 0) !== MAGIC) return null;
  cache.value = decodeRecord(rec, 0).value;
  return cache.value;
}

export async function closeCursor(cursor: CursorState): Promise<void> {
  if (cursor.fd !== undefined) await closeFd(cursor.fd).catch(() => undefined);
  cursor.fd = undefined;
  cursor.segBase = undefined;
  cursor.pos = undefined;
}
