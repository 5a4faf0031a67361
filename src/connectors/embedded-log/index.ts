/**
 * The embedded event log: Tributary's default platform when no Kafka is configured. Topics are durable
 * append-only logs in a local directory, so a worker runs with no external server.
 *
 * ```
 * <dir>/.writer.lock                          pid of the writing process
 * <dir>/topics/<topic>/topic.json             partitions, creation time, configs
 * <dir>/topics/<topic>/<partition>/<base>.log  records (format.ts), named by the first offset, 20 digits
 * <dir>/topics/<topic>/<partition>/<base>.index sparse offset → position index
 * ```
 *
 * See docs/embedded-log.md for the record format and the fsync policies.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { ConfigSpec, ResolvedConfig } from '../../sdk/config.js';
import { TributaryError } from '../../sdk/errors.js';
import type { Logger } from '../../sdk/logger.js';
import type { Platform, TopicInfo, TopicSpec } from '../../sdk/platform.js';
import type { PlatformRecord, StoredRecord } from '../../sdk/record.js';
import type { RecordInput } from './format.js';
import { acquireWriterLock, type WriterLock } from './lock.js';
import { startChecksumThread } from './checksums.js';
import { closeCursor, PartitionLog, readFromCursor, type CursorState, type FsyncPolicy, type PartitionSource } from './partition-log.js';
import { Partitioner } from './partition.js';
import { closeFd, fstatSize, listSegments, scanRecords, SegmentIndex, segmentFileName } from './segment.js';
import { createTopicFiles, listTopicNames, partitionDir, readMetadata, validateTopicName, type TopicMetadata } from './topic.js';
import { recordOffset } from './format.js';
import * as fs from 'node:fs';

export type { FsyncPolicy } from './partition-log.js';
export type { TopicMetadata } from './topic.js';
export { validateTopicName } from './topic.js';
export { murmur2, partitionForKey, toPositive } from './partition.js';

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_FSYNC_INTERVAL_MS = 50;
export const DEFAULT_POLL_INTERVAL_MS = 200;
const MAX_PARTITIONS = 10_000;
const READ_BATCH = 512;

/** Options of `createEmbeddedLog`. */
export interface EmbeddedLogOptions {
  /** the log directory (created if missing), e.g. `<data-dir>/log` */
  dir: string;
  /**
   * When `send` resolves: `always` (default) after an fsync covering the batch; `interval` after the periodic
   * fsync (every `fsyncIntervalMs`) that covers it; `never` after the write to the OS only — unsafe, benchmarks only.
   */
  fsync?: FsyncPolicy;
  /** period of the fsync under policy `interval`; default 50 ms */
  fsyncIntervalMs?: number;
  /** partitions of topics created without an explicit count (`ensureTopic` or auto-created); default 1 */
  partitions?: number;
  /** a segment file is rolled before it would grow past this; default 64 MiB (1 KiB – 1 GiB) */
  segmentBytes?: number;
  /** `send` to a missing topic creates it (like Kafka's `auto.create.topics.enable`); default true */
  autoCreateTopics?: boolean;
  /**
   * Open without the writer lock, for reading a log another process writes (e.g. a CLI `PRINT`). Nothing is
   * recovered or truncated; `send`/`ensureTopic` throw.
   */
  readOnly?: boolean;
  /** how often a following `read` looks at the files for records written by another process; default 200 ms */
  pollIntervalMs?: number;
  logger?: Logger;
}

/** Options of `EmbeddedLog.read`, as in `Platform.read`. */
export interface ReadOptions {
  /** true: from the first stored record; false: only records appended after the call */
  fromBeginning: boolean;
  /** stop after this many records; unbounded (follow until aborted) when absent */
  limit?: number;
  signal?: AbortSignal;
  onRecord: (r: StoredRecord) => void;
}

/** The embedded log: a `Platform` plus inspection methods for tests and tools. */
export interface EmbeddedLog extends Platform {
  readonly kind: 'embedded';
  readonly dir: string;
  readonly readOnly: boolean;
  /**
   * Appends records, grouped per topic partition into one write each, in call order per partition. Resolves when
   * every record is durable per the fsync policy; rejects with `platform.write` (`retriable` when the failed part
   * left nothing in the log) or `config.invalid` (bad topic name, partition out of range, not a Buffer) — in the
   * latter case nothing of the call is written. Key, value and header buffers are read when the batch is written:
   * do not modify them until the promise settles.
   */
  send(records: PlatformRecord[]): Promise<void>;
  /** Creates the topic if missing with `spec.partitions` (default: the log's `partitions`); no-op if present. */
  ensureTopic(name: string, spec?: TopicSpec): Promise<void>;
  listTopics(): Promise<TopicInfo[]>;
  /**
   * Reads a topic across its partitions, merging partitions by timestamp among records available, and keeps
   * following new records until `limit` records were delivered or `signal` aborts (then it resolves). Throws
   * `platform.topic_missing` for an unknown topic. In the writing process only durable records are seen.
   */
  read(topic: string, opts: ReadOptions): Promise<void>;
  /** Up to `maxRecords` (default 1000) records of one partition from `fromOffset`, without waiting. */
  readPartition(topic: string, partition: number, fromOffset: number, maxRecords?: number): Promise<StoredRecord[]>;
  /** Per partition, the offset the next record will get (= number of records ever appended). */
  endOffsets(topic: string): Promise<number[]>;
  /** The topic's metadata, or undefined if it does not exist. */
  describeTopic(topic: string): Promise<TopicMetadata | undefined>;
  /** Waits until everything sent so far is acknowledged, fsyncing now whatever the policy. */
  flush(): Promise<void>;
  /** Writes out and fsyncs what is queued, closes files and releases the writer lock. Idempotent. */
  close(): Promise<void>;
}

interface TopicState {
  meta: TopicMetadata;
  parts: PartitionLog[];
  partitioner: Partitioner;
}

function invalid(message: string, hint?: string, key?: string): TributaryError {
  return new TributaryError('config.invalid', message, { hint, key });
}

function checkInt(name: string, v: number | undefined, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < min || v > max) throw invalid(`embedded log option ${name} must be a whole number from ${min} to ${max}, got ${String(v)}`, undefined, name);
  return v;
}

function isBytes(b: unknown): b is Uint8Array {
  return b instanceof Uint8Array;
}

/**
 * Opens (creating if needed) an embedded log in `opts.dir`. A writer takes the directory's lock — throws
 * `state.io` naming the other process if it is held — then recovers every partition: each active segment is
 * scanned, records checked by CRC, and a torn tail (from a crash mid-write) truncated, so offsets continue after
 * the last valid record.
 */
export async function createEmbeddedLog(opts: EmbeddedLogOptions): Promise<EmbeddedLog> {
  const fsync = opts.fsync ?? 'always';
  if (!['always', 'interval', 'never'].includes(fsync)) throw invalid(`embedded log fsync policy must be always, interval or never, got '${String(fsync)}'`, undefined, 'fsync');
  const o = {
    dir: path.resolve(opts.dir),
    fsync,
    fsyncIntervalMs: checkInt('fsyncIntervalMs', opts.fsyncIntervalMs, 1, 60_000, DEFAULT_FSYNC_INTERVAL_MS),
    partitions: checkInt('partitions', opts.partitions, 1, MAX_PARTITIONS, 1),
    segmentBytes: checkInt('segmentBytes', opts.segmentBytes, 1024, 1024 * 1024 * 1024, DEFAULT_SEGMENT_BYTES),
    autoCreateTopics: opts.autoCreateTopics ?? true,
    readOnly: opts.readOnly ?? false,
    pollIntervalMs: checkInt('pollIntervalMs', opts.pollIntervalMs, 1, 60_000, DEFAULT_POLL_INTERVAL_MS),
    logger: opts.logger,
  };
  const log = new EmbeddedLogImpl(o);
  await log.open();
  return log;
}

type ResolvedOptions = Required<Omit<EmbeddedLogOptions, 'logger'>> & { logger: Logger | undefined };

class EmbeddedLogImpl implements EmbeddedLog {
  readonly kind = 'embedded' as const;
  readonly dir: string;
  readonly readOnly: boolean;
  #o: ResolvedOptions;
  #lock: WriterLock | undefined;
  #topics = new Map<string, TopicState>();
  #creating = new Map<string, Promise<TopicState>>();
  /** sends waiting for topic creation; later sends queue behind so call order is kept */
  #gate: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #closed = new AbortController();

  constructor(o: ResolvedOptions) {
    this.#o = o;
    this.dir = o.dir;
    this.readOnly = o.readOnly;
  }

  async open(): Promise<void> {
    if (this.readOnly) return;
    try {
      await fsp.mkdir(this.dir, { recursive: true });
    } catch (e) {
      throw new TributaryError('state.io', `Cannot create the embedded log directory ${this.dir}: ${(e as Error).message}`, { cause: e });
    }
    this.#lock = acquireWriterLock(this.dir);
    void startChecksumThread(); // warm: large write cycles checksum there once it runs
    try {
      for (const name of await listTopicNames(this.dir)) {
        const meta = await readMetadata(this.dir, name);
        if (meta) this.#topics.set(name, await this.#openTopic(meta));
      }
    } catch (e) {
      await Promise.all([...this.#topics.values()].flatMap((t) => t.parts.map((p) => p.close())));
      this.#lock.release();
      if (e instanceof TributaryError) throw e;
      throw new TributaryError('state.io', `Cannot open the embedded log in ${this.dir}: ${(e as Error).message}`, { cause: e });
    }
    this.#o.logger?.debug('embedded log opened', { dir: this.dir, topics: this.#topics.size, fsync: this.#o.fsync });
  }

  async #openTopic(meta: TopicMetadata): Promise<TopicState> {
    const parts = await Promise.all(
      Array.from({ length: meta.partitions }, (_, p) =>
        PartitionLog.open({
          topic: meta.name,
          partition: p,
          dir: partitionDir(this.dir, meta.name, p),
          fsync: this.#o.fsync,
          fsyncIntervalMs: this.#o.fsyncIntervalMs,
          segmentBytes: this.#o.segmentBytes,
          logger: this.#o.logger,
        }),
      ),
    );
    return { meta, parts, partitioner: new Partitioner(meta.partitions) };
  }

  #checkOpen(): void {
    if (this.#closing) throw new TributaryError('platform.write', 'the embedded log is closed');
  }

  #checkWritable(): void {
    this.#checkOpen();
    if (this.readOnly) throw new TributaryError('platform.write', `the embedded log in ${this.dir} was opened read-only`);
  }

  async ensureTopic(name: string, spec: TopicSpec = {}): Promise<void> {
    this.#checkWritable();
    await this.#ensure(name, spec);
  }

  #ensure(name: string, spec: TopicSpec): Promise<TopicState> {
    validateTopicName(name);
    const have = this.#topics.get(name);
    if (have) return Promise.resolve(have);
    const inFlight = this.#creating.get(name);
    if (inFlight) return inFlight;
    const partitions = spec.partitions ?? this.#o.partitions;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
      return Promise.reject(invalid(`Invalid partition count ${String(partitions)} for topic '${name}'`, `use a whole number from 1 to ${MAX_PARTITIONS}`, 'partitions'));
    }
    const meta: TopicMetadata = { version: 1, name, partitions, createdAt: Date.now(), configs: { ...(spec.configs ?? {}) } };
    const p = (async () => {
      try {
        await createTopicFiles(this.dir, meta, this.#o.fsync !== 'never');
        const st = await this.#openTopic(meta);
        this.#topics.set(name, st);
        this.#o.logger?.info('embedded log: created topic', { topic: name, partitions });
        return st;
      } catch (e) {
        if (e instanceof TributaryError) throw e;
        throw new TributaryError('platform.write', `Cannot create topic '${name}' in ${this.dir}: ${(e as Error).message}`, { cause: e, retriable: true });
      } finally {
        this.#creating.delete(name);
      }
    })();
    this.#creating.set(name, p);
    return p;
  }

  send(records: PlatformRecord[]): Promise<void> {
    try {
      this.#checkWritable();
      if (records.length === 0) return Promise.resolve();
      // validate everything first: an invalid call writes nothing
      let missing: Set<string> | undefined;
      for (const r of records) {
        if (!this.#topics.has(r.topic)) {
          validateTopicName(r.topic);
          if (!this.#o.autoCreateTopics) {
            throw new TributaryError('platform.topic_missing', `Topic '${r.topic}' does not exist in the embedded log`, {
              hint: 'create it first (ensureTopic) or enable automatic topic creation',
            });
          }
          (missing ??= new Set()).add(r.topic);
        }
        if (r.key !== null && !isBytes(r.key)) throw invalid(`record key for topic '${r.topic}' must be a Buffer or null`);
        if (r.value !== null && !isBytes(r.value)) throw invalid(`record value for topic '${r.topic}' must be a Buffer or null`);
        if (r.headers !== undefined && r.headers !== null) {
          if (!Array.isArray(r.headers)) throw invalid(`record headers for topic '${r.topic}' must be an array`);
          for (const h of r.headers) {
            if (typeof h?.key !== 'string') throw invalid(`a record header key for topic '${r.topic}' is not a string`);
            if (h.value !== null && h.value !== undefined && typeof h.value !== 'string' && !isBytes(h.value)) throw invalid(`record header '${h.key}' for topic '${r.topic}' must be a Buffer, a string or null`);
          }
        }
      }
      if (missing === undefined && this.#gate === undefined) return this.#enqueue(records);
      const prev = this.#gate ?? Promise.resolve();
      const enqueued = prev
        .catch(() => undefined)
        .then(async () => {
          for (const t of missing ?? []) await this.#ensure(t, {});
          this.#checkWritable();
          return { acked: this.#enqueue(records) };
        });
      const gate = enqueued.then(
        () => undefined,
        () => undefined,
      );
      this.#gate = gate;
      void gate.then(() => {
        if (this.#gate === gate) this.#gate = undefined;
      });
      return enqueued.then((x) => x.acked);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Splits a call per partition and queues each part; synchronous, so call order is queue order. */
  #enqueue(records: PlatformRecord[]): Promise<void> {
    const n = records.length;
    // partitions are chosen for every record before anything is queued (an invalid partition queues nothing); the
    // common case, a whole call to one partition, needs no per-record bookkeeping
    let first: PartitionLog | undefined;
    let parts: PartitionLog[] | undefined;
    let inputs: RecordInput[] | undefined;
    for (let i = 0; i < n; i++) {
      const r = records[i]!;
      const t = this.#topics.get(r.topic)!;
      let p: number;
      try {
        p = t.partitioner.choose(r.partition, r.key);
      } catch (e) {
        throw invalid(`Cannot send to topic '${r.topic}': ${(e as Error).message}`, undefined, 'partition');
      }
      const part = t.parts[p]!;
      if (first === undefined) first = part;
      else if (part !== first && parts === undefined) parts = new Array<PartitionLog>(i).fill(first);
      if (parts !== undefined) parts.push(part);
      const ts = r.timestamp;
      if (!Number.isSafeInteger(ts)) {
        inputs ??= records.slice(0, i);
        inputs.push({ key: r.key, value: r.value, headers: r.headers, timestamp: Number.isFinite(ts) ? Math.floor(ts) : Date.now() });
      } else if (inputs !== undefined) inputs.push(r);
    }
    const list: RecordInput[] = inputs ?? records.slice();
    if (parts === undefined) return first!.append(list);
    const groups = new Map<PartitionLog, RecordInput[]>();
    for (let i = 0; i < n; i++) {
      let g = groups.get(parts[i]!);
      if (!g) groups.set(parts[i]!, (g = []));
      g.push(list[i]!);
    }
    return Promise.all([...groups].map(([part, l]) => part.append(l))).then(() => undefined);
  }

  async listTopics(): Promise<TopicInfo[]> {
    this.#checkOpen();
    if (!this.readOnly) {
      return [...this.#topics.values()].map((t) => ({ name: t.meta.name, partitions: t.meta.partitions, replicas: 1 })).sort((a, b) => (a.name < b.name ? -1 : 1));
    }
    const out: TopicInfo[] = [];
    for (const name of await listTopicNames(this.dir)) {
      const m = await readMetadata(this.dir, name).catch(() => undefined);
      if (m) out.push({ name, partitions: m.partitions, replicas: 1 });
    }
    return out;
  }

  async describeTopic(topic: string): Promise<TopicMetadata | undefined> {
    this.#checkOpen();
    validateTopicName(topic);
    if (!this.readOnly) {
      const t = this.#topics.get(topic);
      return t ? { ...t.meta, configs: { ...t.meta.configs } } : undefined;
    }
    return readMetadata(this.dir, topic);
  }

  /** Partition sources of a topic: in-memory for the writer, from the files for a read-only log. */
  async #sources(topic: string): Promise<PartitionSource[]> {
    validateTopicName(topic);
    if (!this.readOnly) {
      const t = this.#topics.get(topic);
      if (!t) throw missingTopic(topic);
      return t.parts.map((p) => ({
        topic,
        partition: p.partition,
        segments: async () => p.segments(),
        highWatermark: () => p.highWatermark,
      }));
    }
    const meta = await readMetadata(this.dir, topic);
    if (!meta) throw missingTopic(topic);
    return Array.from({ length: meta.partitions }, (_, partition) => fileSource(this.dir, topic, partition));
  }

  async readPartition(topic: string, partition: number, fromOffset: number, maxRecords = 1000): Promise<StoredRecord[]> {
    this.#checkOpen();
    const srcs = await this.#sources(topic);
    const src = srcs[partition];
    if (!src) throw invalid(`Topic '${topic}' has no partition ${partition}`, `it has ${srcs.length}`, 'partition');
    const cursor: CursorState = { offset: Math.max(0, fromOffset) };
    try {
      return await readFromCursor(src, cursor, maxRecords);
    } finally {
      await closeCursor(cursor);
    }
  }

  async endOffsets(topic: string): Promise<number[]> {
    this.#checkOpen();
    if (!this.readOnly) {
      const t = this.#topics.get(topic);
      if (!t) throw missingTopic(topic);
      return t.parts.map((p) => p.highWatermark);
    }
    const srcs = await this.#sources(topic);
    return Promise.all(srcs.map((s) => fileEndOffset(this.dir, topic, s.partition)));
  }

  async read(topic: string, opts: ReadOptions): Promise<void> {
    this.#checkOpen();
    const limit = opts.limit ?? Infinity;
    if (limit <= 0) return;
    const srcs = await this.#sources(topic);
    const starts = opts.fromBeginning ? srcs.map(() => 0) : await this.endOffsets(topic);
    const cursors: CursorState[] = starts.map((offset) => ({ offset }));
    const bufs: StoredRecord[][] = srcs.map(() => []);
    const heads = srcs.map(() => 0);
    const signal = opts.signal;
    const closed = this.#closed.signal;
    let delivered = 0;
    // wake-ups: appends in this process, a poll timer for other processes' writes, abort, close
    let wake: (() => void) | undefined;
    const poke = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const unsubs: Array<() => void> = [];
    if (!this.readOnly) for (const p of this.#topics.get(topic)!.parts) unsubs.push(p.onAppend(poke));
    signal?.addEventListener('abort', poke);
    closed.addEventListener('abort', poke);
    try {
      while (delivered < limit && !signal?.aborted && !closed.aborted) {
        let available = 0;
        for (let i = 0; i < srcs.length; i++) {
          if (heads[i]! >= bufs[i]!.length) {
            bufs[i] = await readFromCursor(srcs[i]!, cursors[i]!, READ_BATCH);
            heads[i] = 0;
          }
          if (heads[i]! < bufs[i]!.length) available++;
        }
        if (available === 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(poke, this.#o.pollIntervalMs);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
            if (signal?.aborted || closed.aborted) poke();
          });
          continue;
        }
        // merge by timestamp among partitions holding records, until one of them runs dry
        while (delivered < limit && !signal?.aborted) {
          let best = -1;
          for (let i = 0; i < srcs.length; i++) {
            if (heads[i]! >= bufs[i]!.length) continue;
            if (best < 0 || bufs[i]![heads[i]!]!.timestamp < bufs[best]![heads[best]!]!.timestamp) best = i;
          }
          if (best < 0) break;
          const r = bufs[best]![heads[best]!++]!;
          opts.onRecord(r);
          delivered++;
          if (heads[best]! >= bufs[best]!.length) break;
        }
      }
    } finally {
      for (const u of unsubs) u();
      signal?.removeEventListener('abort', poke);
      closed.removeEventListener('abort', poke);
      await Promise.all(cursors.map(closeCursor));
    }
  }

  async flush(): Promise<void> {
    this.#checkOpen();
    await this.#gate;
    await Promise.all([...this.#topics.values()].flatMap((t) => t.parts.map((p) => p.flush())));
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed.abort();
      await this.#gate;
      await Promise.all([...this.#creating.values()].map((p) => p.catch(() => undefined)));
      const results = await Promise.allSettled([...this.#topics.values()].flatMap((t) => t.parts.map((p) => p.close())));
      this.#lock?.release();
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw new TributaryError('platform.write', `Closing the embedded log in ${this.dir} failed: ${String(failed.reason)}`, { cause: failed.reason });
    })();
    return this.#closing;
  }
}

function missingTopic(topic: string): TributaryError {
  return new TributaryError('platform.topic_missing', `Topic '${topic}' does not exist in the embedded log`, {
    hint: 'SHOW TOPICS lists the topics',
  });
}

/** A partition read straight from its files (another process writes it). */
function fileSource(root: string, topic: string, partition: number): PartitionSource {
  const dir = partitionDir(root, topic, partition);
  return {
    topic,
    partition,
    highWatermark: () => undefined,
    segments: async () =>
      (await listSegments(dir)).map((base) => {
        const file = path.join(dir, segmentFileName(base));
        return {
          base,
          file,
          index: async () => {
            const size = await fsp.stat(file).then((s) => s.size, () => 0);
            return SegmentIndex.load(dir, base, size);
          },
        };
      }),
  };
}

/** End offset of a partition from its files: one past the last valid record of the last segment. */
async function fileEndOffset(root: string, topic: string, partition: number): Promise<number> {
  const dir = partitionDir(root, topic, partition);
  const bases = await listSegments(dir);
  if (bases.length === 0) return 0;
  const base = bases[bases.length - 1]!;
  const file = path.join(dir, segmentFileName(base));
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return base;
  }
  try {
    const size = await fstatSize(fd);
    const idx = await SegmentIndex.load(dir, base, size);
    let end = base;
    for (const start of [idx.lookup(Number.MAX_SAFE_INTEGER), 0]) {
      let found = false;
      await scanRecords(fd, start, size, (buf, at) => {
        end = recordOffset(buf, at) + 1;
        found = true;
        return true;
      });
      if (found || start === 0) break;
    }
    return end;
  } finally {
    await closeFd(fd);
  }
}

/** Worker configuration keys of the embedded log (Kafka broker names where one exists). */
export const embeddedLogConfigSpec: ConfigSpec = {
  name: 'embedded event log',
  keys: [
    {
      name: 'log.fsync',
      type: 'string',
      default: 'always',
      oneOf: ['always', 'interval', 'never'],
      importance: 'high',
      doc: 'When a write is acknowledged: always = after an fsync covering it; interval = after the periodic fsync covering it; never = without fsync (unsafe: a machine crash loses acknowledged records)',
    },
    { name: 'log.fsync.interval.ms', type: 'int', default: DEFAULT_FSYNC_INTERVAL_MS, min: 1, max: 60_000, importance: 'low', doc: 'Period of the fsync under log.fsync=interval' },
    { name: 'num.partitions', type: 'int', default: 1, min: 1, max: MAX_PARTITIONS, importance: 'medium', doc: 'Partitions of a topic created without an explicit count' },
    { name: 'log.segment.bytes', type: 'int', default: DEFAULT_SEGMENT_BYTES, min: 1024, max: 1024 * 1024 * 1024, importance: 'low', doc: 'Size at which a partition rolls to a new segment file' },
  ],
};

/** `createEmbeddedLog` options from resolved `embeddedLogConfigSpec` values. */
export function embeddedLogOptions(dir: string, cfg: ResolvedConfig, logger?: Logger): EmbeddedLogOptions {
  return {
    dir,
    fsync: cfg['log.fsync'] as FsyncPolicy,
    fsyncIntervalMs: cfg['log.fsync.interval.ms'] as number,
    partitions: cfg['num.partitions'] as number,
    segmentBytes: cfg['log.segment.bytes'] as number,
    ...(logger ? { logger } : {}),
  };
}
