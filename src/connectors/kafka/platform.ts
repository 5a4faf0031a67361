/**
 * Apache Kafka as Tributary's event streaming platform.
 *
 * Delivery: `send(records)` resolves only when every record is acknowledged with `acks=all` by an idempotent
 * producer. Records are partitioned like the Java client (explicit partition, else murmur2 of the key bytes, else a
 * sticky partition per topic), queued per topic partition and written in batches of up to `batch.size` bytes with
 * exactly one request in flight per partition (so idempotent sequence numbers, and therefore order, hold) and all
 * partitions in parallel. A batch that fails retriably is retried with jittered backoff until
 * `delivery.timeout.ms`, which is backpressure for the caller: its `send` stays pending. When a batch finally
 * fails, it and every later queued batch of that partition are rejected, so nothing is written out of order behind
 * a gap; the runtime resends from its lowest unacknowledged record and never commits their source offsets.
 *
 * Exactly-once (transactional) production is a later step: it fits behind {@link ProduceDriver} as a driver whose
 * batches join a transaction, with `send` + offset commit in one transaction.
 */
import { randomBytes } from 'node:crypto';
import { Admin, Consumer, MessagesStreamModes } from '@platformatic/kafka';
import type { ConfigSpec } from '../../sdk/config.js';
import { TributaryError } from '../../sdk/errors.js';
import type { Logger } from '../../sdk/logger.js';
import type { Platform, TopicInfo, TopicSpec } from '../../sdk/platform.js';
import type { Header, PlatformRecord, StoredRecord } from '../../sdk/record.js';
import { applyProducerOverrides, kafkaPlatformSpec as spec, resolveKafkaSettings, topicCreationSpec, type KafkaSettings, type ProducerSettings } from './config.js';
import { coordinatorNotReady, createDriver, errorCodes, platformaticBaseOptions, toTributaryError, type ProduceDriver } from './drivers.js';
import { partitionForKey } from './murmur2.js';
import { KafkaTransactionalWriter } from './transactions.js';

export { applyProducerOverrides, topicCreationSpec, PRODUCER_OVERRIDE_ALLOWLIST, parseJaasConfig, resolveKafkaSettings } from './config.js';
export type { KafkaSettings, ProducerSettings, CompressionType } from './config.js';

/** Worker-level settings of the Kafka platform (`bootstrap.servers`, security, producer, topic creation). */
export const kafkaPlatformSpec: ConfigSpec = spec;

interface Item {
  records: PlatformRecord[];
  sizes: number[];
  /** records handed to a batch so far */
  next: number;
  acked: number;
  resolve(): void;
  reject(e: unknown): void;
  settled: boolean;
}

interface Lane {
  topic: string;
  partition: number;
  queue: Item[];
  queuedBytes: number;
  inflight: boolean;
  timer?: NodeJS.Timeout;
}

/** Approximate bytes of one record in a batch (key, value, headers, framing). */
function recordSize(r: PlatformRecord): number {
  let n = 24 + (r.key ? r.key.length : 0) + (r.value ? r.value.length : 0);
  if (r.headers) for (const h of r.headers) n += 8 + h.key.length + (h.value === null ? 0 : h.value.length);
  return n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The Kafka {@link Platform}. Create with {@link createKafkaPlatform}. */
export class KafkaPlatform implements Platform {
  readonly kind = 'kafka';
  readonly settings: KafkaSettings;
  readonly producerSettings: ProducerSettings;
  #log: Logger;
  #driver?: ProduceDriver;
  #admin?: Admin;
  #partitions = new Map<string, Promise<number>>();
  #lanes = new Map<string, Lane>();
  #sticky = new Map<string, { partition: number; bytes: number }>();
  #closed = false;
  #inflight = new Set<Promise<void>>();

  constructor(settings: KafkaSettings, logger: Logger, producer: ProducerSettings = settings.producer) {
    this.settings = settings;
    this.producerSettings = producer;
    this.#log = logger;
  }

  /** Name of the client library that produces (see `kafka.client`). */
  get client(): string {
    return this.settings.client;
  }

  /**
   * A platform for one connector: same cluster and settings with the connector's `producer.override.*` applied
   * (allowlisted keys only; see {@link applyProducerOverrides}). Returns this platform when there are none.
   */
  withProducerOverrides(connectorConfig: Record<string, unknown>): KafkaPlatform {
    const p = applyProducerOverrides(this.producerSettings, connectorConfig);
    return p === this.producerSettings ? this : new KafkaPlatform(this.settings, this.#log, p);
  }

  forConnector(config: Record<string, string>): KafkaPlatform {
    return this.withProducerOverrides(config);
  }

  #getDriver(): ProduceDriver {
    this.#driver ??= createDriver(this.settings, this.producerSettings);
    return this.#driver;
  }

  #getAdmin(): Admin {
    this.#admin ??= new Admin({ ...platformaticBaseOptions(this.settings, `${this.settings.clientId}-admin`), strict: false });
    return this.#admin;
  }

  async send(records: PlatformRecord[]): Promise<void> {
    if (this.#closed) throw new TributaryError('platform.write', 'Kafka platform is closed', { retriable: false });
    if (records.length === 0) return;
    const byTopic = new Map<string, PlatformRecord[]>();
    for (const r of records) {
      let list = byTopic.get(r.topic);
      if (!list) byTopic.set(r.topic, (list = []));
      list.push(r);
    }
    const counts = new Map<string, number>();
    await Promise.all([...byTopic.keys()].map(async (t) => counts.set(t, await this.#partitionCount(t))));
    const parts: Promise<void>[] = [];
    for (const [topic, list] of byTopic) {
      const n = counts.get(topic)!;
      const perPartition = new Map<number, { records: PlatformRecord[]; sizes: number[] }>();
      for (const r of list) {
        const size = recordSize(r);
        const p = this.#assign(r, n, size);
        let e = perPartition.get(p);
        if (!e) perPartition.set(p, (e = { records: [], sizes: [] }));
        e.records.push(r);
        e.sizes.push(size);
      }
      for (const [p, e] of perPartition) parts.push(this.#enqueue(topic, p, e.records, e.sizes));
    }
    if (parts.length === 1) return parts[0];
    const results = await Promise.allSettled(parts);
    const failed = results.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** explicit partition, else murmur2 of the key as Java's client, else the sticky partition */
  #assign(r: PlatformRecord, n: number, size: number): number {
    if (r.partition !== undefined && r.partition !== null) {
      if (!Number.isInteger(r.partition) || r.partition < 0 || r.partition >= n) {
        throw new TributaryError('platform.write', `Partition ${r.partition} does not exist in topic '${r.topic}' (${n} partitions)`, { retriable: false });
      }
      return r.partition;
    }
    if (r.key) return partitionForKey(r.key, n);
    return this.#stickyPartition(r.topic, n, size);
  }

  /**
   * Exactly-once writing for one task: records and offsets in one Kafka transaction per batch, the offsets in
   * `offsetsTopic` (compacted, created on first use). See {@link KafkaTransactionalWriter}.
   */
  transactional(opts: { transactionalId: string; offsetsTopic: string }): KafkaTransactionalWriter {
    return new KafkaTransactionalWriter(
      {
        settings: this.settings,
        producer: this.producerSettings,
        logger: this.#log,
        assignPartitions: async (records) => {
          const counts = new Map<string, number>();
          for (const r of records) if (!counts.has(r.topic)) counts.set(r.topic, await this.#partitionCount(r.topic));
          return records.map((r) => this.#assign(r, counts.get(r.topic)!, recordSize(r)));
        },
        ensureOffsetsTopic: async (topic) => {
          if ((await this.#describePartitions(topic)) === undefined) {
            await this.#create(topic, { partitions: 1, configs: { 'cleanup.policy': 'compact' } });
          }
        },
      },
      opts.transactionalId,
      opts.offsetsTopic,
    );
  }

  /** Java's sticky partitioner in spirit: null-key records fill one partition's batch, then move on. */
  #stickyPartition(topic: string, n: number, size: number): number {
    let s = this.#sticky.get(topic);
    if (!s || s.partition >= n) this.#sticky.set(topic, (s = { partition: Math.floor(Math.random() * n), bytes: 0 }));
    if (s.bytes + size > this.producerSettings.batchSize && s.bytes > 0) {
      s.partition = n > 1 ? (s.partition + 1 + Math.floor(Math.random() * (n - 1))) % n : 0;
      s.bytes = 0;
    }
    s.bytes += size;
    return s.partition;
  }

  #enqueue(topic: string, partition: number, records: PlatformRecord[], sizes: number[]): Promise<void> {
    const id = `${topic}\u0000${partition}`;
    let lane = this.#lanes.get(id);
    if (!lane) this.#lanes.set(id, (lane = { topic, partition, queue: [], queuedBytes: 0, inflight: false }));
    const l = lane;
    return new Promise<void>((resolve, reject) => {
      const item: Item = { records, sizes, next: 0, acked: 0, resolve, reject, settled: false };
      l.queue.push(item);
      for (const s of sizes) l.queuedBytes += s;
      this.#schedule(l);
    });
  }

  #schedule(lane: Lane): void {
    if (lane.inflight || lane.timer || lane.queue.length === 0) return;
    const linger = this.producerSettings.lingerMs;
    if (linger <= 0 || lane.queuedBytes >= this.producerSettings.batchSize) {
      this.#pump(lane);
    } else {
      lane.timer = setTimeout(() => {
        lane.timer = undefined;
        this.#pump(lane);
      }, linger);
    }
  }

  #pump(lane: Lane): void {
    if (lane.inflight || lane.queue.length === 0) return;
    const max = this.producerSettings.batchSize;
    const batch: PlatformRecord[] = [];
    const spans: Array<[Item, number]> = [];
    let bytes = 0;
    for (const item of lane.queue) {
      const start = item.next;
      while (item.next < item.records.length && (batch.length === 0 || bytes + item.sizes[item.next]! <= max)) {
        bytes += item.sizes[item.next]!;
        batch.push(item.records[item.next]!);
        item.next++;
      }
      if (item.next > start) spans.push([item, item.next - start]);
      if (item.next < item.records.length) break;
    }
    lane.queuedBytes -= bytes;
    while (lane.queue.length && lane.queue[0]!.next === lane.queue[0]!.records.length) lane.queue.shift();
    lane.inflight = true;
    const run = this.#produceWithRetry(lane.topic, lane.partition, batch).then(
      () => {
        lane.inflight = false;
        for (const [item, n] of spans) {
          item.acked += n;
          if (item.acked === item.records.length && !item.settled) {
            item.settled = true;
            item.resolve();
          }
        }
        this.#schedule(lane);
      },
      (err) => {
        lane.inflight = false;
        // fail this batch and everything queued behind it: nothing may be written after a gap in this partition
        const failed = new Set<Item>(spans.map(([i]) => i));
        for (const i of lane.queue) failed.add(i);
        lane.queue = [];
        lane.queuedBytes = 0;
        for (const i of failed) {
          if (i.settled) continue;
          i.settled = true;
          i.reject(err);
        }
      },
    );
    this.#inflight.add(run);
    void run.finally(() => this.#inflight.delete(run));
  }

  async #produceWithRetry(topic: string, partition: number, batch: PlatformRecord[], deadline?: number): Promise<void> {
    const p = this.producerSettings;
    deadline ??= Date.now() + (p.deliveryTimeoutMs || p.requestTimeoutMs);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#produceBefore(deadline, topic, partition, batch);
        if (attempt > 0) this.#log.info('Kafka write recovered', { topic, partition, attempts: attempt + 1 });
        return;
      } catch (e) {
        if (batch.length > 1 && [...errorCodes(e)].some((c) => c === 'MESSAGE_TOO_LARGE' || c === 'RECORD_LIST_TOO_LARGE')) {
          // the topic takes smaller batches than batch.size (its max.message.bytes): halves, in order, as Java's
          // producer splits a batch; only a single record too large for the topic fails
          this.#log.warn('Kafka refused a batch as too large, splitting it', { topic, partition, records: batch.length, hint: "lower batch.size below the topic's max.message.bytes" });
          const half = Math.ceil(batch.length / 2);
          await this.#produceWithRetry(topic, partition, batch.slice(0, half), deadline);
          await this.#produceWithRetry(topic, partition, batch.slice(half), deadline);
          return;
        }
        const err = toTributaryError(e, `writing ${batch.length} records to ${topic}[${partition}]`);
        if ((err.details as { resetProducer?: boolean } | undefined)?.resetProducer) await this.#resetDriver('producer state lost on the broker');
        const wait = Math.min(p.retryBackoffMaxMs, p.retryBackoffMs * 2 ** Math.min(attempt, 10)) * (0.8 + Math.random() * 0.4);
        if (!err.retriable || this.#closed || Date.now() + wait >= deadline) {
          if (err.retriable && attempt > 0) err.message += ` (gave up after ${attempt + 1} attempts, delivery.timeout.ms=${p.deliveryTimeoutMs})`;
          // an attempt that failed retriably may have been written all the same, under the sequence numbers the
          // resend of these records would get again; a different batch of the same size under those numbers would
          // be taken for a duplicate and dropped. The resend therefore comes from a new producer id.
          if (!this.#closed && (err.retriable || attempt > 0)) await this.#resetDriver('a batch failed without a known outcome');
          throw err;
        }
        if (attempt === 0) this.#log.warn('Kafka write failed, retrying', { topic, partition, error: err.message });
        if (err.code === 'platform.write' && /UNKNOWN_TOPIC|NOT_LEADER/.test(err.message)) this.#partitions.delete(topic);
        await sleep(wait);
      }
    }
  }

  /**
   * One produce attempt bounded by the delivery deadline. The idempotent client retries a lost connection by
   * itself without end; past the deadline the producer is closed (ending those retries, so nothing from it lands
   * later) and replaced, and the batch fails retriably.
   */
  async #produceBefore(deadline: number, topic: string, partition: number, batch: PlatformRecord[]): Promise<void> {
    const driver = this.#getDriver();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), Math.max(1, deadline - Date.now()))));
    try {
      const r = await Promise.race([driver.produce(topic, partition, batch).then(() => 'ok' as const), expired]);
      if (r === 'expired') {
        if (this.#driver === driver) {
          this.#driver = undefined;
          void driver.close();
        }
        throw new TributaryError('platform.connection', `Kafka did not acknowledge ${batch.length} records to ${topic}[${partition}] within delivery.timeout.ms=${this.producerSettings.deliveryTimeoutMs}`, {
          retriable: true,
          hint: 'is the broker running and reachable? check bootstrap.servers',
        });
      }
    } finally {
      clearTimeout(timer);
    }
  }

  async #resetDriver(why: string): Promise<void> {
    const d = this.#driver;
    this.#driver = undefined;
    if (!d) return;
    this.#log.warn(`resetting the Kafka producer (${why})`);
    await d?.close();
  }

  #partitionCount(topic: string): Promise<number> {
    let p = this.#partitions.get(topic);
    if (!p) {
      p = this.#describePartitions(topic).then(async (n) => {
        if (n !== undefined) return n;
        if (!this.settings.autoCreate) {
          throw new TributaryError('platform.topic_missing', `Topic '${topic}' does not exist and auto.create=false`, {
            retriable: false,
            hint: `create the topic first, or set auto.create=true to create it with topic.creation.default.* settings`,
          });
        }
        return this.#create(topic, this.settings.topicDefaults);
      });
      this.#partitions.set(topic, p);
      p.catch(() => this.#partitions.delete(topic));
    }
    return p;
  }

  /** Partition count of a topic, or undefined when it does not exist. */
  async #describePartitions(topic: string): Promise<number | undefined> {
    try {
      const md = await this.#getAdmin().metadata({ topics: [topic], forceUpdate: true, autocreateTopics: false });
      const t = md.topics.get(topic);
      return t ? t.partitionsCount : undefined;
    } catch (e) {
      // @platformatic/kafka reports a missing topic as UserError "Unknown topic <name>."
      if ((e as { code?: string }).code === 'PLT_KFK_USER' && /^Unknown topic /.test((e as Error).message)) return undefined;
      if ([...errorCodes(e)].some((c) => c === 'UNKNOWN_TOPIC_OR_PARTITION' || c === 'UNKNOWN_TOPIC_ID')) return undefined;
      throw toTributaryError(e, `reading metadata of topic '${topic}'`);
    }
  }

  async #create(topic: string, topicSpec: TopicSpec): Promise<number> {
    const admin = this.#getAdmin();
    const configs = Object.entries(topicSpec.configs ?? {}).map(([name, value]) => ({ name, value }));
    try {
      await admin.createTopics({ topics: [topic], partitions: topicSpec.partitions ?? -1, replicas: topicSpec.replicationFactor ?? -1, configs });
      this.#log.info('created Kafka topic', { topic, partitions: topicSpec.partitions ?? 'default', replicationFactor: topicSpec.replicationFactor ?? 'default', configs: topicSpec.configs ?? {} });
    } catch (e) {
      if (![...errorCodes(e)].includes('TOPIC_ALREADY_EXISTS')) {
        const err = toTributaryError(e, `creating topic '${topic}'`);
        throw new TributaryError(err.code, err.message, { retriable: err.retriable, cause: e, hint: 'check topic.creation.default.* settings (partitions, replication.factor, topic configs)' });
      }
    }
    // wait until the topic's partitions have leaders
    for (let i = 0; i < 100; i++) {
      const md = await admin.metadata({ topics: [topic], forceUpdate: true, autocreateTopics: false }).catch(() => undefined);
      const t = md?.topics.get(topic);
      if (t && t.partitionsCount > 0 && t.partitions.every((p) => p && p.leader >= 0)) return t.partitionsCount;
      await sleep(100);
    }
    throw new TributaryError('platform.write', `Topic '${topic}' was created but has no leader yet`, { retriable: true });
  }

  /**
   * Creates the topic if missing (no-op if present) with `spec` over the worker's `topic.creation.default.*`
   * settings. With `auto.create=false` a missing topic is a `platform.topic_missing` error instead.
   */
  async ensureTopic(name: string, topicSpec?: TopicSpec): Promise<void> {
    const n = await this.#describePartitions(name);
    if (n !== undefined) {
      this.#partitions.set(name, Promise.resolve(n));
      return;
    }
    if (!this.settings.autoCreate) {
      throw new TributaryError('platform.topic_missing', `Topic '${name}' does not exist and auto.create=false`, { retriable: false, hint: 'create the topic first' });
    }
    const d = this.settings.topicDefaults;
    const merged: TopicSpec = {
      partitions: topicSpec?.partitions ?? d.partitions,
      replicationFactor: topicSpec?.replicationFactor ?? d.replicationFactor,
      configs: { ...(d.configs ?? {}), ...(topicSpec?.configs ?? {}) },
    };
    const count = this.#create(name, merged);
    this.#partitions.set(name, count);
    await count;
  }

  /** Topics (internal ones excluded) with partitions, replicas, and consumer groups/consumers (as EXTENDED shows). */
  async listTopics(): Promise<TopicInfo[]> {
    const admin = this.#getAdmin();
    try {
      const names = (await admin.listTopics({ includeInternals: false })).filter((n) => !n.startsWith('__')).sort();
      if (names.length === 0) return [];
      const md = await admin.metadata({ topics: names, forceUpdate: true, autocreateTopics: false });
      const groups = new Map<string, { groups: Set<string>; consumers: number }>();
      try {
        const list = await admin.listGroups({ types: ['classic', 'consumer'] });
        const ids = [...list.keys()];
        if (ids.length) {
          const described = await admin.describeGroups({ groups: ids });
          for (const [gid, g] of described) {
            for (const m of g.members.values()) {
              for (const t of m.assignments?.keys() ?? []) {
                let e = groups.get(t);
                if (!e) groups.set(t, (e = { groups: new Set(), consumers: 0 }));
                e.groups.add(gid);
                e.consumers++;
              }
            }
          }
        }
      } catch (e) {
        this.#log.debug('could not describe consumer groups', { error: (e as Error).message });
      }
      return names.map((name) => {
        const t = md.topics.get(name);
        const g = groups.get(name);
        return {
          name,
          partitions: t?.partitionsCount ?? 0,
          replicas: t?.partitions[0]?.replicas.length ?? 0,
          consumers: g?.consumers ?? 0,
          consumerGroups: g?.groups.size ?? 0,
        };
      });
    } catch (e) {
      throw toTributaryError(e, 'listing topics');
    }
  }

  /**
   * Reads a topic across its partitions (PRINT). Uses a throwaway consumer group that commits nothing.
   * Resolves after `limit` records, or when `signal` aborts.
   */
  async read(topic: string, opts: { fromBeginning: boolean; limit?: number; signal?: AbortSignal; onRecord: (r: StoredRecord) => void }): Promise<void> {
    if ((await this.#describePartitions(topic)) === undefined) {
      throw new TributaryError('platform.topic_missing', `Topic '${topic}' does not exist`, { retriable: false });
    }
    if (opts.signal?.aborted || opts.limit === 0) return;
    const consumer = new Consumer({
      ...platformaticBaseOptions(this.settings, `${this.settings.clientId}-print`),
      groupId: `tributary-print-${randomBytes(6).toString('hex')}`,
      autocommit: false,
      maxWaitTime: 500,
      strict: false,
    });
    let stream: Awaited<ReturnType<typeof consumer.consume>> | undefined;
    const onAbort = () => void stream?.close();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // joining the throwaway group right after a broker (re)start can meet NOT_COORDINATOR or
      // COORDINATOR_LOAD_IN_PROGRESS for a few seconds: retried for up to 20 s
      for (let attempt = 0; ; attempt++) {
        try {
          stream = await consumer.consume({ topics: [topic], mode: opts.fromBeginning ? MessagesStreamModes.EARLIEST : MessagesStreamModes.LATEST, autocommit: false });
          break;
        } catch (e) {
          if (attempt >= 40 || opts.signal?.aborted || !coordinatorNotReady(e)) throw e;
          await sleep(500);
        }
      }
      if (opts.signal?.aborted) return;
      let n = 0;
      for await (const m of stream) {
        const headers: Header[] = [];
        for (const [k, v] of m.headers as Map<Buffer, Buffer>) headers.push({ key: Buffer.from(k).toString('utf8'), value: v ?? null });
        opts.onRecord({
          topic: m.topic,
          partition: m.partition,
          offset: m.offset,
          timestamp: Number(m.timestamp),
          key: m.key && (m.key as Buffer).length !== undefined ? (m.key as Buffer) : null,
          value: m.value === undefined || m.value === null ? null : (m.value as Buffer),
          headers,
        });
        if (opts.limit !== undefined && ++n >= opts.limit) break;
        if (opts.signal?.aborted) break;
      }
    } catch (e) {
      if (!opts.signal?.aborted) throw toTributaryError(e, `reading topic '${topic}'`);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      await stream?.close().catch(() => undefined);
      await (consumer.close(true as boolean) as unknown as Promise<void>).catch(() => undefined);
    }
  }

  /** Waits for batches in flight (bounded by delivery.timeout.ms), then closes the clients. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const lane of this.#lanes.values()) {
      if (lane.timer) {
        clearTimeout(lane.timer);
        lane.timer = undefined;
        this.#pump(lane);
      }
    }
    while (this.#inflight.size) await Promise.allSettled([...this.#inflight]);
    for (const lane of this.#lanes.values()) {
      for (const i of lane.queue) if (!i.settled) ((i.settled = true), i.reject(new TributaryError('platform.write', 'Kafka platform closed before the records were sent', { retriable: true })));
    }
    await this.#driver?.close();
    await this.#admin?.close().catch(() => undefined);
  }
}

/**
 * Creates the Kafka platform from worker settings (see {@link kafkaPlatformSpec}). Validates only (no I/O):
 * connections are opened on first use. Throws TributaryError `config.invalid` listing every bad key; keys this
 * spec does not know are logged as warnings, since the worker's config holds other components' keys too.
 */
export function createKafkaPlatform(config: Record<string, unknown>, logger: Logger): KafkaPlatform {
  const settings = resolveKafkaSettings(config, (key, hint) => logger.warn(`'${key}' was supplied but is not a known Kafka platform setting`, hint ? { hint } : undefined));
  return new KafkaPlatform(settings, logger);
}
