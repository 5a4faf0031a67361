import type { ResolvedConfig } from '../sdk/config.js';
import type { Converter } from '../sdk/converter.js';
import { TributaryError, isRetriable, traceOf } from '../sdk/errors.js';
import type { Logger } from '../sdk/logger.js';
import type { Platform, TopicSpec } from '../sdk/platform.js';
import type { Header, PlatformRecord, SourceRecord } from '../sdk/record.js';
import type { SourcePlugin, SourceTask } from '../sdk/source.js';
import type { ConnectorState, OffsetStore } from '../sdk/state.js';
import { AckTracker } from './ack-tracker.js';
import { retry, sleep } from './retry.js';

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
}

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

/**
 * A sent batch as kept until the platform acknowledges it, for a resend: the key and value bytes stay where the
 * converters put them, and per record there are only numbers in typed arrays. Keeping the record objects instead
 * (thousands in flight while fsyncs complete) makes them outlive young-generation collections: copying and promoting
 * them cost more CPU than the rest of the pipeline.
 */
class SentBatch {
  readonly n: number;
  readonly #topic: string | string[];
  readonly #ts: Float64Array;
  readonly #key: ByteRefs;
  readonly #value: ByteRefs;
  #part: Array<number | undefined> | undefined;
  #headers: Array<Header[] | undefined> | undefined;

  constructor(records: PlatformRecord[]) {
    const n = records.length;
    this.n = n;
    this.#ts = new Float64Array(n);
    this.#key = new ByteRefs(n);
    this.#value = new ByteRefs(n);
    let topic: string | string[] = n ? records[0]!.topic : '';
    for (let i = 0; i < n; i++) {
      const r = records[i]!;
      if (typeof topic === 'string' && r.topic !== topic) topic = records.slice(0, i).map(() => topic as string);
      if (typeof topic !== 'string') topic.push(r.topic);
      this.#ts[i] = r.timestamp;
      this.#key.set(i, r.key);
      this.#value.set(i, r.value);
      if (r.partition !== undefined) (this.#part ??= new Array<number | undefined>(n))[i] = r.partition;
      if (r.headers !== undefined) (this.#headers ??= new Array<Header[] | undefined>(n))[i] = r.headers;
    }
    this.#topic = topic;
  }

  /** the records again, equal to those first sent */
  records(): PlatformRecord[] {
    const out: PlatformRecord[] = new Array(this.n);
    for (let i = 0; i < this.n; i++) {
      const pr: PlatformRecord = {
        topic: typeof this.#topic === 'string' ? this.#topic : this.#topic[i]!,
        key: this.#key.get(i),
        value: this.#value.get(i),
        timestamp: this.#ts[i]!,
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
    try {
      return this.#task?.status?.();
    } catch {
      return undefined;
    }
  }

  start(paused = false): void {
    this.#paused = paused;
    this.#setState(paused ? 'PAUSED' : 'RUNNING');
    this.#loop = this.#run().catch((err) => this.#fail(err));
  }

  pause(): void {
    if (this.state === 'FAILED' || this.state === 'STOPPED') return;
    this.#paused = true;
    this.#setState('PAUSED');
  }

  resume(): void {
    if (this.state !== 'PAUSED') return;
    this.#paused = false;
    this.#setState('RUNNING');
    for (const w of this.#resumeWaiters.splice(0)) w();
  }

  /** Graceful stop: no more polls, wait (bounded) for in-flight acks, commit what was acknowledged, stop the task. */
  async stop(): Promise<void> {
    this.#abort.abort(new TributaryError('internal', 'task stopping'));
    for (const w of this.#resumeWaiters.splice(0)) w();
    for (const w of this.#ackWaiters.splice(0)) w();
    await this.#loop?.catch(() => undefined);
    const deadline = Date.now() + this.#o.limits.shutdownTimeoutMs;
    while (this.#inflightSends.size && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.#inflightSends]), sleep(Math.max(1, deadline - Date.now()))]);
    }
    await this.#commit().catch((e) => this.#o.logger.warn('offset commit at shutdown failed', { error: String(e) }));
    try {
      await this.#task?.stop();
    } catch (e) {
      this.#o.logger.warn('task stop failed', { error: String(e) });
    }
    this.#task = null;
    if (this.state !== 'FAILED') this.#setState('STOPPED');
  }

  async #run(): Promise<void> {
    const o = this.#o;
    const signal = this.#abort.signal;
    const task = o.plugin.createTask();
    this.#task = task;
    await retry(
      () =>
        task.start(o.config, {
          connector: o.connector,
          taskId: o.taskId,
          logger: o.logger,
          offset: (p) => o.offsets.get(o.connector, p),
        }),
      { signal, maxMs: 30_000, onRetry: (err, n, d) => this.#retrying('start', err, n, d) },
    );
    this.#started = true;
    this.lastError = undefined;
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
        records = await retry(() => task.poll(signal), {
          signal,
          maxMs: 30_000,
          onRetry: (err, n, d) => this.#retrying('poll', err, n, d),
        });
      } catch (err) {
        if (signal.aborted) break;
        throw err;
      }
      if (this.lastError) this.lastError = undefined;
      this.metrics.lastPollAt = Date.now();
      const t1 = performance.now();
      this.metrics.pollMs += t1 - t0;
      if (records.length) await this.#dispatch(records);
      this.metrics.dispatchMs += performance.now() - t1;
      await this.#maybeCommit(false);
    }
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
    for (const rec of records) {
      let t: SourceRecord | null;
      let key: Buffer | null;
      let value: Buffer | null;
      try {
        t = o.transform(rec);
        if (t === null) {
          this.metrics.recordsFiltered++;
          continue;
        }
        key = o.keyConverter.fromConnectData(t.topic, t.keySchema, t.key);
        value = o.valueConverter.fromConnectData(t.topic, t.valueSchema, t.value);
      } catch (err) {
        if (!o.tolerateErrors) throw err;
        this.metrics.recordsFailed++;
        o.logger.warn('record skipped (errors.tolerance=all)', { topic: rec.topic, error: String(err) });
        continue;
      }
      if (!this.#knownTopics.has(t.topic)) await this.#ensureTopic(t.topic);
      const pr: PlatformRecord = { topic: t.topic, key, value, timestamp: t.timestamp ?? now };
      if (t.kafkaPartition !== undefined) pr.partition = t.kafkaPartition;
      if (t.headers?.length) pr.headers = t.headers;
      out.push(pr);
      bytes += (key?.length ?? 0) + (value?.length ?? 0) + 64;
    }
    const seq = this.#tracker.add(records, bytes);
    const batch: PendingBatch = { seq, polledAt: now, sent: new SentBatch(out), count: out.length, bytes, sourceCount: records.length };
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

  #send(batch: PendingBatch, records: PlatformRecord[]): void {
    const p: Promise<void> = (records.length ? this.#o.platform.send(records) : Promise.resolve()).then(
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
    this.#tracker.ack(batch.seq);
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
    const first = this.#pending[0];
    this.#sendFailure = null;
    if (!first) return;
    // every batch from the first unacknowledged one on is sent again, so order is kept (a replayed suffix)
    const replay = [...this.#pending];
    this.#o.logger.warn('platform write failed, resending unacknowledged batches', { batches: replay.length, error: this.lastError });
    let attempt = 0;
    for (const b of replay) {
      await retry(() => (b.count ? this.#o.platform.send(b.sent.records()) : Promise.resolve()), {
        signal: this.#abort.signal,
        maxMs: 30_000,
        onRetry: (e, n, d) => this.#retrying('platform write', e, attempt + n, d),
      });
      attempt = 0;
      if (this.#pending.includes(b)) this.#acked(b);
    }
    this.lastError = undefined;
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
    };
    const p = this.#commitChain.then(run);
    this.#commitChain = p.catch(() => undefined);
    return p;
  }

  #fail(err: unknown): void {
    if (this.#abort.signal.aborted && !this.#sendFailure) return;
    this.trace = traceOf(err);
    this.#o.logger.error('task failed', { error: err instanceof Error ? err.message : String(err) });
    this.#setState('FAILED');
    this.#abort.abort(err);
    void this.#commit().catch(() => undefined);
    const task = this.#task;
    this.#task = null;
    void task?.stop().catch(() => undefined);
  }

  #setState(s: ConnectorState): void {
    this.state = s;
    this.#o.onStateChange?.();
  }
}
