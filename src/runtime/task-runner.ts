import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { ResolvedConfig } from '../sdk/config.js';
import type { Converter, ConverterPlugin, ConverterThreadSpec } from '../sdk/converter.js';
import { TributaryError, isRetriable, traceOf, type ErrorCode } from '../sdk/errors.js';
import type { Logger } from '../sdk/logger.js';
import type { CommittedOffset, Platform, TopicSpec, TransactionalWriter } from '../sdk/platform.js';
import { isRawStruct, partitionKey, type Header, type PlatformRecord, type SourceOffset, type SourcePartition, type SourceRecord } from '../sdk/record.js';
import type { Schema } from '../sdk/schema.js';
import type { SourcePlugin, SourceTask } from '../sdk/source.js';
import type { ConnectorState, OffsetStore } from '../sdk/state.js';
import { AckTracker } from './ack-tracker.js';
import { backoffDelay, retry, sleep } from './retry.js';
import { noTransforms } from './plugins.js';

export interface TaskLimits {
  /** records polled but not yet acknowledged by the platform */
  maxInflightRecords: number;
  /** converted bytes (keys + values) not yet acknowledged */
  maxInflightBytes: number;
  /** how often acknowledged offsets are committed */
  offsetFlushMs: number;
  /** how long stop() waits for in-flight records to be acknowledged */
  shutdownTimeoutMs: number;
}

export interface TaskRunnerOptions {
  connector: string;
  taskId: number;
  plugin: SourcePlugin;
  config: ResolvedConfig;
  platform: Platform;
  offsets: OffsetStore;
  keyConverter: Converter;
  valueConverter: Converter;
  transform: (r: SourceRecord) => SourceRecord | null;
  /** errors.tolerance=all: records that fail in transforms/converters are skipped and logged */
  tolerateErrors: boolean;
  topicSpec: (topic: string) => TopicSpec | undefined;
  limits: TaskLimits;
  logger: Logger;
  onTopic?: (topic: string) => void;
  onStateChange?: () => void;
  /**
   * Exactly-once: every batch is written with the offsets that cover it in one platform transaction, and the
   * task resumes from the offsets committed that way (KIP-618, transaction.boundary=poll).
   */
  transactional?: TransactionalWriter;
  /** called when a batch is acknowledged: records, bytes, and ms from poll to acknowledgement */
  onBatch?: (b: { records: number; bytes: number; latencyMs: number }) => void;
}

export interface TaskMetrics {
  recordsPolled: number;
  recordsWritten: number;
  recordsFiltered: number;
  recordsFailed: number;
  bytesWritten: number;
  batches: number;
  offsetCommits: number;
  /** time spent waiting for the source's poll, converting/dispatching, and held back by in-flight limits (ms) */
  pollMs: number;
  dispatchMs: number;
  backpressureMs: number;
  lastPollAt?: number;
  lastAckAt?: number;
}

interface PendingBatch {
  seq: number;
  polledAt: number;
  /** the converted records, kept compact until acknowledged (for a resend) */
  sent: SentBatch;
  /** converted records (what the platform gets) */
  count: number;
  bytes: number;
  sourceCount: number;
  /** exactly-once: the offsets written with the batch */
  offsets?: CommittedOffset[];
}

/** records converted between two chances for I/O callbacks to run (see #dispatch) */
const YIELD_EVERY = 256;
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Where the bytes of keys (or values) of a sent batch are: memory, offset, length per record (-1: null). */
class ByteRefs {
  readonly mem: ArrayBufferLike[] = [];
  readonly which: Int32Array;
  readonly off: Float64Array;
  readonly len: Int32Array;

  constructor(n: number) {
    this.which = new Int32Array(n);
    this.off = new Float64Array(n);
    this.len = new Int32Array(n);
  }

  set(i: number, b: Buffer | null): void {
    if (b === null) {
      this.which[i] = -1;
      return;
    }
    const ab = b.buffer;
    let k = this.mem.length - 1;
    // consecutive values usually share memory (a converter's slab)
    if (k < 0 || this.mem[k] !== ab) {
      this.mem.push(ab);
      k++;
    }
    this.which[i] = k;
    this.off[i] = b.byteOffset;
    this.len[i] = b.length;
  }

  get(i: number): Buffer | null {
    const k = this.which[i]!;
    return k < 0 ? null : Buffer.from(this.mem[k]! as ArrayBuffer, this.off[i]!, this.len[i]!);
  }
}

/** A value per record, kept as one value while every record so far has the same (the common case: one per batch). */
class SameOrEach<T> {
  readonly #one: T;
  #each: T[] | undefined;

  constructor(first: T) {
    this.#one = first;
  }

  /** the value of record `i` (records are set in order) */
  set(i: number, v: T): void {
    if (this.#each !== undefined) this.#each.push(v);
    else if (v !== this.#one) {
      this.#each = new Array<T>(i).fill(this.#one);
      this.#each.push(v);
    }
  }

  get(i: number): T {
    return this.#each !== undefined ? this.#each[i]! : this.#one;
  }
}

/**
 * A sent batch as kept until the platform acknowledges it, for a resend: the key and value bytes stay where the
 * converters put them, and per record there are only numbers in typed arrays. Keeping the record objects instead
 * (thousands in flight while fsyncs complete) makes them outlive young-generation collections: copying and promoting
 * them cost more CPU than the rest of the pipeline.
 */
class SentBatch {
  readonly n: number;
  readonly #topic: SameOrEach<string>;
  readonly #ts: Float64Array;
  readonly #key: ByteRefs;
  readonly #value: ByteRefs;
  #part: Array<number | undefined> | undefined;
  #headers: Array<Header[] | undefined> | undefined;
  /** the converter's value prefix */
  readonly #prefix: SameOrEach<Buffer | undefined>;

  constructor(records: PlatformRecord[]) {
    const n = records.length;
    this.n = n;
    this.#ts = new Float64Array(n);
    this.#key = new ByteRefs(n);
    this.#value = new ByteRefs(n);
    this.#topic = new SameOrEach(n ? records[0]!.topic : '');
    this.#prefix = new SameOrEach(n ? records[0]!.valuePrefix : undefined);
    for (let i = 0; i < n; i++) {
      const r = records[i]!;
      this.#topic.set(i, r.topic);
      this.#prefix.set(i, r.valuePrefix);
      this.#ts[i] = r.timestamp;
      this.#key.set(i, r.key);
      this.#value.set(i, r.value);
      if (r.partition !== undefined) (this.#part ??= new Array<number | undefined>(n))[i] = r.partition;
      if (r.headers !== undefined) (this.#headers ??= new Array<Header[] | undefined>(n))[i] = r.headers;
    }
  }

  #held: { key: Converter; value: Converter } | null = null;

  /** Tells the converters that this batch keeps views of their memory (until `release`). */
  retain(key: Converter, value: Converter): void {
    if (this.#held || (!key.retainBytes && !value.retainBytes)) return;
    this.#held = { key, value };
    for (const m of this.#key.mem) key.retainBytes?.(m);
    for (const m of this.#value.mem) value.retainBytes?.(m);
  }

  /** The platform acknowledged the batch: the converters may reuse its memory (idempotent). */
  release(): void {
    const h = this.#held;
    if (!h) return;
    this.#held = null;
    for (const m of this.#key.mem) h.key.releaseBytes?.(m);
    for (const m of this.#value.mem) h.value.releaseBytes?.(m);
  }

  /** the records again, equal to those first sent */
  records(): PlatformRecord[] {
    const out: PlatformRecord[] = new Array(this.n);
    for (let i = 0; i < this.n; i++) {
      const pr: PlatformRecord = {
        topic: this.#topic.get(i),
        key: this.#key.get(i),
        value: this.#value.get(i),
        timestamp: this.#ts[i]!,
        valuePrefix: this.#prefix.get(i),
      };
      const p = this.#part?.[i];
      if (p !== undefined) pr.partition = p;
      const h = this.#headers?.[i];
      if (h !== undefined) pr.headers = h;
      out[i] = pr;
    }
    return out;
  }
}

/**
 * Runs one source task: poll → transforms → converters → platform → durable ack → offset commit.
 *
 * Ack invariant (enforced by AckTracker): a source offset is committed only after the platform acknowledged the
 * record it belongs to and every record polled before it. When a send fails, polling stops, in-flight sends settle,
 * and every unacknowledged batch is sent again in order — so a consumer sees at most a replayed suffix.
 */
export class TaskRunner {
  readonly id: number;
  state: ConnectorState = 'UNASSIGNED';
  trace?: string;
  lastError?: string;
  readonly metrics: TaskMetrics = {
    recordsPolled: 0,
    recordsWritten: 0,
    recordsFiltered: 0,
    recordsFailed: 0,
    bytesWritten: 0,
    batches: 0,
    offsetCommits: 0,
    pollMs: 0,
    dispatchMs: 0,
    backpressureMs: 0,
  };

  readonly #o: TaskRunnerOptions;
  readonly #tracker = new AckTracker();
  #task: SourceTask | null = null;
  #abort = new AbortController();
  #loop: Promise<void> | null = null;
  #paused = false;
  #resumeWaiters: Array<() => void> = [];
  #ackWaiters: Array<() => void> = [];
  #pending: PendingBatch[] = [];
  #sendFailure: unknown = null;
  #inflightSends = new Set<Promise<void>>();
  #knownTopics = new Set<string>();
  #lastCommit = Date.now();
  #commitChain: Promise<void> = Promise.resolve();
  #started = false;
  /** the worker thread running the task (threaded mode), and what it last reported */
  #thread: TaskThread | null = null;

  constructor(opts: TaskRunnerOptions) {
    this.#o = opts;
    this.id = opts.taskId;
  }

  get inflightRecords(): number {
    return this.#tracker.inflightRecords;
  }
  get inflightBytes(): number {
    return this.#tracker.inflightBytes;
  }

  sourceStatus(): Record<string, unknown> | undefined {
    if (this.#thread) return this.#thread.status;
    try {
      return this.#task?.status?.();
    } catch {
      return undefined;
    }
  }

  /** whether the task runs in a worker thread */
  get threaded(): boolean {
    return this.#thread !== null;
  }

  start(paused = false): void {
    this.#paused = paused;
    this.#setState(paused ? 'PAUSED' : 'RUNNING');
    const init = threadInit(this.#o, paused);
    this.#loop = (init ? this.#runThreaded(init) : this.#run()).catch((err) => this.#fail(err, (err as { threadTrace?: string } | null)?.threadTrace));
  }

  pause(): void {
    if (this.state === 'FAILED' || this.state === 'STOPPED') return;
    this.#paused = true;
    this.#setState('PAUSED');
    this.#thread?.post({ t: 'pause' });
    if (this.#thread) void this.#maybeCommit(true).catch(() => undefined);
  }

  resume(): void {
    if (this.state !== 'PAUSED') return;
    this.#paused = false;
    this.#setState('RUNNING');
    this.#thread?.post({ t: 'resume' });
    for (const w of this.#resumeWaiters.splice(0)) w();
  }

  /** Graceful stop: no more polls, wait (bounded) for in-flight acks, commit what was acknowledged, stop the task. */
  async stop(): Promise<void> {
    this.#abort.abort(new TributaryError('internal', 'task stopping'));
    for (const w of this.#resumeWaiters.splice(0)) w();
    for (const w of this.#ackWaiters.splice(0)) w();
    this.#thread?.post({ t: 'stop' });
    await this.#loop?.catch(() => undefined);
    const deadline = Date.now() + this.#o.limits.shutdownTimeoutMs;
    while (this.#inflightSends.size && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.#inflightSends]), sleep(Math.max(1, deadline - Date.now()))]);
    }
    await this.#commit().catch((e) => this.#o.logger.warn('offset commit at shutdown failed', { error: String(e) }));
    try {
      await this.#task?.stop();
      await this.#thread?.close();
    } catch (e) {
      this.#o.logger.warn('task stop failed', { error: String(e) });
    }
    this.#task = null;
    await this.#o.transactional?.close().catch((e) => this.#o.logger.warn('closing the transactional writer failed', { error: String(e) }));
    if (this.state !== 'FAILED') this.#setState('STOPPED');
  }

  async #run(): Promise<void> {
    const o = this.#o;
    const signal = this.#abort.signal;
    let task = await this.#startSource();
    let restarts = 0;
    while (!signal.aborted) {
      if (this.#paused) {
        await this.#maybeCommit(true);
        await new Promise<void>((r) => this.#resumeWaiters.push(r));
        continue;
      }
      if (this.#sendFailure) {
        await this.#recoverSends();
        continue;
      }
      if (this.#tracker.inflightRecords >= o.limits.maxInflightRecords || this.#tracker.inflightBytes >= o.limits.maxInflightBytes) {
        const w = performance.now();
        await this.#waitForAck(500);
        this.metrics.backpressureMs += performance.now() - w;
        await this.#maybeCommit(false);
        continue;
      }
      let records: SourceRecord[];
      const t0 = performance.now();
      try {
        records = await retry(
          async () => {
            try {
              return await task.poll(signal);
            } catch (err) {
              // a source that lost its connection state asks to be started again from the committed position
              if (isRetriable(err) && (err as TributaryError).details && ((err as TributaryError).details as { restartTask?: boolean }).restartTask) {
                this.#retrying('poll (restarting the source task)', err, restarts, 0);
                task = await this.#restartSource(restarts++);
                return [];
              }
              throw err;
            }
          },
          { signal, maxMs: 30_000, onRetry: (err, n, d) => this.#retrying('poll', err, n, d) },
        );
      } catch (err) {
        if (signal.aborted) break;
        throw err;
      }
      if (records.length) restarts = 0;
      if (this.lastError) this.lastError = undefined;
      this.metrics.lastPollAt = Date.now();
      const t1 = performance.now();
      this.metrics.pollMs += t1 - t0;
      if (records.length) await this.#dispatch(records);
      this.metrics.dispatchMs += performance.now() - t1;
      await this.#maybeCommit(false);
    }
  }

  /**
   * After a source error that needs a fresh task (its connection state is gone): let what is in flight settle,
   * commit what was acknowledged, stop the task, back off, and start a new one from the committed position. What
   * was polled but not acknowledged is polled again (a replayed suffix; with exactly-once, read back from the
   * platform's committed offsets, so nothing twice).
   */
  async #restartSource(attempt: number): Promise<SourceTask> {
    const signal = this.#abort.signal;
    const deadline = Date.now() + this.#o.limits.shutdownTimeoutMs;
    while (this.#inflightSends.size && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.#inflightSends]), sleep(Math.max(1, deadline - Date.now()))]);
    }
    if (this.#inflightSends.size) throw new TributaryError('platform.write', 'records still in flight; the source task is restarted once they settle', { retriable: true });
    await this.#commit();
    const old = this.#task;
    this.#task = null;
    this.#started = false;
    await old?.stop().catch((e) => this.#o.logger.warn('task stop failed', { error: String(e) }));
    // unacknowledged batches are read again by the new task
    this.#pending = [];
    this.#sendFailure = null;
    this.#tracker.reset();
    await sleep(backoffDelay(attempt, { initialMs: 500, maxMs: 30_000 }), signal);
    return this.#startSource();
  }

  async #startSource(): Promise<SourceTask> {
    const o = this.#o;
    const signal = this.#abort.signal;
    const task = o.plugin.createTask();
    this.#task = task;
    // exactly-once: fence earlier incarnations, then resume from the offsets committed with the records
    let committed: Map<string, SourceOffset> | null = null;
    const tx = o.transactional;
    if (tx) {
      committed = await retry(
        async () => {
          await tx.open();
          const m = new Map<string, SourceOffset>();
          for (const e of await tx.readOffsets(o.connector)) if (e.offset) m.set(partitionKey(e.partition), e.offset);
          return m;
        },
        { signal, maxMs: 30_000, onRetry: (err, n, d) => this.#retrying('opening the transactional writer', err, n, d) },
      );
      o.logger.info('exactly-once: resuming from offsets committed in the platform', { partitions: committed.size });
    }
    await retry(
      () =>
        task.start(o.config, {
          connector: o.connector,
          taskId: o.taskId,
          logger: o.logger,
          offset: async (p) => committed?.get(partitionKey(p)) ?? (await o.offsets.get(o.connector, p)),
          rawStructs: true,
        }),
      { signal, maxMs: 30_000, onRetry: (err, n, d) => this.#retrying('start', err, n, d) },
    );
    this.#started = true;
    this.lastError = undefined;
    return task;
  }

  /**
   * Threaded mode: the task polls, transforms and converts in a worker thread (see `taskThreadMain`), which sends
   * converted batches here in poll order; this thread writes them to the platform, tracks acknowledgements and
   * commits offsets exactly as `#run` does. The thread keeps at most the in-flight limits of records and bytes
   * unacknowledged (it is told of every acknowledgement), so memory stays bounded as in `#run`.
   */
  async #runThreaded(init: ThreadInit): Promise<void> {
    const o = this.#o;
    let chain: Promise<void> = Promise.resolve();
    let chainError: unknown = null;
    const thread = new TaskThread(init, {
      log: (level, msg, ctx) => o.logger[level](msg, ctx),
      offset: (p) => o.offsets.get(o.connector, p),
      retrying: (what, message, attempt, delay) => {
        this.lastError = message;
        o.logger.warn(`${what} failed, retrying`, { attempt: attempt + 1, delayMs: delay, error: message });
      },
      cleared: () => {
        this.lastError = undefined;
      },
      started: () => {
        this.#started = true;
        this.lastError = undefined;
      },
      batch: (b) => {
        chain = chain.then(() => (chainError ? undefined : this.#threadBatch(b))).catch((e) => {
          chainError ??= e;
          this.#fail(e);
        });
      },
    });
    this.#thread = thread;
    const commitTimer = setInterval(() => void this.#maybeCommit(false).catch(() => undefined), Math.max(10, Math.min(o.limits.offsetFlushMs, 1000)));
    try {
      await thread.done; // rejects with the task's failure
    } finally {
      clearInterval(commitTimer);
      await chain;
    }
    if (chainError) throw chainError;
  }

  /** A converted batch from the thread: topics ensured, tracked, sent (after a recovery of failed sends, if any). */
  async #threadBatch(b: ThreadBatch): Promise<void> {
    const t0 = performance.now();
    if (this.#sendFailure) await this.#recoverSends();
    const m = this.metrics;
    m.recordsPolled += b.polled;
    m.recordsFiltered += b.filtered;
    m.recordsFailed += b.failed;
    m.pollMs += b.pollMs;
    m.backpressureMs += b.backpressureMs;
    m.lastPollAt = b.lastPollAt;
    if (this.lastError) this.lastError = undefined;
    const out = unpack(b);
    for (const topic of typeof b.topics === 'string' ? [b.topics] : new Set(b.topics)) {
      if (out.length && !this.#knownTopics.has(topic)) await this.#ensureTopic(topic);
    }
    const seq = this.#tracker.add(b.offsets, b.bytes);
    const batch: PendingBatch = { seq, polledAt: b.lastPollAt, sent: new SentBatch(out), count: out.length, bytes: b.bytes, sourceCount: b.polled };
    this.#pending.push(batch);
    m.batches++;
    this.#send(batch, out);
    m.dispatchMs += b.dispatchMs + (performance.now() - t0);
    await this.#maybeCommit(false);
  }

  #retrying(what: string, err: unknown, attempt: number, delay: number): void {
    this.lastError = err instanceof Error ? err.message : String(err);
    this.#o.logger.warn(`${what} failed, retrying`, { attempt: attempt + 1, delayMs: delay, error: this.lastError });
  }

  async #dispatch(records: SourceRecord[]): Promise<void> {
    const o = this.#o;
    this.metrics.recordsPolled += records.length;
    const out: PlatformRecord[] = [];
    let bytes = 0;
    const now = Date.now();
    // raw struct values (a source's compact rows) go to the value converter as they are when nothing else looks at them
    const rawOk = o.transform === noTransforms && o.valueConverter.fromRawStruct !== undefined;
    let newTopics: Set<string> | undefined;
    // the value converter's prefix for the schema of the last record (most batches have one schema)
    const prefixOf = o.valueConverter.valuePrefix?.bind(o.valueConverter);
    let prefixSchema: Schema | null | undefined = null;
    let prefix: Buffer | undefined;
    // an index, not for…of: with an await in the loop, V8 allocates every iterator result
    for (let n = 0; n < records.length; n++) {
      const rec = records[n]!;
      // let network reads in during a long batch, so that a source reading ahead (a socket with the next batch)
      // keeps its server busy instead of waiting for the whole batch to be converted; the converters' memory rules
      // make this safe: bytes handed out and not yet retained are never reused
      if (n > 0 && n % YIELD_EVERY === 0) await yieldToIo();
      let t: SourceRecord | null;
      let key: Buffer | null;
      let value: Buffer | null;
      try {
        const v = rec.value;
        if (isRawStruct(v) && !(rawOk && rec.valueSchema === v.schema)) rec.value = v.materialize();
        t = o.transform(rec);
        if (t === null) {
          this.metrics.recordsFiltered++;
          continue;
        }
        key = o.keyConverter.fromConnectData(t.topic, t.keySchema, t.key);
        const tv = t.value;
        const vs = isRawStruct(tv) ? tv.schema : t.valueSchema;
        value = isRawStruct(tv) ? o.valueConverter.fromRawStruct!(t.topic, vs!, tv) : o.valueConverter.fromConnectData(t.topic, vs, tv);
        if (prefixOf !== undefined && value !== null && vs !== prefixSchema) {
          prefixSchema = vs;
          prefix = prefixOf(vs);
        }
      } catch (err) {
        // errors.tolerance covers transforms and converters (as in Kafka Connect); a source's own error surfacing
        // here (a raw struct the source could not turn into its value) fails the task as it would have in poll
        if (!o.tolerateErrors || isSourceError(err)) throw err;
        this.metrics.recordsFailed++;
        o.logger.warn('record skipped (errors.tolerance=all)', { topic: rec.topic, error: String(err) });
        continue;
      }
      if (!this.#knownTopics.has(t.topic)) (newTopics ??= new Set()).add(t.topic);
      // valuePrefix in the literal: a property added afterwards costs an allocation per record
      const pr: PlatformRecord = { topic: t.topic, key, value, timestamp: t.timestamp ?? now, valuePrefix: value !== null ? prefix : undefined };
      if (t.kafkaPartition !== undefined) pr.partition = t.kafkaPartition;
      if (t.headers?.length) pr.headers = t.headers;
      out.push(pr);
      bytes += (key?.length ?? 0) + (value?.length ?? 0) + 64;
    }
    // the converters' memory is held from here, before any further await (the yields above rely on the converters
    // not reusing memory with bytes handed out since its last hold, see Converter.retainBytes)
    const sent = new SentBatch(out);
    sent.retain(o.keyConverter, o.valueConverter);
    if (newTopics) for (const topic of newTopics) await this.#ensureTopic(topic);
    const seq = this.#tracker.add(records, bytes);
    const batch: PendingBatch = { seq, polledAt: now, sent, count: out.length, bytes, sourceCount: records.length };
    if (o.transactional) batch.offsets = this.#tracker.offsetsOf(seq);
    this.#pending.push(batch);
    this.metrics.batches++;
    this.#send(batch, out);
  }

  async #ensureTopic(topic: string): Promise<void> {
    await retry(() => this.#o.platform.ensureTopic(topic, this.#o.topicSpec(topic)), {
      signal: this.#abort.signal,
      onRetry: (err, n, d) => this.#retrying('topic creation', err, n, d),
    });
    this.#knownTopics.add(topic);
    this.#o.onTopic?.(topic);
  }

  /** one batch to the platform: a plain send, or (exactly-once) a transaction with the batch's offsets */
  #write(batch: PendingBatch, records: PlatformRecord[]): Promise<void> {
    const tx = this.#o.transactional;
    if (tx) return tx.write(records, this.#o.connector, batch.offsets ?? []);
    return records.length ? this.#o.platform.send(records) : Promise.resolve();
  }

  #send(batch: PendingBatch, records: PlatformRecord[]): void {
    const p: Promise<void> = this.#write(batch, records).then(
      () => this.#acked(batch),
      (err) => {
        if (!this.#sendFailure) this.#sendFailure = err;
      },
    );
    this.#inflightSends.add(p);
    void p.finally(() => {
      this.#inflightSends.delete(p);
      for (const w of this.#ackWaiters.splice(0)) w();
    });
  }

  #acked(batch: PendingBatch): void {
    const i = this.#pending.indexOf(batch);
    if (i >= 0) this.#pending.splice(i, 1);
    batch.sent.release();
    this.#tracker.ack(batch.seq);
    this.#thread?.post({ t: 'acked', records: batch.sourceCount, bytes: batch.bytes });
    this.metrics.recordsWritten += batch.count;
    this.metrics.bytesWritten += batch.bytes;
    this.metrics.lastAckAt = Date.now();
    this.#o.onBatch?.({ records: batch.count, bytes: batch.bytes, latencyMs: this.metrics.lastAckAt - batch.polledAt });
  }

  /** After a failed send: let in-flight sends settle, then resend every unacknowledged batch in order. */
  async #recoverSends(): Promise<void> {
    const err = this.#sendFailure;
    await Promise.allSettled([...this.#inflightSends]);
    if (!isRetriable(err)) throw err;
    this.lastError = err instanceof Error ? err.message : String(err);
    const tx = this.#o.transactional;
    tx?.resume();
    const first = this.#pending[0];
    this.#sendFailure = null;
    if (!first) return;
    // every batch from the first unacknowledged one on is sent again, so order is kept (a replayed suffix)
    let replay = [...this.#pending];
    if (tx) replay = await this.#skipCommitted(tx, replay);
    this.#o.logger.warn('platform write failed, resending unacknowledged batches', { batches: replay.length, error: this.lastError });
    let attempt = 0;
    for (const b of replay) {
      await retry(() => (tx?.resume(), this.#write(b, b.count ? b.sent.records() : [])), {
        signal: this.#abort.signal,
        maxMs: 30_000,
        onRetry: (e, n, d) => this.#retrying('platform write', e, attempt + n, d),
      });
      attempt = 0;
      if (this.#pending.includes(b)) this.#acked(b);
    }
    this.lastError = undefined;
  }

  /**
   * Exactly-once, after a failed transaction: a commit whose answer was lost may still have taken effect. The
   * offsets committed in the platform tell which batches did: those are acknowledged, not written twice.
   */
  async #skipCommitted(tx: TransactionalWriter, replay: PendingBatch[]): Promise<PendingBatch[]> {
    const committed = new Map<string, string>();
    const entries = await retry(() => tx.readOffsets(this.#o.connector), {
      signal: this.#abort.signal,
      maxMs: 30_000,
      onRetry: (e, n, d) => this.#retrying('reading committed offsets', e, n, d),
    });
    for (const e of entries) committed.set(partitionKey(e.partition), JSON.stringify(e.offset));
    let upTo = -1;
    for (let i = 0; i < replay.length; i++) {
      const offs = replay[i]!.offsets ?? [];
      if (offs.length && offs.every((o) => committed.get(partitionKey(o.partition)) === JSON.stringify(o.offset))) upTo = i;
    }
    for (let i = 0; i <= upTo; i++) if (this.#pending.includes(replay[i]!)) this.#acked(replay[i]!);
    if (upTo >= 0) this.#o.logger.info('exactly-once: batches committed before the failure was reported are not written again', { batches: upTo + 1 });
    return replay.slice(upTo + 1);
  }

  #waitForAck(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.#ackWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  async #maybeCommit(force: boolean): Promise<void> {
    if (!force && Date.now() - this.#lastCommit < this.#o.limits.offsetFlushMs) return;
    this.#lastCommit = Date.now();
    await this.#commit();
  }

  /** Commits acknowledged offsets durably, then tells the task (which may then advance its source position). */
  #commit(): Promise<void> {
    const run = async () => {
      const entries = this.#tracker.drainCommittable();
      if (!entries.length) return;
      await this.#o.offsets.commit(this.#o.connector, entries);
      this.metrics.offsetCommits++;
      if (this.#task?.commit && this.#started) await this.#task.commit(entries);
      else if (this.#thread && this.#started) await this.#thread.commit(entries);
    };
    const p = this.#commitChain.then(run);
    this.#commitChain = p.catch(() => undefined);
    return p;
  }

  #fail(err: unknown, trace?: string): void {
    if (this.#abort.signal.aborted && !this.#sendFailure) return;
    this.trace = trace ?? traceOf(err);
    this.#o.logger.error('task failed', { error: err instanceof Error ? err.message : String(err) });
    this.#setState('FAILED');
    this.#abort.abort(err);
    void this.#commit().catch(() => undefined);
    const task = this.#task;
    this.#task = null;
    void task?.stop().catch(() => undefined);
    const thread = this.#thread;
    if (thread) {
      thread.post({ t: 'stop' });
      void thread.close().catch(() => undefined);
    }
  }

  #setState(s: ConnectorState): void {
    this.state = s;
    this.#o.onStateChange?.();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Threaded mode. A task whose plug-in and converters can be loaded in a worker thread (SourcePlugin.threadModule,
// Converter.threadSpec) and that has no transforms runs its poll → convert loop in a thread of its own: on a machine
// with more than one core, reading and decoding rows overlaps with writing them. This module is also the thread's
// entry point (`taskThreadMain` at the bottom). See `threadInit` for when it is used.

/** What the thread needs to recreate the task: structured-cloneable. */
interface ThreadInit {
  kind: 'tributary-task';
  connector: string;
  taskId: number;
  plugin: { url: string; exportName: string };
  config: ResolvedConfig;
  keyConverter: ConverterThreadSpec;
  valueConverter: ConverterThreadSpec;
  tolerateErrors: boolean;
  limits: TaskLimits;
  paused: boolean;
}

/** A converted batch from the thread: bytes of keys and values in one transferred buffer, an index into it. */
interface ThreadBatch {
  t: 'batch';
  n: number;
  /** one topic for all records, or one per record */
  topics: string | string[];
  data: ArrayBuffer;
  /** per record: key offset, key length (-1: null), value offset, value length (-1: null) */
  index: Int32Array;
  timestamps: Float64Array;
  partitions?: Array<number | undefined>;
  headers?: Array<Header[] | undefined>;
  /** per run of one source partition, its last record's partition and offset (what AckTracker keeps) */
  offsets: Array<{ sourcePartition: SourcePartition; sourceOffset: SourceOffset }>;
  /** runtime accounting as in `#dispatch` */
  bytes: number;
  polled: number;
  filtered: number;
  failed: number;
  pollMs: number;
  dispatchMs: number;
  backpressureMs: number;
  lastPollAt: number;
  status?: Record<string, unknown>;
}

type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The task's thread can run this task: everything it needs can be recreated there, and nothing is lost. */
function threadInit(o: TaskRunnerOptions, paused: boolean): ThreadInit | undefined {
  // on: TRIBUTARY_TASK_THREADS=1; off: =0; by default on with 4 cores or more. With 2 cores and the database on the
  // same machine, the extra CPU a thread costs (copying batches across, a second heap, its own JIT warm-up) was
  // measured to outweigh the overlap: the single thread used ~5 µs of CPU per row, the threaded pair ~5.5–6.
  const setting = process.env.TRIBUTARY_TASK_THREADS;
  if (setting === '0' || (setting !== '1' && availableParallelism() < 4)) return undefined;
  if ((o as { transactional?: unknown }).transactional) return undefined; // exactly-once writes stay on this thread
  const plugin = o.plugin.threadModule;
  if (!plugin) return undefined;
  const key = o.keyConverter.threadSpec?.();
  const value = o.valueConverter.threadSpec?.();
  if (!key || !value) return undefined;
  // transforms run on SourceRecords inside the thread only when there are none: the chain given here is a closure
  const tr = o.config['transforms'];
  const noTransforms = tr === undefined || tr === null || (Array.isArray(tr) ? tr.length === 0 : String(tr).trim() === '');
  const probe: SourceRecord = { topic: '', key: null, value: null, sourcePartition: {}, sourceOffset: {} };
  if (!noTransforms || o.transform(probe) !== probe) return undefined;
  try {
    structuredClone(o.config);
  } catch {
    return undefined;
  }
  return { kind: 'tributary-task', connector: o.connector, taskId: o.taskId, plugin, config: o.config, keyConverter: key, valueConverter: value, tolerateErrors: o.tolerateErrors, limits: o.limits, paused };
}

/** PlatformRecords over a batch's buffer (views, no copy). */
function unpack(b: ThreadBatch): PlatformRecord[] {
  const out: PlatformRecord[] = new Array(b.n);
  const idx = b.index;
  for (let i = 0; i < b.n; i++) {
    const kl = idx[i * 4 + 1]!;
    const vl = idx[i * 4 + 3]!;
    const pr: PlatformRecord = {
      topic: typeof b.topics === 'string' ? b.topics : b.topics[i]!,
      key: kl < 0 ? null : Buffer.from(b.data, idx[i * 4]!, kl),
      value: vl < 0 ? null : Buffer.from(b.data, idx[i * 4 + 2]!, vl),
      timestamp: b.timestamps[i]!,
    };
    const p = b.partitions?.[i];
    if (p !== undefined) pr.partition = p;
    const h = b.headers?.[i];
    if (h !== undefined) pr.headers = h;
    out[i] = pr;
  }
  return out;
}

interface ThreadHandlers {
  log(level: LogLevel, msg: string, ctx?: Record<string, unknown>): void;
  offset(p: SourcePartition): Promise<SourceOffset | null>;
  retrying(what: string, message: string, attempt: number, delay: number): void;
  cleared(): void;
  started(): void;
  batch(b: ThreadBatch): void;
}

/** The main thread's side of a task thread. */
class TaskThread {
  status: Record<string, unknown> | undefined;
  /** settles when the thread's poll loop has ended: resolves after a stop, rejects with the task's failure */
  readonly done: Promise<void>;
  readonly #w: Worker;
  #calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  #nextId = 1;
  #exited = false;
  #closing: Promise<void> | null = null;

  constructor(init: ThreadInit, h: ThreadHandlers) {
    let settle!: { resolve: () => void; reject: (e: unknown) => void };
    this.done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    this.done.catch(() => undefined);
    // execArgv: the parent's flags (--input-type, --eval…) do not apply to a thread started from this file
    this.#w = new Worker(new URL(import.meta.url), { workerData: init, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 64 } });
    this.#w.on('message', (m: { t: string } & Record<string, unknown>) => {
      switch (m.t) {
        case 'batch':
          this.status = (m as unknown as ThreadBatch).status ?? this.status;
          h.batch(m as unknown as ThreadBatch);
          break;
        case 'log':
          h.log(m['level'] as LogLevel, m['msg'] as string, m['ctx'] as Record<string, unknown> | undefined);
          break;
        case 'offset':
          h.offset(m['partition'] as SourcePartition).then(
            (offset) => this.post({ t: 'offset', id: m['id'], offset }),
            (e) => this.post({ t: 'offset', id: m['id'], error: serializeError(e) }),
          );
          break;
        case 'retrying':
          h.retrying(m['what'] as string, m['message'] as string, m['attempt'] as number, m['delay'] as number);
          break;
        case 'cleared':
          h.cleared();
          break;
        case 'started':
          this.status = (m['status'] as Record<string, unknown> | undefined) ?? this.status;
          h.started();
          break;
        case 'stopped':
          settle.resolve();
          break;
        case 'failed':
          settle.reject(Object.assign(deserializeError(m['error'] as SerializedError), { threadTrace: m['trace'] }));
          break;
        case 'reply': {
          const c = this.#calls.get(m['id'] as number);
          if (!c) break;
          this.#calls.delete(m['id'] as number);
          if (m['error']) c.reject(deserializeError(m['error'] as SerializedError));
          else c.resolve(m['value']);
          break;
        }
      }
    });
    const gone = (e: unknown) => {
      this.#exited = true;
      const err = e instanceof Error ? e : new TributaryError('internal', `the task thread exited (${String(e)})`);
      settle.reject(err);
      for (const c of this.#calls.values()) c.reject(err);
      this.#calls.clear();
    };
    this.#w.on('error', gone);
    this.#w.on('exit', (code) => gone(`exit code ${code}`));
  }

  post(m: Record<string, unknown>): void {
    if (!this.#exited) this.#w.postMessage(m);
  }

  #call(m: Record<string, unknown>): Promise<unknown> {
    if (this.#exited) return Promise.reject(new TributaryError('internal', 'the task thread has exited'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve, reject });
      this.#w.postMessage({ ...m, id });
    });
  }

  /** task.commit in the thread */
  async commit(entries: Array<{ partition: SourcePartition; offset: SourceOffset }>): Promise<void> {
    await this.#call({ t: 'commit', entries });
  }

  /** task.stop in the thread (bounded), then the thread ends */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await Promise.race([this.#call({ t: 'close' }), sleep(10_000)]);
      } finally {
        await this.#w.terminate().catch(() => undefined);
      }
    })();
    return this.#closing;
  }
}

interface SerializedError {
  name: string;
  message: string;
  code?: string;
  retriable?: boolean;
  hint?: string;
  key?: string;
}

function serializeError(e: unknown): SerializedError {
  if (e instanceof TributaryError) return { name: e.name, message: e.message, code: e.code, retriable: e.retriable, hint: e.hint, key: e.key };
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

function deserializeError(s: SerializedError): Error {
  if (s.code) return new TributaryError(s.code as ErrorCode, s.message, { retriable: s.retriable, hint: s.hint, key: s.key });
  const e = new Error(s.message);
  e.name = s.name;
  return e;
}

/** The thread: recreates plug-in and converters, then poll → convert → post batches until told to stop. */
async function taskThreadMain(init: ThreadInit): Promise<void> {
  const port = parentPort!;
  const post = (m: Record<string, unknown>, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer ?? []);
  const logger = (ctx: Record<string, unknown>): Logger => ({
    debug: (msg, c) => post({ t: 'log', level: 'debug', msg, ctx: { ...ctx, ...c } }),
    info: (msg, c) => post({ t: 'log', level: 'info', msg, ctx: { ...ctx, ...c } }),
    warn: (msg, c) => post({ t: 'log', level: 'warn', msg, ctx: { ...ctx, ...c } }),
    error: (msg, c) => post({ t: 'log', level: 'error', msg, ctx: { ...ctx, ...c } }),
    child: (c) => logger({ ...ctx, ...c }),
  });
  const log = logger({});
  const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let nextId = 1;
  const abort = new AbortController();
  const signal = abort.signal;
  let paused = init.paused;
  let inflightRecords = 0;
  let inflightBytes = 0;
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  let task: SourceTask | null = null;
  let started = false;

  port.on('message', (m: { t: string; id?: number } & Record<string, unknown>) => {
    switch (m.t) {
      case 'offset': {
        const c = calls.get(m.id!);
        calls.delete(m.id!);
        if (m['error']) c?.reject(deserializeError(m['error'] as SerializedError));
        else c?.resolve(m['offset'] ?? null);
        break;
      }
      case 'acked':
        inflightRecords -= m['records'] as number;
        inflightBytes -= m['bytes'] as number;
        poke();
        break;
      case 'pause':
        paused = true;
        break;
      case 'resume':
        paused = false;
        poke();
        break;
      case 'stop':
        abort.abort(new TributaryError('internal', 'task stopping'));
        poke();
        break;
      case 'commit': {
        const t = task;
        const reply = (error?: unknown) => post({ t: 'reply', id: m.id, error: error === undefined ? undefined : serializeError(error) });
        if (!t?.commit || !started) reply();
        else t.commit(m['entries'] as Array<{ partition: SourcePartition; offset: SourceOffset }>).then(() => reply(), (e) => reply(e));
        break;
      }
      case 'close': {
        const t = task;
        task = null;
        (t ? t.stop() : Promise.resolve()).then(
          () => post({ t: 'reply', id: m.id }),
          (e) => post({ t: 'reply', id: m.id, error: serializeError(e) }),
        );
        break;
      }
    }
  });

  const loadConverter = async (spec: ConverterThreadSpec): Promise<Converter> => {
    const p = (await import(spec.url))[spec.exportName] as ConverterPlugin;
    const c = p.create();
    c.configure(spec.config, spec.isKey);
    return c;
  };
  const retrying = (what: string) => (err: unknown, attempt: number, delay: number) => {
    lastError = err instanceof Error ? err.message : String(err);
    post({ t: 'retrying', what, message: lastError, attempt, delay });
  };
  let lastError: string | undefined;
  const status = () => {
    try {
      return task?.status?.();
    } catch {
      return undefined;
    }
  };

  try {
    const plugin = (await import(init.plugin.url))[init.plugin.exportName] as SourcePlugin;
    const keyConverter = await loadConverter(init.keyConverter);
    const valueConverter = await loadConverter(init.valueConverter);
    const t = plugin.createTask();
    task = t;
    await retry(
      () =>
        t.start(init.config, {
          connector: init.connector,
          taskId: init.taskId,
          logger: log,
          offset: (partition) =>
            new Promise<SourceOffset | null>((resolve, reject) => {
              const id = nextId++;
              calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
              post({ t: 'offset', id, partition });
            }),
        }),
      { signal, maxMs: 30_000, onRetry: retrying('start') },
    );
    started = true;
    lastError = undefined;
    post({ t: 'started', status: status() });
    const limits = init.limits;
    let backpressureMs = 0;
    while (!signal.aborted) {
      if (paused || inflightRecords >= limits.maxInflightRecords || inflightBytes >= limits.maxInflightBytes) {
        const w0 = performance.now();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 500);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        if (!paused) backpressureMs += performance.now() - w0;
        continue;
      }
      let records: SourceRecord[];
      const t0 = performance.now();
      try {
        records = await retry(() => t.poll(signal), { signal, maxMs: 30_000, onRetry: retrying('poll') });
      } catch (err) {
        if (signal.aborted) break;
        throw err;
      }
      if (lastError) {
        lastError = undefined;
        post({ t: 'cleared' });
      }
      const lastPollAt = Date.now();
      const t1 = performance.now();
      if (!records.length) continue;
      const b = convertBatch(records, keyConverter, valueConverter, init.tolerateErrors, log);
      b.pollMs = t1 - t0;
      b.dispatchMs = performance.now() - t1;
      b.backpressureMs = backpressureMs;
      backpressureMs = 0;
      b.lastPollAt = lastPollAt;
      b.status = status();
      inflightRecords += b.polled;
      inflightBytes += b.bytes;
      post(b as unknown as Record<string, unknown>, [b.data, b.index.buffer as ArrayBuffer, b.timestamps.buffer as ArrayBuffer]);
    }
    post({ t: 'stopped' });
  } catch (err) {
    post({ t: 'failed', error: serializeError(err), trace: traceOf(err) });
  }
}

/** `#dispatch`'s conversion, into one buffer. */
function convertBatch(records: SourceRecord[], keyConverter: Converter, valueConverter: Converter, tolerateErrors: boolean, log: Logger): ThreadBatch {
  const n = records.length;
  const keys: Array<Buffer | null> = [];
  const values: Array<Buffer | null> = [];
  const topics: string[] = [];
  const timestamps: number[] = [];
  let partitions: Array<number | undefined> | undefined;
  let headers: Array<Header[] | undefined> | undefined;
  let filtered = 0;
  let failed = 0;
  let bytes = 0;
  let size = 0;
  let uniform = true;
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    const rec = records[i]!;
    let key: Buffer | null;
    let value: Buffer | null;
    try {
      if (isRawStruct(rec.value)) rec.value = rec.value.materialize();
      key = keyConverter.fromConnectData(rec.topic, rec.keySchema, rec.key);
      value = valueConverter.fromConnectData(rec.topic, rec.valueSchema, rec.value);
    } catch (err) {
      if (!tolerateErrors || isSourceError(err)) throw err; // as in #dispatch
      failed++;
      log.warn('record skipped (errors.tolerance=all)', { topic: rec.topic, error: String(err) });
      continue;
    }
    const j = keys.length;
    keys.push(key);
    values.push(value);
    if (j > 0 && rec.topic !== topics[0]) uniform = false;
    topics.push(rec.topic);
    timestamps.push(rec.timestamp ?? now);
    if (rec.kafkaPartition !== undefined) (partitions ??= [])[j] = rec.kafkaPartition;
    if (rec.headers?.length) (headers ??= [])[j] = rec.headers;
    const kl = key?.length ?? 0;
    const vl = value?.length ?? 0;
    size += kl + vl;
    bytes += kl + vl + 64;
  }
  const m = keys.length;
  const data = new ArrayBuffer(size);
  const bytesView = new Uint8Array(data);
  const index = new Int32Array(m * 4);
  let at = 0;
  for (let i = 0; i < m; i++) {
    const k = keys[i]!;
    const v = values[i]!;
    if (k === null) index[i * 4 + 1] = -1;
    else {
      bytesView.set(k, at);
      index[i * 4] = at;
      index[i * 4 + 1] = k.length;
      at += k.length;
    }
    if (v === null) index[i * 4 + 3] = -1;
    else {
      bytesView.set(v, at);
      index[i * 4 + 2] = at;
      index[i * 4 + 3] = v.length;
      at += v.length;
    }
  }
  // AckTracker keeps the last offset of each run of one partition object: send only those
  const offsets: ThreadBatch['offsets'] = [];
  for (let i = 0; i < n; i++) {
    const p = records[i]!.sourcePartition;
    if (i + 1 < n && records[i + 1]!.sourcePartition === p) continue;
    offsets.push({ sourcePartition: p, sourceOffset: records[i]!.sourceOffset });
  }
  if (partitions) partitions.length = m;
  if (headers) headers.length = m;
  return {
    t: 'batch', n: m, topics: uniform && m > 0 ? topics[0]! : topics, data, index, timestamps: Float64Array.from(timestamps),
    ...(partitions ? { partitions } : {}), ...(headers ? { headers } : {}),
    offsets, bytes, polled: n, filtered, failed, pollMs: 0, dispatchMs: 0, backpressureMs: 0, lastPollAt: now,
  };
}

if (!isMainThread && (workerData as ThreadInit | undefined)?.kind === 'tributary-task') {
  void taskThreadMain(workerData as ThreadInit);
}

/** an error a source raised (its code starts with `source.`) */
function isSourceError(err: unknown): boolean {
  return err instanceof TributaryError && err.code.startsWith('source.');
}
