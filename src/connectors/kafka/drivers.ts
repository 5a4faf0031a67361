/**
 * Produce drivers: the one thing the Kafka platform asks of a client library is "write this batch of records to
 * this topic partition, idempotently, acks=all, and resolve when acknowledged". Partitioning, batching, ordering
 * and retries live in the platform, so libraries can be swapped and compared (bench/kafka.ts).
 *
 * A driver is called with at most one batch in flight per partition (the idempotent sequence of a partition only
 * advances when the previous batch is acknowledged, in both libraries); batches for different partitions may be
 * in flight together.
 */
import { createRequire } from 'node:module';
import { Admin, ConnectionPool, Producer, ProduceAcks, Writer, createAPI, initProducerIdV3, produceV9, type Connection } from '@platformatic/kafka';
import { TributaryError } from '../../sdk/errors.js';
import type { PlatformRecord } from '../../sdk/record.js';
import type { KafkaClientName, KafkaSettings, ProducerSettings } from './config.js';
import { encodeProduceRequest, nextSequence } from './record-batch.js';

export interface ProduceDriver {
  readonly name: KafkaClientName;
  /** Writes `records` (all for `topic`/`partition`, in order) as one batch; resolves when acknowledged by all ISRs. */
  produce(topic: string, partition: number, records: PlatformRecord[]): Promise<void>;
  close(): Promise<void>;
}

const PRODUCER_STATE_ERRORS = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'DUPLICATE_SEQUENCE_NUMBER']);

/** Walks an error, its `cause`s and AggregateError members. */
function* errorTree(err: unknown, depth = 0): Generator<Record<string, unknown>> {
  if (!err || typeof err !== 'object' || depth > 6) return;
  yield err as Record<string, unknown>;
  const e = err as { errors?: unknown[]; cause?: unknown };
  if (Array.isArray(e.errors)) for (const x of e.errors) yield* errorTree(x, depth + 1);
  if (e.cause) yield* errorTree(e.cause, depth + 1);
}

/** Kafka protocol error ids (`apiId`) found anywhere in an error. */
export function* errorCodes(err: unknown, depth = 0): Generator<string> {
  if (!err || typeof err !== 'object' || depth > 6) return;
  const e = err as { apiId?: unknown; type?: unknown; errors?: unknown[]; cause?: unknown };
  if (typeof e.apiId === 'string') yield e.apiId;
  else if (typeof e.type === 'string' && /^[A-Z_]+$/.test(e.type)) yield e.type; // kafkajs
  if (Array.isArray(e.errors)) for (const x of e.errors) yield* errorCodes(x, depth + 1);
  if (e.cause) yield* errorCodes(e.cause, depth + 1);
}

/** Codes a broker answers for a moment after it (or a coordinator on it) starts: worth asking again shortly. */
export const COORDINATOR_NOT_READY_CODES: readonly string[] = ['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS'];

/** Whether an error carries one of {@link COORDINATOR_NOT_READY_CODES}. */
export function coordinatorNotReady(err: unknown): boolean {
  for (const c of errorCodes(err)) if (COORDINATOR_NOT_READY_CODES.includes(c)) return true;
  return false;
}

/**
 * Maps a client-library error to a TributaryError: broker unreachable or timing out → retriable
 * `platform.connection`; broker errors marked retriable by Kafka → retriable `platform.write`; producer-state
 * errors (sequence/epoch lost after a broker crash) → retriable `platform.write` with `details.resetProducer`;
 * authentication → non-retriable `platform.connection`; the rest (e.g. MESSAGE_TOO_LARGE) → non-retriable.
 */
export function toTributaryError(err: unknown, what: string): TributaryError {
  if (err instanceof TributaryError) return err;
  let network = false;
  let auth = false;
  let retriableProtocol: string | undefined;
  let fatalProtocol: string | undefined;
  let producerState: string | undefined;
  let topicMissing = false;
  for (const e of errorTree(err)) {
    const code = String(e.code ?? '');
    const apiId = typeof e.apiId === 'string' ? e.apiId : typeof e.type === 'string' ? e.type : undefined;
    const name = String(e.name ?? '');
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) network = true;
    if (code === 'PLT_KFK_NETWORK' || /KafkaJSConnection|KafkaJSRequestTimeout|KafkaJSBrokerNotFound|KafkaJSLockTimeout/.test(name)) network = true;
    if (code === 'PLT_KFK_AUTHENTICATION' || /SASL|Authentication/i.test(name) || apiId === 'SASL_AUTHENTICATION_FAILED') auth = true;
    if (apiId && PRODUCER_STATE_ERRORS.has(apiId)) producerState = apiId;
    else if (apiId === 'UNKNOWN_TOPIC_OR_PARTITION' || apiId === 'UNKNOWN_TOPIC_ID') topicMissing = true;
    else if (apiId && (e.canRetry === true || e.retriable === true)) retriableProtocol ??= apiId;
    else if (apiId && (e.canRetry === false || e.retriable === false)) fatalProtocol ??= apiId;
  }
  const msg = err instanceof Error ? err.message : String(err);
  if (auth) return new TributaryError('platform.connection', `Kafka authentication failed while ${what}: ${msg}`, { retriable: false, cause: err, hint: 'check sasl.* / ssl.* settings' });
  if (producerState) return new TributaryError('platform.write', `Kafka producer state lost while ${what} (${producerState})`, { retriable: true, cause: err, details: { resetProducer: true } });
  if (fatalProtocol && !retriableProtocol && !network) return new TributaryError('platform.write', `Kafka refused the request while ${what}: ${fatalProtocol}`, { retriable: false, cause: err });
  if (network) return new TributaryError('platform.connection', `Kafka unreachable while ${what}: ${msg}`, { retriable: true, cause: err, hint: 'is the broker running? check bootstrap.servers' });
  if (retriableProtocol || topicMissing) return new TributaryError('platform.write', `Kafka request failed while ${what} (${retriableProtocol ?? 'UNKNOWN_TOPIC_OR_PARTITION'})`, { retriable: true, cause: err });
  return new TributaryError('platform.write', `Kafka request failed while ${what}: ${msg}`, { retriable: true, cause: err });
}

/** Options shared by @platformatic/kafka clients (producer, admin, consumer). */
export function platformaticBaseOptions(s: KafkaSettings, clientId: string, p: ProducerSettings = s.producer) {
  return {
    clientId,
    bootstrapBrokers: s.bootstrapServers,
    timeout: p.requestTimeoutMs,
    connectTimeout: Math.min(10_000, p.requestTimeoutMs),
    retries: p.retries,
    retryDelay: p.retryBackoffMs,
    ...(s.tls
      ? {
          tls: {
            ca: s.tls.ca,
            cert: s.tls.cert,
            key: s.tls.key,
            passphrase: s.tls.passphrase,
            ...(s.tls.checkServerIdentity ? {} : { checkServerIdentity: () => undefined }),
          },
        }
      : {}),
    ...(s.sasl ? { sasl: { mechanism: s.sasl.mechanism, username: s.sasl.username, password: s.sasl.password } } : {}),
  };
}

/** A record as @platformatic/kafka's producer takes it, for one topic partition. */
export function platformaticMessage(r: PlatformRecord, topic: string, partition: number) {
  let headers: Map<Buffer, Buffer> | undefined;
  if (r.headers && r.headers.length) {
    // distinct Buffer keys, so repeated header keys are all kept, in order
    headers = new Map();
    for (const h of r.headers) headers.set(Buffer.from(h.key, 'utf8'), h.value === null ? (null as unknown as Buffer) : typeof h.value === 'string' ? Buffer.from(h.value, 'utf8') : h.value);
  }
  return { topic, partition, key: r.key ?? undefined, value: r.value ?? undefined, timestamp: BigInt(r.timestamp), headers };
}

/** @platformatic/kafka driver (the default: measured faster, see docs/kafka.md). */
export class PlatformaticDriver implements ProduceDriver {
  readonly name = 'platformatic' as const;
  #producer: Producer;

  constructor(settings: KafkaSettings, producer: ProducerSettings) {
    this.#producer = new Producer({
      ...platformaticBaseOptions(settings, producer.clientId, producer),
      idempotent: true,
      acks: ProduceAcks.ALL,
      compression: producer.compression,
      autocreateTopics: false,
      strict: false,
      metadataMaxAge: 30_000,
    });
  }

  async produce(topic: string, partition: number, records: PlatformRecord[]): Promise<void> {
    const messages = new Array(records.length);
    for (let i = 0; i < records.length; i++) messages[i] = platformaticMessage(records[i]!, topic, partition);
    await this.#producer.send({ messages });
  }

  async close(): Promise<void> {
    await (this.#producer.close(true as boolean) as unknown as Promise<void>).catch(() => undefined);
  }
}

/** Produce v9 with a request body built by {@link encodeProduceRequest}; the response parsed by @platformatic/kafka. */
const produceRaw = createAPI(0, 9, (body: Buffer) => Writer.create().append(body), produceV9.parseResponse);

/**
 * Tributary's own produce path (the default): each batch is encoded straight into one buffer
 * ({@link encodeProduceRequest}) and written on @platformatic/kafka's connections (TLS and SASL included), with
 * an idempotent producer id from InitProducerId and one sequence per partition that advances only when a batch is
 * acknowledged, so a retried batch carries the same sequence and the broker drops it if the first attempt landed.
 * When the platform gives up on a batch whose outcome is unknown it replaces this driver (a new producer id), so
 * the records' resend, however batched, cannot be mistaken for a duplicate.
 * Leaders come from metadata and are looked up again after any failure. Needs Kafka 2.5 or later (Produce v9,
 * InitProducerId v3).
 */
export class RecordBatchDriver implements ProduceDriver {
  readonly name = 'tributary' as const;
  #producer: ProducerSettings;
  #admin: Admin;
  #pool: ConnectionPool;
  #identity?: Promise<{ producerId: bigint; producerEpoch: number }>;
  #leaders = new Map<string, Promise<{ host: string; port: number }>>();
  #sequences = new Map<string, number>();
  #closed = false;

  constructor(settings: KafkaSettings, producer: ProducerSettings) {
    this.#producer = producer;
    const base = platformaticBaseOptions(settings, producer.clientId, producer);
    this.#admin = new Admin({ ...base, clientId: `${producer.clientId}-metadata`, strict: false });
    // the broker answers a produce by its timeout_ms (requestTimeoutMs): the client waits a little longer, so a
    // late answer is not taken for a lost one
    this.#pool = new ConnectionPool(producer.clientId, { connectTimeout: base.connectTimeout, requestTimeout: producer.requestTimeoutMs + 5000, tls: base.tls, sasl: base.sasl as never });
  }

  /** the idempotent producer's id and epoch, asked of any broker once (again after a failure) */
  #producerIdentity(): Promise<{ producerId: bigint; producerEpoch: number }> {
    if (!this.#identity) {
      const p = (async () => {
        const md = await this.#admin.metadata({ topics: [] });
        const brokers = [...md.brokers.values()];
        // a broker that just started answers COORDINATOR_LOAD_IN_PROGRESS for a moment: asked again quietly
        for (let attempt = 0; ; attempt++) {
          try {
            const conn = await this.#pool.getFirstAvailable(brokers);
            const r = await initProducerIdV3.api.async(conn, null, this.#producer.requestTimeoutMs, -1n, -1);
            return { producerId: r.producerId, producerEpoch: r.producerEpoch };
          } catch (e) {
            if (!coordinatorNotReady(e) || attempt >= 40 || this.#closed) throw e;
            await new Promise((r) => setTimeout(r, 250));
          }
        }
      })();
      this.#identity = p;
      p.catch(() => {
        if (this.#identity === p) this.#identity = undefined;
      });
    }
    return this.#identity;
  }

  #leader(topic: string, partition: number, id: string): Promise<{ host: string; port: number }> {
    let l = this.#leaders.get(id);
    if (!l) {
      l = this.#admin.metadata({ topics: [topic], forceUpdate: true, autocreateTopics: false }).then((md) => {
        const t = md.topics.get(topic);
        const leader = t?.partitions[partition]?.leader;
        const broker = leader === undefined || leader < 0 ? undefined : md.brokers.get(leader);
        if (!broker) throw new TributaryError('platform.write', `no leader known for ${topic}[${partition}]`, { retriable: true });
        return { host: broker.host, port: broker.port };
      });
      this.#leaders.set(id, l);
      const mine = l;
      l.catch(() => {
        if (this.#leaders.get(id) === mine) this.#leaders.delete(id);
      });
    }
    return l;
  }

  async produce(topic: string, partition: number, records: PlatformRecord[]): Promise<void> {
    if (this.#closed) throw new TributaryError('platform.write', 'Kafka producer is closed', { retriable: true });
    const id = `${topic}\u0000${partition}`;
    const { producerId, producerEpoch } = await this.#producerIdentity();
    const baseSequence = this.#sequences.get(id) ?? 0;
    const body = encodeProduceRequest(records, {
      topic,
      partition,
      acks: -1,
      timeoutMs: this.#producer.requestTimeoutMs,
      producerId,
      producerEpoch,
      baseSequence,
      compression: this.#producer.compression,
    });
    try {
      const conn: Connection = await this.#pool.get(await this.#leader(topic, partition, id));
      await produceRaw.async(conn, body);
    } catch (e) {
      this.#leaders.delete(id); // leadership may have moved, or the broker gone: look it up again
      throw e;
    }
    this.#sequences.set(id, nextSequence(baseSequence, records.length));
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#pool.close().catch(() => undefined);
    await this.#admin.close().catch(() => undefined);
  }
}

/** kafkajs driver (kept for comparison; gzip only here: kafkajs needs extra codec packages for the others). */
export class KafkajsDriver implements ProduceDriver {
  readonly name = 'kafkajs' as const;
  // kafkajs is CommonJS; typed loosely to keep this file free of its types
  #producer: { connect(): Promise<void>; send(a: unknown): Promise<unknown>; disconnect(): Promise<void> };
  #connected?: Promise<void>;
  #compression: number;

  constructor(settings: KafkaSettings, producer: ProducerSettings) {
    const require = createRequire(import.meta.url);
    const kafkajs = require('kafkajs');
    const kafka = new kafkajs.Kafka({
      clientId: producer.clientId,
      brokers: settings.bootstrapServers,
      requestTimeout: producer.requestTimeoutMs,
      connectionTimeout: Math.min(10_000, producer.requestTimeoutMs),
      retry: { retries: producer.retries, initialRetryTime: producer.retryBackoffMs, maxRetryTime: producer.retryBackoffMaxMs },
      logLevel: kafkajs.logLevel.NOTHING,
      ssl: settings.tls ? { ca: settings.tls.ca, cert: settings.tls.cert, key: settings.tls.key, passphrase: settings.tls.passphrase, ...(settings.tls.checkServerIdentity ? {} : { checkServerIdentity: () => undefined }) } : undefined,
      sasl: settings.sasl ? { mechanism: settings.sasl.mechanism.toLowerCase(), username: settings.sasl.username, password: settings.sasl.password } : undefined,
    });
    this.#producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    const codes: Record<string, number> = { none: kafkajs.CompressionTypes.None, gzip: kafkajs.CompressionTypes.GZIP, snappy: kafkajs.CompressionTypes.Snappy, lz4: kafkajs.CompressionTypes.LZ4, zstd: kafkajs.CompressionTypes.ZSTD };
    this.#compression = codes[producer.compression] ?? 0;
  }

  async produce(topic: string, partition: number, records: PlatformRecord[]): Promise<void> {
    this.#connected ??= this.#producer.connect().catch((e) => {
      this.#connected = undefined;
      throw e;
    });
    await this.#connected;
    const messages = records.map((r) => {
      let headers: Record<string, Buffer | Buffer[]> | undefined;
      if (r.headers && r.headers.length) {
        headers = {};
        for (const h of r.headers) {
          const v = h.value === null ? (null as unknown as Buffer) : typeof h.value === 'string' ? Buffer.from(h.value, 'utf8') : h.value;
          const prev = headers[h.key];
          headers[h.key] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
        }
      }
      return { partition, key: r.key, value: r.value, timestamp: String(r.timestamp), headers };
    });
    await this.#producer.send({ topic, messages, acks: -1, compression: this.#compression });
  }

  async close(): Promise<void> {
    await this.#producer.disconnect().catch(() => undefined);
  }
}

export function createDriver(settings: KafkaSettings, producer: ProducerSettings): ProduceDriver {
  if (settings.client === 'kafkajs') return new KafkajsDriver(settings, producer);
  if (settings.client === 'platformatic') return new PlatformaticDriver(settings, producer);
  return new RecordBatchDriver(settings, producer);
}
