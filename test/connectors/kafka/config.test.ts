import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyProducerOverrides, kafkaPlatformSpec, parseJaasConfig, resolveKafkaSettings, topicCreationSpec } from '../../../src/connectors/kafka/config.js';
import { createKafkaPlatform } from '../../../src/connectors/kafka/platform.js';
import { secretKeys } from '../../../src/runtime/config.js';
import { TributaryError } from '../../../src/sdk/errors.js';
import type { Logger } from '../../../src/sdk/logger.js';

function capture(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const l: Logger & { lines: string[] } = {
    lines,
    debug: () => {},
    info: () => {},
    warn: (m) => lines.push(m),
    error: (m) => lines.push(m),
    child: () => l,
  };
  return l;
}

test('defaults are acks=all, idempotence on, 5 in flight, no compression, auto-create on', () => {
  const s = resolveKafkaSettings({ 'bootstrap.servers': 'localhost:9092' });
  assert.deepEqual(s.bootstrapServers, ['localhost:9092']);
  assert.equal(s.producer.compression, 'none');
  assert.equal(s.producer.maxInFlight, 5);
  assert.equal(s.autoCreate, true);
  assert.equal(s.securityProtocol, 'PLAINTEXT');
  assert.equal(s.client, 'tributary');
});

test('bootstrap.servers is required and must be host:port entries', () => {
  assert.throws(() => resolveKafkaSettings({}), (e: unknown) => e instanceof TributaryError && e.code === 'config.invalid' && /bootstrap.servers/.test(e.message));
  assert.throws(() => resolveKafkaSettings({ 'bootstrap.servers': 'localhost' }), /host:port/);
});

test('acks other than all and idempotence off are rejected', () => {
  assert.throws(() => resolveKafkaSettings({ 'bootstrap.servers': 'h:1', acks: '1' }), /acks/);
  assert.throws(() => resolveKafkaSettings({ 'bootstrap.servers': 'h:1', 'enable.idempotence': 'false' }), /enable.idempotence/);
});

test('unknown worker keys are logged as warnings with a hint, not fatal', () => {
  const log = capture();
  createKafkaPlatform({ 'bootstrap.servers': 'h:1', 'linger.msx': 5, 'data.dir': '/x' }, log);
  assert.ok(log.lines.some((l) => l.includes("'linger.msx'")));
});

test('SASL needs a user name and password, from sasl.username/sasl.password or sasl.jaas.config', () => {
  assert.throws(() => resolveKafkaSettings({ 'bootstrap.servers': 'h:1', 'security.protocol': 'SASL_PLAINTEXT' }), /sasl.username/);
  const s = resolveKafkaSettings({
    'bootstrap.servers': 'h:1',
    'security.protocol': 'SASL_PLAINTEXT',
    'sasl.mechanism': 'SCRAM-SHA-512',
    'sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="s3\\"cret";',
  });
  assert.deepEqual(s.sasl, { mechanism: 'SCRAM-SHA-512', username: 'alice', password: 's3"cret' });
  assert.deepEqual(parseJaasConfig("PlainLoginModule required username='bob' password=pw;"), { username: 'bob', password: 'pw' });
});

test('sasl.password and sasl.jaas.config are secrets, masked in every output', () => {
  const secrets = secretKeys(kafkaPlatformSpec);
  assert.ok(secrets.has('sasl.password'));
  assert.ok(secrets.has('sasl.jaas.config'));
  assert.ok(secrets.has('ssl.key.password'));
});

test('a missing TLS CA file is a config error naming the key', () => {
  assert.throws(
    () => resolveKafkaSettings({ 'bootstrap.servers': 'h:1', 'security.protocol': 'SSL', 'ssl.ca.location': '/nonexistent/ca.pem' }),
    (e: unknown) => e instanceof TributaryError && e.key === 'ssl.ca.location',
  );
});

test('producer.override.* applies allowlisted keys only', () => {
  const base = resolveKafkaSettings({ 'bootstrap.servers': 'h:1' }).producer;
  const p = applyProducerOverrides(base, { 'producer.override.linger.ms': '50', 'producer.override.compression.type': 'lz4', 'producer.override.batch.size': 1000000, 'topic.prefix': 'x' });
  assert.equal(p.lingerMs, 50);
  assert.equal(p.compression, 'lz4');
  assert.equal(p.batchSize, 1000000);
  assert.equal(base.lingerMs, 5, 'base untouched');
  assert.equal(applyProducerOverrides(base, { 'topic.prefix': 'x' }), base);
});

test('producer.override.sasl.jaas.config and other non-allowlisted keys are rejected naming the key', () => {
  const base = resolveKafkaSettings({ 'bootstrap.servers': 'h:1' }).producer;
  for (const key of ['sasl.jaas.config', 'security.protocol', 'bootstrap.servers', 'ssl.truststore.location', 'acks', 'enable.idempotence', 'sasl.login.callback.handler.class']) {
    assert.throws(
      () => applyProducerOverrides(base, { [`producer.override.${key}`]: 'x' }),
      (e: unknown) => e instanceof TributaryError && e.code === 'config.invalid' && e.key === `producer.override.${key}` && e.message.includes(`producer.override.${key}`),
      key,
    );
  }
  assert.throws(() => applyProducerOverrides(base, { 'producer.override.linger.ms': 'soon' }), (e: unknown) => e instanceof TributaryError && e.key === 'producer.override.linger.ms');
});

test('withProducerOverrides gives a platform with the connector’s producer settings', () => {
  const p = createKafkaPlatform({ 'bootstrap.servers': 'h:1' }, capture());
  const q = p.withProducerOverrides({ 'producer.override.linger.ms': 20 });
  assert.equal(q.producerSettings.lingerMs, 20);
  assert.equal(p.producerSettings.lingerMs, 5);
  assert.equal(p.withProducerOverrides({}), p);
});

test('topicCreationSpec reads partitions, replication factor and any topic config', () => {
  assert.deepEqual(
    topicCreationSpec({ 'topic.creation.default.partitions': '6', 'topic.creation.default.replication.factor': -1, 'topic.creation.default.cleanup.policy': 'compact', 'topic.prefix': 'p' }),
    { partitions: 6, configs: { 'cleanup.policy': 'compact' } },
  );
  assert.deepEqual(topicCreationSpec({}), {});
  assert.throws(() => topicCreationSpec({ 'topic.creation.default.partitions': 0 }), (e: unknown) => e instanceof TributaryError && e.key === 'topic.creation.default.partitions');
});

test('auto.create accepts Kafka Connect’s topic.creation.enable as an alias', () => {
  assert.equal(resolveKafkaSettings({ 'bootstrap.servers': 'h:1', 'topic.creation.enable': 'false' }).autoCreate, false);
});
