/**
 * Kafka platform settings: the worker-level ConfigSpec, the connector-level `producer.override.*` allowlist and
 * KIP-158 `topic.creation.default.*` topic settings.
 */
import { readFileSync } from 'node:fs';
import zlib from 'node:zlib';
import type { ConfigKey, ConfigSpec, ResolvedConfig } from '../../sdk/config.js';
import { TributaryError } from '../../sdk/errors.js';
import type { TopicSpec } from '../../sdk/platform.js';
import { configError, resolveConfig } from '../../runtime/config.js';

export const COMPRESSION_TYPES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type CompressionType = (typeof COMPRESSION_TYPES)[number];
export const KAFKA_CLIENTS = ['tributary', 'platformatic', 'kafkajs'] as const;
export type KafkaClientName = (typeof KAFKA_CLIENTS)[number];

/** Whether this Node.js can compress with zstd (node:zlib has it from Node 22.15 / 23.8). */
export const ZSTD_AVAILABLE = typeof (zlib as unknown as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';

const producer = 'Producer';
const security = 'Security';
const keys: ConfigKey[] = [
  { name: 'bootstrap.servers', type: 'list', doc: 'Kafka brokers to bootstrap from, host:port[,host:port…]', importance: 'high', group: 'Connection', validate: (v) => ((v as string[]).length === 0 ? 'at least one host:port' : (v as string[]).find((s) => !/^[^\s:]+:\d+$/.test(s) && !/^\[[0-9a-fA-F:]+\]:\d+$/.test(s)) ? 'entries must be host:port' : undefined) },
  { name: 'client.id', type: 'string', default: 'tributary', doc: 'Client id sent to the brokers (logs, quotas)', group: 'Connection' },
  { name: 'kafka.client', type: 'string', default: 'tributary', oneOf: KAFKA_CLIENTS, doc: 'How records are produced: tributary (record batches encoded in one buffer, sent on @platformatic/kafka connections; Kafka 2.5+), platformatic (@platformatic/kafka\'s producer) or kafkajs', importance: 'low', group: 'Connection' },
  { name: 'security.protocol', type: 'string', default: 'PLAINTEXT', oneOf: ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'], doc: 'Protocol used to talk to brokers', group: security },
  { name: 'sasl.mechanism', type: 'string', default: 'PLAIN', oneOf: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'], doc: 'SASL mechanism (with SASL_PLAINTEXT / SASL_SSL)', group: security },
  { name: 'sasl.username', type: 'string', default: null, doc: 'SASL user name (or give sasl.jaas.config)', group: security },
  { name: 'sasl.password', type: 'password', default: null, doc: 'SASL password (or give sasl.jaas.config)', group: security },
  { name: 'sasl.jaas.config', type: 'password', default: null, doc: 'Java-style JAAS line, e.g. org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p"; username and password are read from it', group: security },
  { name: 'ssl.ca.location', type: 'string', default: null, aliases: ['ssl.truststore.location'], doc: 'PEM file of CA certificates to trust (Java JKS/PKCS12 truststores are not read: export them to PEM)', group: security },
  { name: 'ssl.certificate.location', type: 'string', default: null, aliases: ['ssl.keystore.certificate.location'], doc: 'PEM client certificate (mutual TLS)', group: security },
  { name: 'ssl.key.location', type: 'string', default: null, aliases: ['ssl.keystore.key.location'], doc: 'PEM client private key (mutual TLS)', group: security },
  { name: 'ssl.key.password', type: 'password', default: null, doc: 'Passphrase of the client private key', group: security },
  { name: 'ssl.endpoint.identification.algorithm', type: 'string', default: 'https', doc: "'https' verifies the broker host name against its certificate; empty disables that check (not the chain)", group: security },
  { name: 'acks', type: 'string', default: 'all', oneOf: ['all', '-1'], doc: 'Only acks=all is supported: a send resolves when all in-sync replicas have the records', group: producer },
  { name: 'enable.idempotence', type: 'boolean', default: true, doc: 'Idempotent producer (no duplicates from client retries); only true is supported', group: producer, validate: (v) => (v === true ? undefined : 'only true is supported (ordering and no retry duplicates rely on it)') },
  { name: 'max.in.flight.requests.per.connection', type: 'int', default: 5, min: 1, max: 5, doc: 'Upper bound on concurrent produce requests per connection; Tributary keeps one request in flight per partition (idempotent ordering) and many partitions in parallel', group: producer },
  { name: 'linger.ms', type: 'int', default: 5, min: 0, doc: 'How long an idle partition waits for more records before sending a partial batch', group: producer },
  { name: 'batch.size', type: 'int', default: 262144, min: 1024, max: 8388608, doc: 'Upper bound in bytes of one record batch (one produce request per partition). Larger than the Java default 16384 because one request per partition is in flight', group: producer },
  { name: 'compression.type', type: 'string', default: 'none', oneOf: COMPRESSION_TYPES, doc: 'Record batch compression: none, gzip, snappy, lz4, zstd (zstd needs Node.js ≥ 22.15)', group: producer },
  { name: 'request.timeout.ms', type: 'int', default: 30000, min: 100, doc: 'How long to wait for one broker response', group: producer },
  { name: 'delivery.timeout.ms', type: 'int', default: 120000, min: 0, doc: 'Upper bound on the time a send keeps retrying before it rejects (retriable); 0 = no retries beyond the client ones', group: producer },
  { name: 'retries', type: 'int', default: 3, min: 0, doc: 'Client-level retries of one request (then Tributary retries the batch until delivery.timeout.ms)', group: producer },
  { name: 'retry.backoff.ms', type: 'int', default: 100, min: 0, doc: 'Initial backoff between retries (doubles with jitter up to retry.backoff.max.ms)', group: producer },
  { name: 'retry.backoff.max.ms', type: 'int', default: 1000, min: 0, doc: 'Upper bound of the retry backoff', group: producer },
  { name: 'connections.max.idle.ms', type: 'int', default: 540000, doc: 'Accepted for compatibility', importance: 'low', group: producer },
  { name: 'offset.storage.topic', type: 'string', default: 'tributary-offsets', doc: 'Exactly-once (exactly.once.support=required): compacted topic holding source offsets, written in the same transaction as the records (Kafka Connect format: key ["<connector>",{partition}], value the offset)', group: 'Exactly-once' },
  { name: 'group.id', type: 'string', default: 'tributary', doc: 'Exactly-once: transactional ids are <group.id>-<connector>-<task>; a restarted task fences its previous incarnation with it', group: 'Exactly-once' },
  { name: 'auto.create', type: 'boolean', default: true, aliases: ['topic.creation.enable'], doc: 'Create missing topics on first use with topic.creation.default.* settings; false: the topic must exist (platform.topic_missing)', group: 'Topics' },
  { name: 'topic.creation.default.partitions', type: 'int', default: -1, doc: 'Partitions of topics created on first use (-1: broker default num.partitions)', group: 'Topics', validate: (v) => ((v as number) === -1 || (v as number) >= 1 ? undefined : 'must be -1 or at least 1') },
  { name: 'topic.creation.default.replication.factor', type: 'int', default: -1, doc: 'Replication factor of topics created on first use (-1: broker default)', group: 'Topics', validate: (v) => ((v as number) === -1 || (v as number) >= 1 ? undefined : 'must be -1 or at least 1') },
];

/**
 * Worker-level Kafka settings. Other `topic.creation.default.<topic config>` keys (e.g. `cleanup.policy`) pass
 * through as topic configs for topics created on first use.
 */
export const kafkaPlatformSpec: ConfigSpec = {
  name: 'Kafka platform',
  keys,
  passthroughPrefixes: ['topic.creation.default.'],
  check: (cfg) => {
    const out: Array<[string, string]> = [];
    const proto = String(cfg['security.protocol']);
    if (proto.startsWith('SASL')) {
      const jaas = cfg['sasl.jaas.config'] ? parseJaasConfig(String(cfg['sasl.jaas.config'])) : undefined;
      if (!(cfg['sasl.username'] ?? jaas?.username)) out.push(['sasl.username', `${proto} needs sasl.username (or username= in sasl.jaas.config)`]);
      if (!(cfg['sasl.password'] ?? jaas?.password)) out.push(['sasl.password', `${proto} needs sasl.password (or password= in sasl.jaas.config)`]);
    }
    if (cfg['compression.type'] === 'zstd' && !ZSTD_AVAILABLE) {
      out.push(['compression.type', `zstd needs Node.js ≥ 22.15 (node:zlib zstd); this is Node.js ${process.versions.node}: use lz4, snappy or gzip`]);
    }
    if (cfg['kafka.client'] === 'kafkajs' && ['snappy', 'lz4', 'zstd'].includes(String(cfg['compression.type']))) {
      out.push(['compression.type', `the kafkajs client has no ${String(cfg['compression.type'])} codec here; use kafka.client=platformatic or gzip`]);
    }
    return out;
  },
};

/** Typed Kafka settings after validation. */
export interface KafkaSettings {
  bootstrapServers: string[];
  clientId: string;
  client: KafkaClientName;
  securityProtocol: 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
  sasl?: { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string };
  tls?: { ca?: string; cert?: string; key?: string; passphrase?: string; checkServerIdentity: boolean };
  producer: ProducerSettings;
  autoCreate: boolean;
  /** topic settings for topics created on first use */
  topicDefaults: TopicSpec;
}

/** The producer settings a connector may override (see {@link PRODUCER_OVERRIDE_ALLOWLIST}). */
export interface ProducerSettings {
  lingerMs: number;
  batchSize: number;
  compression: CompressionType;
  requestTimeoutMs: number;
  deliveryTimeoutMs: number;
  retries: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  maxInFlight: number;
  clientId: string;
}

/** Extracts `username`/`password` from a Java JAAS line (PlainLoginModule / ScramLoginModule). */
export function parseJaasConfig(jaas: string): { username?: string; password?: string } {
  const out: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^\s;]+))/g;
  for (let m = re.exec(jaas); m; m = re.exec(jaas)) {
    out[m[1]!] = (m[2] ?? m[3] ?? m[4] ?? '').replace(/\\(.)/g, '$1');
  }
  return { username: out['username'], password: out['password'] };
}

function readPem(file: unknown, key: string): string | undefined {
  if (file === null || file === undefined || file === '') return undefined;
  try {
    return readFileSync(String(file), 'utf8');
  } catch (e) {
    throw new TributaryError('config.invalid', `Cannot read ${key} '${String(file)}': ${(e as Error).message}`, { key, cause: e });
  }
}

/** Topic settings from `topic.creation.default.*` keys of a config (worker or connector). */
export function topicCreationSpec(config: Record<string, unknown>): TopicSpec {
  const prefix = 'topic.creation.default.';
  const spec: TopicSpec = {};
  const configs: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) {
    if (!k.startsWith(prefix) || v === null || v === undefined) continue;
    const name = k.slice(prefix.length);
    if (name === 'partitions' || name === 'replication.factor') {
      const n = Number(v);
      if (!Number.isInteger(n) || (n !== -1 && n < 1)) {
        throw new TributaryError('config.invalid', `Invalid value '${String(v)}' for '${k}': must be -1 or a whole number ≥ 1`, { key: k });
      }
      if (n === -1) continue;
      if (name === 'partitions') spec.partitions = n;
      else spec.replicationFactor = n;
    } else if (name !== '' && !name.includes('.include') && !name.includes('.exclude')) {
      configs[name] = String(v);
    }
  }
  if (Object.keys(configs).length) spec.configs = configs;
  return spec;
}

/**
 * Validates worker-level Kafka settings. Keys outside the spec that other parts of the worker use are reported
 * through `onUnknown` (Kafka Connect logs "supplied but isn't a known config") instead of failing.
 */
export function resolveKafkaSettings(raw: Record<string, unknown>, onUnknown?: (key: string, hint?: string) => void): KafkaSettings {
  const { values, problems } = resolveConfig(kafkaPlatformSpec, raw);
  const real = problems.filter((p) => !p.message.startsWith('Unknown configuration key'));
  for (const p of problems) if (p.message.startsWith('Unknown configuration key')) onUnknown?.(p.key, p.hint);
  if (real.length) throw configError(kafkaPlatformSpec.name, real);
  return settingsFrom(values);
}

function settingsFrom(v: ResolvedConfig): KafkaSettings {
  const proto = String(v['security.protocol']) as KafkaSettings['securityProtocol'];
  let sasl: KafkaSettings['sasl'];
  if (proto.startsWith('SASL')) {
    const jaas = v['sasl.jaas.config'] ? parseJaasConfig(String(v['sasl.jaas.config'])) : {};
    sasl = {
      mechanism: String(v['sasl.mechanism']) as NonNullable<KafkaSettings['sasl']>['mechanism'],
      username: String(v['sasl.username'] ?? jaas.username),
      password: String(v['sasl.password'] ?? jaas.password),
    };
  }
  let tls: KafkaSettings['tls'];
  if (proto === 'SSL' || proto === 'SASL_SSL') {
    tls = {
      ca: readPem(v['ssl.ca.location'], 'ssl.ca.location'),
      cert: readPem(v['ssl.certificate.location'], 'ssl.certificate.location'),
      key: readPem(v['ssl.key.location'], 'ssl.key.location'),
      passphrase: v['ssl.key.password'] ? String(v['ssl.key.password']) : undefined,
      checkServerIdentity: String(v['ssl.endpoint.identification.algorithm'] ?? '').toLowerCase() === 'https',
    };
  }
  const topicDefaults = topicCreationSpec(v);
  return {
    bootstrapServers: v['bootstrap.servers'] as string[],
    clientId: String(v['client.id']),
    client: String(v['kafka.client']) as KafkaClientName,
    securityProtocol: proto,
    sasl,
    tls,
    producer: {
      lingerMs: v['linger.ms'] as number,
      batchSize: v['batch.size'] as number,
      compression: String(v['compression.type']) as CompressionType,
      requestTimeoutMs: v['request.timeout.ms'] as number,
      deliveryTimeoutMs: v['delivery.timeout.ms'] as number,
      retries: v['retries'] as number,
      retryBackoffMs: v['retry.backoff.ms'] as number,
      retryBackoffMaxMs: v['retry.backoff.max.ms'] as number,
      maxInFlight: v['max.in.flight.requests.per.connection'] as number,
      clientId: String(v['client.id']),
    },
    autoCreate: v['auto.create'] as boolean,
    topicDefaults,
  };
}

/**
 * Producer settings a connector may change with `producer.override.<key>`. An allowlist, not a deny-list:
 * anything touching credentials, TLS, the brokers or delivery guarantees (`sasl.jaas.config`, `ssl.*`,
 * `security.protocol`, `bootstrap.servers`, `acks`, `enable.idempotence`…) is refused.
 */
export const PRODUCER_OVERRIDE_ALLOWLIST: Readonly<Record<string, keyof ProducerSettings>> = {
  'linger.ms': 'lingerMs',
  'batch.size': 'batchSize',
  'compression.type': 'compression',
  'request.timeout.ms': 'requestTimeoutMs',
  'delivery.timeout.ms': 'deliveryTimeoutMs',
  retries: 'retries',
  'retry.backoff.ms': 'retryBackoffMs',
  'retry.backoff.max.ms': 'retryBackoffMaxMs',
  'max.in.flight.requests.per.connection': 'maxInFlight',
  'client.id': 'clientId',
};

/**
 * Returns `base` with the connector's `producer.override.*` settings applied. Throws TributaryError
 * `config.invalid` naming the key for a key outside {@link PRODUCER_OVERRIDE_ALLOWLIST} or a bad value.
 */
export function applyProducerOverrides(base: ProducerSettings, connectorConfig: Record<string, unknown>): ProducerSettings {
  const prefix = 'producer.override.';
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(connectorConfig)) {
    if (!k.startsWith(prefix)) continue;
    const name = k.slice(prefix.length);
    if (!(name in PRODUCER_OVERRIDE_ALLOWLIST)) {
      throw new TributaryError('config.invalid', `'${k}' is not an allowed producer override`, {
        key: k,
        hint: `connectors may override only: ${Object.keys(PRODUCER_OVERRIDE_ALLOWLIST).join(', ')}; security and broker settings belong to the worker`,
      });
    }
    raw[name] = v;
  }
  if (Object.keys(raw).length === 0) return base;
  const subset: ConfigSpec = { name: 'producer overrides', keys: keys.filter((k) => k.name in raw) };
  const { values, problems } = resolveConfig(subset, raw);
  if (problems.length) {
    throw configError('producer overrides', problems.map((p) => ({ ...p, key: prefix + p.key, message: p.message.replaceAll(`'${p.key}'`, `'${prefix}${p.key}'`) })));
  }
  if (values['compression.type'] === 'zstd' && !ZSTD_AVAILABLE) {
    throw new TributaryError('config.invalid', `'producer.override.compression.type'=zstd needs Node.js ≥ 22.15; this is ${process.versions.node}`, { key: 'producer.override.compression.type' });
  }
  const out: ProducerSettings = { ...base };
  for (const [name, field] of Object.entries(PRODUCER_OVERRIDE_ALLOWLIST)) {
    if (name in raw) (out as unknown as Record<string, unknown>)[field] = values[name];
  }
  return out;
}
