/**
 * Exactly-once source writing into Kafka (KIP-618's model): one Kafka transaction per batch holds the batch's
 * records and the source offsets that cover them, written to an offsets topic in Kafka Connect's format (key
 * `["<connector>",{partition}]`, value the offset map as JSON, null to forget). A restarted task opens a producer
 * with the same transactional id, which fences its previous incarnation and aborts whatever that one left open;
 * it then reads its offsets back with read_committed semantics, so it resumes exactly after the last committed
 * batch.
 *
 * The offsets are read with raw Fetch requests and aborted transactions are filtered here (the algorithm of
 * Kafka's Java consumer: the fetch response lists aborted transactions by producer id and first offset, and an
 * ABORT control record ends one), because @platformatic/kafka's stream consumer was seen returning records of a
 * transaction aborted by fencing.
 */
import { randomBytes } from 'node:crypto';
import { Consumer, FetchIsolationLevels, ProduceAcks, Producer } from '@platformatic/kafka';
import { TributaryError } from '../../sdk/errors.js';
import type { Logger } from '../../sdk/logger.js';
import type { CommittedOffset, TransactionalWriter } from '../../sdk/platform.js';
import type { PlatformRecord, SourcePartition } from '../../sdk/record.js';
import { COORDINATOR_NOT_READY_CODES, errorCodes, platformaticBaseOptions, platformaticMessage, toTributaryError } from './drivers.js';
import type { KafkaSettings, ProducerSettings } from './config.js';

/** coordinator answers that mean "not ready yet, ask again" (a transaction still ending counts too) */
const COORDINATOR_NOT_READY = new Set([...COORDINATOR_NOT_READY_CODES, 'CONCURRENT_TRANSACTIONS']);

/** record batch attribute bits (Kafka's RecordBatch) */
const TRANSACTIONAL = 0x10;
const CONTROL = 0x20;

export interface TransactionalDeps {
  settings: KafkaSettings;
  producer: ProducerSettings;
  logger: Logger;
  /** partition of each record, as the platform's send() assigns them (creates missing topics) */
  assignPartitions(records: PlatformRecord[]): Promise<number[]>;
  /** creates the offsets topic (compacted) if missing */
  ensureOffsetsTopic(topic: string): Promise<void>;
}

/** Kafka Connect's offsets-topic key: `["<connector>",{…partition}]` */
export function offsetKey(connector: string, partition: SourcePartition): Buffer {
  return Buffer.from(JSON.stringify([connector, partition]), 'utf8');
}

export class KafkaTransactionalWriter implements TransactionalWriter {
  readonly #d: TransactionalDeps;
  readonly #id: string;
  readonly #offsetsTopic: string;
  #producer: Producer | null = null;
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** a write failed: later writes reject until resume() */
  #failed = false;
  /** the current producer has fenced/settled its predecessors (InitProducerId done) */
  #initialized = false;

  constructor(deps: TransactionalDeps, transactionalId: string, offsetsTopic: string) {
    this.#d = deps;
    this.#id = transactionalId;
    this.#offsetsTopic = offsetsTopic;
  }

  #newProducer(): Producer {
    const d = this.#d;
    return new Producer({
      ...platformaticBaseOptions(d.settings, `${d.producer.clientId}-${this.#id}`, d.producer),
      idempotent: true,
      acks: ProduceAcks.ALL,
      transactionalId: this.#id,
      // a fresh InitProducerId (-1/-1), as Java's client sends: it fences earlier producers with this id and aborts
      // their open transaction (the library's default 0/0 asks to bump producer id 0 and is refused as fenced)
      producerId: -1n,
      producerEpoch: -1,
      // the coordinator answers CONCURRENT_TRANSACTIONS while the previous commit's markers are written: retry fast
      retries: Math.max(20, d.producer.retries),
      retryDelay: 20,
      compression: d.producer.compression,
      autocreateTopics: false,
      strict: false,
      metadataMaxAge: 30_000,
    });
  }

  async open(): Promise<void> {
    await this.#d.ensureOffsetsTopic(this.#offsetsTopic);
    await this.#reset();
    await this.#init();
    this.#d.logger.info('transactional producer ready (earlier incarnations fenced)', { transactionalId: this.#id });
  }

  /**
   * InitProducerId happens when a producer's first transaction begins: begin one (fencing earlier producers with
   * this id; the coordinator first completes a transaction whose commit was already under way and aborts an open
   * one), then drop it on the client side — nothing was added to it. Only after this are the committed offsets
   * final, so a read of them must come after it.
   */
  async #init(): Promise<void> {
    // a broker that has just started creates and loads its transaction state topic on first use: the coordinator
    // answers NOT_COORDINATOR / COORDINATOR_* (and CONCURRENT_TRANSACTIONS while a predecessor's commit completes)
    // for longer than the client's own retries; wait for it here, a bounded time
    const deadline = Date.now() + 30_000;
    for (let attempt = 0; ; attempt++) {
      if (!this.#producer) await this.#reset();
      try {
        const tx = await this.#producer!.beginTransaction();
        await tx.cancel();
        this.#initialized = true;
        return;
      } catch (e) {
        await this.#reset();
        const codes = [...errorCodes(e)];
        if (!this.#closed && Date.now() < deadline && codes.some((c) => COORDINATOR_NOT_READY.has(c))) {
          await new Promise((r) => setTimeout(r, Math.min(1000, 100 * 2 ** attempt)));
          continue;
        }
        throw this.#error(e, 'initialising the transactional producer');
      }
    }
  }

  async #reset(): Promise<void> {
    const old = this.#producer;
    this.#producer = null;
    this.#initialized = false;
    if (old) await (old.close(true as boolean) as unknown as Promise<void>).catch(() => undefined);
    if (!this.#closed) this.#producer = this.#newProducer();
  }

  #error(e: unknown, what: string): TributaryError {
    const codes = [...errorCodes(e)];
    if (codes.includes('PRODUCER_FENCED') || codes.includes('INVALID_PRODUCER_EPOCH') || codes.includes('TRANSACTIONAL_ID_AUTHORIZATION_FAILED')) {
      return new TributaryError('platform.fenced', `${what}: another task incarnation with transactional id '${this.#id}' fenced this one`, {
        retriable: false,
        cause: e,
        hint: 'two workers ran the same connector task; the newer one continues',
      });
    }
    const err = toTributaryError(e, what);
    // anything else aborts the transaction and the batch is written again in a new one: retriable
    return new TributaryError(err.code, err.message, { retriable: true, cause: e, hint: err.hint });
  }

  write(records: PlatformRecord[], connector: string, offsets: CommittedOffset[]): Promise<void> {
    const run = () => this.#write(records, connector, offsets);
    const p = this.#chain.then(run, run);
    this.#chain = p.catch(() => undefined);
    return p;
  }

  resume(): void {
    this.#failed = false;
  }

  async #write(records: PlatformRecord[], connector: string, offsets: CommittedOffset[]): Promise<void> {
    if (this.#closed) throw new TributaryError('platform.write', 'transactional writer is closed', { retriable: false });
    if (this.#failed) throw new TributaryError('platform.write', 'an earlier transaction failed; waiting for the batches to be written again from there', { retriable: true });
    if (!this.#initialized) await this.#init();
    const producer = this.#producer!;
    let partitions: number[];
    try {
      partitions = await this.#d.assignPartitions(records);
    } catch (e) {
      this.#failed = true;
      throw e;
    }
    const messages = new Array(records.length + offsets.length);
    for (let i = 0; i < records.length; i++) messages[i] = platformaticMessage(records[i]!, records[i]!.topic, partitions[i]!);
    for (let j = 0; j < offsets.length; j++) {
      const o = offsets[j]!;
      messages[records.length + j] = {
        topic: this.#offsetsTopic,
        partition: 0,
        key: offsetKey(connector, o.partition),
        value: o.offset === null ? undefined : Buffer.from(JSON.stringify(o.offset), 'utf8'),
      };
    }
    let tx: Awaited<ReturnType<Producer['beginTransaction']>> | undefined;
    try {
      tx = await producer.beginTransaction();
      await tx.send({ messages });
      await tx.commit();
    } catch (e) {
      const err = this.#error(e, 'writing a transaction');
      this.#failed = true;
      if (tx && !tx.completed) await tx.abort().catch(() => undefined);
      // a new producer re-initialises (and aborts anything the coordinator still holds open for this id)
      await this.#reset();
      throw err;
    }
  }

  async readOffsets(connector: string): Promise<CommittedOffset[]> {
    // after a failed transaction, a commit whose answer was lost may still be completing: the new producer's
    // initialisation waits for it, so the offsets read next include it
    if (!this.#initialized && !this.#closed) await this.#init();
    const found = new Map<string, CommittedOffset & { at: bigint }>();
    const prefix = JSON.stringify([connector]).slice(0, -1) + ',';
    await readCommitted(this.#d.settings, this.#offsetsTopic, (key, value, _partition, at) => {
      if (!key) return;
      const k = key.toString('utf8');
      if (!k.startsWith(prefix)) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(k);
      } catch {
        return;
      }
      if (!Array.isArray(parsed) || parsed[0] !== connector || typeof parsed[1] !== 'object' || parsed[1] === null) return;
      const partition = parsed[1] as SourcePartition;
      const id = JSON.stringify(partition, Object.keys(partition).sort());
      // records arrive at their transaction's marker: the latest write of a key is the one at the highest offset
      const had = found.get(id);
      if (!had || had.at < at) found.set(id, { partition, offset: value ? JSON.parse(value.toString('utf8')) : null, at });
    });
    return [...found.values()].filter((o) => o.offset !== null).map(({ partition, offset }) => ({ partition, offset }));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#chain.catch(() => undefined);
    await this.#reset();
  }
}

/**
 * Reads every committed record of `topic` (all partitions) up to its last stable offset, skipping records of aborted
 * transactions and control records. Records of a transaction are delivered when its COMMIT marker is read (with
 * their own offsets, so per partition they may arrive out of offset order when transactions of several producers
 * interleave; callers that care sort by offset).
 *
 * The fetch is READ_UNCOMMITTED and the filtering is ours: below the last stable offset every transaction has its
 * marker, so each producer's transactional records are held until the marker says COMMIT or ABORT. This relies on
 * neither the broker's list of aborted transactions nor @platformatic/kafka's read_committed filter, which keeps one
 * aborted range per producer id (from its first aborted transaction to its last ABORT marker in the response) and so
 * drops every committed transaction in between — a transactional id keeps its producer id across restarts.
 */
export async function readCommitted(
  settings: KafkaSettings,
  topic: string,
  onRecord: (key: Buffer | null, value: Buffer | null, partition: number, offset: bigint, timestamp: number) => void,
  opts: { fetchBytes?: number } = {},
): Promise<void> {
  const consumer = new Consumer({
    ...platformaticBaseOptions(settings, `${settings.producer.clientId}-offsets-reader`),
    groupId: `tributary-offsets-${randomBytes(6).toString('hex')}`,
    autocommit: false,
    strict: false,
  });
  try {
    const md = await consumer.metadata({ topics: [topic], forceUpdate: true });
    const t = md.topics.get(topic);
    if (!t) throw new TributaryError('platform.read', `topic '${topic}' not found in the cluster's metadata`, { retriable: true });
    const ends = (await consumer.listOffsets({ topics: [topic], isolationLevel: FetchIsolationLevels.READ_COMMITTED })).get(topic);
    if (!ends || ends.length < t.partitionsCount) throw new TributaryError('platform.read', `no last stable offsets for the partitions of '${topic}'`, { retriable: true });
    // from the log start offset (retention may have deleted the first segments; a fetch below it is out of range)
    const starts = (await consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic) ?? [];
    for (let partition = 0; partition < t.partitionsCount; partition++) {
      const end = ends[partition]!;
      let next = starts[partition] ?? 0n;
      const deadline = Date.now() + 60_000;
      /** per producer id: records of its open transaction, delivered or dropped at its marker */
      const open = new Map<bigint, Array<{ key: Buffer | null; value: Buffer | null; offset: bigint; ts: number }>>();
      while (next < end) {
        if (Date.now() > deadline) throw new TributaryError('platform.read', `timed out reading '${topic}'`, { retriable: true });
        const res = await consumer.fetch({
          node: t.partitions[partition]!.leader,
          maxWaitTime: 100,
          minBytes: 1,
          maxBytes: 16 * 1048576,
          isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
          topics: [{ topicId: t.id, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: next, lastFetchedEpoch: -1, partitionMaxBytes: opts.fetchBytes ?? 8 * 1048576 }] }],
        });
        let progressed = false;
        for (const tr of res.responses) {
          for (const p of tr.partitions) {
            if (p.errorCode) throw new TributaryError('platform.read', `reading '${topic}': error code ${p.errorCode}`, { retriable: true });
            for (const batch of p.records ?? []) {
              const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
              if (last < next) continue;
              if (batch.firstOffset >= end) break;
              if (batch.attributes & CONTROL) {
                // control record key: version (int16), type (int16): 0 = ABORT, 1 = COMMIT
                const key = batch.records[0]?.key;
                const held = open.get(batch.producerId);
                open.delete(batch.producerId);
                if (held && key && key.length >= 4 && key.readInt16BE(2) === 1) for (const r of held) onRecord(r.key, r.value, partition, r.offset, r.ts);
              } else {
                const txn = (batch.attributes & TRANSACTIONAL) !== 0;
                let held = txn ? open.get(batch.producerId) : undefined;
                if (txn && !held) open.set(batch.producerId, (held = []));
                for (const r of batch.records) {
                  const offset = batch.firstOffset + BigInt(r.offsetDelta);
                  if (offset < next || offset >= end) continue;
                  // LogAppendTime batches (attribute bit 3) carry the broker's time in maxTimestamp
                  const ts = Number(batch.attributes & 0x08 ? batch.maxTimestamp : batch.firstTimestamp + BigInt(r.timestampDelta));
                  if (held) held.push({ key: r.key, value: r.value, offset, ts });
                  else onRecord(r.key, r.value, partition, offset, ts);
                }
              }
              next = last + 1n;
              progressed = true;
            }
          }
        }
        if (!progressed) await new Promise((r) => setTimeout(r, 50));
      }
      // below the last stable offset every transaction has its marker: anything still held was not committed
    }
  } catch (e) {
    if (e instanceof TributaryError) throw e;
    throw toTributaryError(e, `reading '${topic}'`);
  } finally {
    await (consumer.close(true as boolean) as unknown as Promise<void>).catch(() => undefined);
  }
}
