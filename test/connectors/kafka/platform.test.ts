import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { Admin, ConfigResourceTypes } from '@platformatic/kafka';
import { brokerUnavailableReason, ensureKafkaLibs, javaArgs } from '../../../src/connectors/kafka/broker.js';
import { ZSTD_AVAILABLE } from '../../../src/connectors/kafka/config.js';
import { partitionForKey } from '../../../src/connectors/kafka/murmur2.js';
import { createKafkaPlatform, type KafkaPlatform } from '../../../src/connectors/kafka/platform.js';
import { setLogLevel, createLogger } from '../../../src/runtime/logger.js';
import { TributaryError } from '../../../src/sdk/errors.js';
import type { PlatformRecord, StoredRecord } from '../../../src/sdk/record.js';
import { getKafka, randomTopic } from './broker-fixture.js';

setLogLevel((process.env.TRIBUTARY_LOG_LEVEL as 'debug') ?? 'error');
const logger = createLogger({ test: 'kafka-platform' });
const kafka = await getKafka();
const platforms: KafkaPlatform[] = [];
const topics: string[] = [];

function platform(extra: Record<string, unknown> = {}): KafkaPlatform {
  const p = createKafkaPlatform({ 'bootstrap.servers': kafka.bootstrap!, 'linger.ms': 2, ...extra }, logger);
  platforms.push(p);
  return p;
}

function topic(prefix = 'platform'): string {
  const t = randomTopic(prefix);
  topics.push(t);
  return t;
}

async function readAll(p: KafkaPlatform, t: string, n: number, timeoutMs = 20_000): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  const signal = AbortSignal.timeout(timeoutMs);
  await p.read(t, { fromBeginning: true, limit: n, signal, onRecord: (r) => out.push(r) });
  return out;
}

function rec(t: string, i: number, extra: Partial<PlatformRecord> = {}): PlatformRecord {
  return { topic: t, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), timestamp: 1_700_000_000_000 + i, ...extra };
}

describe('Kafka platform against a real broker', { concurrency: false }, () => {
  let admin: Admin | undefined;
  before(() => {
    if (kafka.bootstrap) admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: kafka.bootstrap.split(',') });
  });
  after(async () => {
    for (const p of platforms) await p.close();
    if (admin && topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin?.close();
  });

  test('send resolves after acks=all and the records read back in order with keys, values, timestamps and headers', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const p = platform();
    const name = topic();
    const records = Array.from({ length: 500 }, (_, i) =>
      rec(name, i, {
        partition: 0,
        headers: [
          { key: 'seq', value: String(i) },
          { key: 'bin', value: Buffer.from([0, 255, i & 255]) },
          { key: 'seq', value: 'dup' },
          { key: 'nil', value: null },
        ],
      }),
    );
    await p.send(records);
    const got = await readAll(p, name, 500);
    assert.equal(got.length, 500);
    got.forEach((r, i) => {
      assert.equal(r.partition, 0);
      assert.equal(Number(r.offset), i);
      assert.equal(r.key?.toString(), `k${i}`);
      assert.equal(r.value?.toString(), `v${i}`);
      assert.equal(r.timestamp, 1_700_000_000_000 + i);
      assert.deepEqual(
        r.headers?.map((h) => [h.key, h.value === null ? null : Buffer.from(h.value).toString('hex')]),
        [
          ['seq', Buffer.from(String(i)).toString('hex')],
          ['bin', Buffer.from([0, 255, i & 255]).toString('hex')],
          ['seq', Buffer.from('dup').toString('hex')],
          ['nil', null],
        ],
      );
    });
  });

  test('null keys and null values (tombstones) are written and read back as null', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const p = platform();
    const name = topic();
    await p.send([
      { topic: name, key: null, value: Buffer.from('no key'), timestamp: Date.now() },
      { topic: name, key: Buffer.from('gone'), value: null, timestamp: Date.now() },
    ]);
    const got = await readAll(p, name, 2);
    const byValue = new Map(got.map((r) => [r.value?.toString() ?? '<null>', r]));
    assert.equal(byValue.get('no key')?.key, null);
    assert.equal(byValue.get('<null>')?.key?.toString(), 'gone');
  });

  test('keys land in the partition the Java client picks, for records produced by Kafka’s own ConsoleProducer', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const why = brokerUnavailableReason();
    if (why) return t.skip(`needs Java to run ConsoleProducer: ${why}`);
    const p = platform({ 'topic.creation.default.partitions': 7 });
    const javaTopic = topic('java-keys');
    const ourTopic = topic('our-keys');
    await p.ensureTopic(javaTopic, { partitions: 7 });
    await p.ensureTopic(ourTopic, { partitions: 7 });
    const keys = ['city-1', 'city-2', '42', '{"city_id":42}', 'héllo', 'a', 'ab', 'abc', 'abcd', 'The quick brown fox', ...Array.from({ length: 40 }, (_, i) => `key-${i * 7919}`)];
    const libs = await ensureKafkaLibs();
    const input = keys.map((k) => `${k}\t${k}-value`).join('\n') + '\n';
    const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const child = spawn('java', javaArgs(libs, 'org.apache.kafka.tools.ConsoleProducer', ['--bootstrap-server', kafka.bootstrap!, '--topic', javaTopic, '--property', 'parse.key=true', '--property', 'key.separator=\t'], { heap: '256m' }), { stdio: ['pipe', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      child.stderr.on('data', (d) => (text += d));
      child.on('close', (code) => resolve({ code, text }));
      child.stdin.end(input);
    });
    assert.equal(out.code, 0, out.text);
    const javaRecords = await readAll(p, javaTopic, keys.length, 30_000);
    assert.equal(javaRecords.length, keys.length);
    const javaPartition = new Map(javaRecords.map((r) => [r.key!.toString('utf8'), r.partition]));
    assert.ok(new Set(javaPartition.values()).size > 3, 'keys spread over several partitions');
    for (const k of keys) assert.equal(javaPartition.get(k), partitionForKey(Buffer.from(k, 'utf8'), 7), `key ${k}`);

    await p.send(keys.map((k) => ({ topic: ourTopic, key: Buffer.from(k, 'utf8'), value: Buffer.from(`${k}-value`), timestamp: Date.now() })));
    const ours = await readAll(p, ourTopic, keys.length);
    for (const r of ours) assert.equal(r.partition, javaPartition.get(r.key!.toString('utf8')), `key ${r.key}`);
  });

  test('topics are created on first use with topic.creation.default.* settings such as cleanup.policy=compact', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const p = platform({ 'topic.creation.default.partitions': 3, 'topic.creation.default.replication.factor': 1, 'topic.creation.default.cleanup.policy': 'compact', 'topic.creation.default.min.compaction.lag.ms': '1000' });
    const name = topic('compact');
    await p.send([rec(name, 1)]);
    const info = (await p.listTopics()).find((x) => x.name === name);
    assert.equal(info?.partitions, 3);
    assert.equal(info?.replicas, 1);
    const described = await admin!.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: name, configurationKeys: ['cleanup.policy', 'min.compaction.lag.ms'] }] });
    const cfg = Object.fromEntries(described[0]!.configs.map((c) => [c.name, c.value]));
    assert.equal(cfg['cleanup.policy'], 'compact');
    assert.equal(cfg['min.compaction.lag.ms'], '1000');
  });

  test('ensureTopic applies a connector’s topic spec and is a no-op for an existing topic', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const p = platform();
    const name = topic('ensure');
    await p.ensureTopic(name, { partitions: 2, configs: { 'retention.ms': '3600000' } });
    await p.ensureTopic(name, { partitions: 5 });
    assert.equal((await p.listTopics()).find((x) => x.name === name)?.partitions, 2);
  });

  test('with auto.create=false a missing topic is a platform.topic_missing error and nothing is created', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const p = platform({ 'auto.create': 'false' });
    const name = randomTopic('missing');
    await assert.rejects(p.send([rec(name, 1)]), (e: unknown) => e instanceof TributaryError && e.code === 'platform.topic_missing' && !e.retriable && e.message.includes(name));
    await assert.rejects(p.ensureTopic(name), (e: unknown) => e instanceof TributaryError && e.code === 'platform.topic_missing');
    assert.equal((await p.listTopics()).some((x) => x.name === name), false);
  });

  for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    test(`records compressed with ${compression} are written and read back`, async (t) => {
      if (!kafka.bootstrap) return t.skip(kafka.reason);
      if (compression === 'zstd' && !ZSTD_AVAILABLE) {
        assert.throws(() => createKafkaPlatform({ 'bootstrap.servers': kafka.bootstrap!, 'compression.type': 'zstd' }, logger), (e: unknown) => e instanceof TributaryError && e.code === 'config.invalid' && /zstd needs Node/.test(e.message));
        return;
      }
      const p = platform({ 'compression.type': compression });
      const name = topic(`comp-${compression}`);
      const value = Buffer.from('compressible '.repeat(20));
      await p.send(Array.from({ length: 300 }, (_, i) => rec(name, i, { value, partition: 0 })));
      const got = await readAll(p, name, 300);
      assert.equal(got.length, 300);
      assert.ok(got.every((r, i) => r.value?.equals(value) && r.key?.toString() === `k${i}`));
    });
  }

  test('many concurrent sends to several partitions are all acknowledged, each partition in call order', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const p = platform({ 'batch.size': 4096 });
    const name = topic('concurrent');
    await p.ensureTopic(name, { partitions: 4 });
    const sends: Promise<void>[] = [];
    for (let c = 0; c < 20; c++) sends.push(p.send(Array.from({ length: 100 }, (_, i) => rec(name, c * 100 + i, { key: Buffer.from(`key-${i % 10}`), value: Buffer.from(String(c * 100 + i)) }))));
    await Promise.all(sends);
    const got = await readAll(p, name, 2000);
    assert.equal(got.length, 2000);
    const lastByKey = new Map<string, number>();
    for (const r of got.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset))) {
      const k = r.key!.toString();
      const v = Number(r.value!.toString());
      assert.ok((lastByKey.get(k) ?? -1) < v, `per-key order for ${k}`);
      lastByKey.set(k, v);
    }
  });

  test('listTopics reports partitions, replicas and consumer groups', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const p = platform();
    const name = topic('list');
    await p.ensureTopic(name, { partitions: 2 });
    const info = (await p.listTopics()).find((x) => x.name === name);
    assert.deepEqual(info, { name, partitions: 2, replicas: 1, consumers: 0, consumerGroups: 0 });
    assert.ok((await p.listTopics()).every((x) => !x.name.startsWith('__')));
  });

  test('read without fromBeginning sees only new records and stops when aborted', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const p = platform();
    const name = topic('tail');
    await p.send([rec(name, 0, { partition: 0 })]);
    const got: StoredRecord[] = [];
    const ac = new AbortController();
    const reading = p.read(name, { fromBeginning: false, signal: ac.signal, onRecord: (r) => got.push(r) });
    await new Promise((r) => setTimeout(r, 2500));
    await p.send([rec(name, 1, { partition: 0 })]);
    const end = Date.now() + 15_000;
    while (got.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    await reading;
    assert.deepEqual(got.map((r) => r.value?.toString()), ['v1']);
  });

  test('reading a missing topic is a platform.topic_missing error', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const p = platform();
    await assert.rejects(p.read(randomTopic('nope'), { fromBeginning: true, limit: 1, onRecord: () => {} }), (e: unknown) => e instanceof TributaryError && e.code === 'platform.topic_missing');
  });

  test('a record larger than the broker accepts is a non-retriable platform.write error', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const p = platform();
    const name = topic('big');
    await assert.rejects(p.send([rec(name, 0, { value: Buffer.alloc(2 * 1024 * 1024, 1) })]), (e: unknown) => e instanceof TributaryError && e.code === 'platform.write' && !e.retriable);
  });

  test('a batch larger than the topic takes (max.message.bytes below batch.size) is split and every record lands in order', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const p = platform({ 'linger.ms': 50 });
    const name = topic('small-max');
    await p.ensureTopic(name, { partitions: 1, configs: { 'max.message.bytes': '20000' } });
    const records = Array.from({ length: 120 }, (_, i) => rec(name, i, { partition: 0, value: Buffer.alloc(1000, 97 + (i % 26)) }));
    await p.send(records); // ~120 KB in one batch of batch.size=262144: refused whole, accepted in halves
    const got = await readAll(p, name, records.length);
    assert.deepEqual(got.map((r) => r.key!.toString()), records.map((r) => r.key!.toString()));
    assert.deepEqual(got.map((r) => r.value!.length), records.map(() => 1000));
    // a single record above the topic's limit still fails, non-retriably
    await assert.rejects(p.send([rec(name, 999, { partition: 0, value: Buffer.alloc(30_000, 1) })]), (e: unknown) => e instanceof TributaryError && e.code === 'platform.write' && !e.retriable);
  });
});
