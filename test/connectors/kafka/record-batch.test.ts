import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Admin, ConnectionPool, Reader, Writer, createAPI, crc32c, initProducerIdV3, produceV9, readRecordsBatch } from '@platformatic/kafka';
import { createKafkaPlatform } from '../../../src/connectors/kafka/platform.js';
import { encodeProduceRequest, nextSequence, type ProduceRequestOptions } from '../../../src/connectors/kafka/record-batch.js';
import { createLogger, setLogLevel } from '../../../src/runtime/logger.js';
import type { Header, PlatformRecord, StoredRecord } from '../../../src/sdk/record.js';
import { getKafka, randomTopic } from './broker-fixture.js';

setLogLevel('error');

const shared: Header[] = [
  { key: '__debezium.context.connectorLogicalName', value: 'dbserver1' },
  { key: 'bytes', value: Buffer.from([0, 1, 2, 255]) },
  { key: 'nothing', value: null },
  { key: 'dup', value: 'first' },
  { key: 'dup', value: 'second ünïcödé' },
];

function records(topic: string): PlatformRecord[] {
  const big = Buffer.alloc(70_000, 'x'); // lengths needing three varint bytes
  return [
    { topic, key: Buffer.from('k0'), value: Buffer.from('{"a":1}'), timestamp: 1_700_000_000_500, headers: shared },
    { topic, key: null, value: Buffer.from('no key'), timestamp: 1_700_000_000_000 }, // earlier: negative delta
    { topic, key: Buffer.from('tombstone'), value: null, timestamp: 1_700_000_100_000, headers: shared },
    { topic, key: Buffer.from('big'), value: big, timestamp: 1_700_000_000_600, headers: [{ key: 'own', value: 'only here' }] },
    { topic, key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: 1_700_000_000_600, headers: shared },
  ];
}

const opts = (o: Partial<ProduceRequestOptions> = {}): ProduceRequestOptions => ({
  topic: 't', partition: 3, acks: -1, timeoutMs: 30_000, producerId: 4242n, producerEpoch: 7, baseSequence: 99, compression: 'none', ...o,
});

/** Takes a Produce v9 body apart with @platformatic/kafka's reader (an independent decoder). */
function decode(body: Buffer) {
  const r = Reader.from(body);
  const transactionalId = r.readNullableString();
  const acks = r.readInt16();
  const timeoutMs = r.readInt32();
  assert.equal(r.readUnsignedVarInt(), 2, 'one topic');
  const topic = r.readString();
  assert.equal(r.readUnsignedVarInt(), 2, 'one partition');
  const partition = r.readInt32();
  const len = r.readUnsignedVarInt() - 1;
  const start = r.position;
  const raw = body.subarray(start, start + len);
  const batch = readRecordsBatch(Reader.from(raw));
  assert.deepEqual([...body.subarray(start + len)], [0, 0, 0], 'tagged fields close partition, topic and request');
  return { transactionalId, acks, timeoutMs, topic, partition, raw, batch };
}

describe('record batches encoded in one buffer', () => {
  for (const compression of ['none', 'gzip', 'lz4', 'snappy'] as const) {
    test(`a ${compression} batch decodes field by field with @platformatic/kafka's reader and its CRC-32C checks out`, () => {
      const rs = records('orders');
      const body = encodeProduceRequest(rs, opts({ topic: 'orders', compression }));
      const d = decode(body);
      assert.equal(d.transactionalId, null);
      assert.equal(d.acks, -1);
      assert.equal(d.timeoutMs, 30_000);
      assert.equal(d.topic, 'orders');
      assert.equal(d.partition, 3);
      const b = d.batch;
      assert.equal(b.firstOffset, 0n);
      assert.equal(b.length, d.raw.length - 12);
      assert.equal(b.magic, 2);
      assert.equal(b.crc, crc32c(d.raw.subarray(21)) >>> 0);
      assert.equal(b.attributes & 0x07, { none: 0, gzip: 1, snappy: 2, lz4: 3 }[compression]);
      assert.equal(b.lastOffsetDelta, rs.length - 1);
      assert.equal(b.firstTimestamp, 1_700_000_000_500n);
      assert.equal(b.maxTimestamp, 1_700_000_100_000n);
      assert.equal(b.producerId, 4242n);
      assert.equal(b.producerEpoch, 7);
      assert.equal(b.firstSequence, 99);
      assert.equal(b.records.length, rs.length);
      b.records.forEach((rec, i) => {
        const want = rs[i]!;
        assert.equal(rec.offsetDelta, i);
        assert.equal(BigInt(want.timestamp) - 1_700_000_000_500n, BigInt(rec.timestampDelta));
        assert.deepEqual(rec.key === null ? null : Buffer.from(rec.key), want.key, `key of record ${i}`);
        assert.deepEqual(rec.value === null ? null : Buffer.from(rec.value), want.value, `value of record ${i}`);
        const headers = rec.headers.map(([k, v]) => ({ key: Buffer.from(k as Buffer).toString("utf8"), value: v === null ? null : Buffer.from(v as Buffer) }));
        const wantHeaders = (want.headers ?? []).map((h) => ({ key: h.key, value: h.value === null ? null : Buffer.from(h.value) }));
        assert.deepEqual(headers, wantHeaders, `headers of record ${i}`);
      });
    });
  }

  test('transactional id and the transactional bit are written when asked for', () => {
    const d = decode(encodeProduceRequest(records('t'), opts({ transactionalId: 'tx-1', transactional: true })));
    assert.equal(d.transactionalId, 'tx-1');
    assert.equal(d.batch.attributes & 0x10, 0x10);
  });

  test('an empty batch is refused', () => {
    assert.throws(() => encodeProduceRequest([], opts()), /at least one record/);
  });

  test('producer sequences wrap from 2^31-1 to 0, as Kafka’s do', () => {
    assert.equal(nextSequence(0, 5), 5);
    assert.equal(nextSequence(2 ** 31 - 1, 1), 0);
    assert.equal(nextSequence(2 ** 31 - 3, 10), 7);
  });
});

describe('record batches against a real broker', async () => {
  const kafka = await getKafka();
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  test('the broker takes the batch, and drops a resend with the same producer id and sequence (a retried request)', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const logger = createLogger({ test: 'record-batch' });
    const platform = createKafkaPlatform({ 'bootstrap.servers': kafka.bootstrap }, logger);
    cleanups.push(() => platform.close());
    const topic = randomTopic('batch');
    await platform.ensureTopic(topic, { partitions: 1 });

    const admin = new Admin({ clientId: 'test-batch', bootstrapBrokers: kafka.bootstrap.split(',') });
    cleanups.push(() => admin.close());
    const md = await admin.metadata({ topics: [topic] });
    const leader = md.brokers.get(md.topics.get(topic)!.partitions[0]!.leader)!;
    const pool = new ConnectionPool('test-batch');
    cleanups.push(() => pool.close());
    const conn = await pool.get(leader);
    let id: Awaited<ReturnType<typeof initProducerIdV3.api.async>> | undefined;
    for (let i = 0; !id; i++) {
      // right after the broker starts: COORDINATOR_LOAD_IN_PROGRESS for a moment
      id = await initProducerIdV3.api.async(conn, null, 30_000, -1n, -1).catch((e: unknown) => {
        if (i >= 40) throw e;
        return new Promise<undefined>((r) => setTimeout(() => r(undefined), 250));
      });
    }
    const produce = createAPI(0, 9, (body: Buffer) => Writer.create().append(body), produceV9.parseResponse);

    const rs = records(topic);
    const first = encodeProduceRequest(rs, opts({ topic, partition: 0, producerId: id.producerId, producerEpoch: id.producerEpoch, baseSequence: 0 }));
    const r1 = await produce.async(conn, first);
    assert.equal(r1.responses[0]!.partitionResponses[0]!.errorCode, 0);
    const again = await produce.async(conn, first); // same sequence: a duplicate, acknowledged, not written twice
    assert.equal(again.responses[0]!.partitionResponses[0]!.baseOffset, r1.responses[0]!.partitionResponses[0]!.baseOffset);
    const next = encodeProduceRequest(rs.slice(0, 2), opts({ topic, partition: 0, producerId: id.producerId, producerEpoch: id.producerEpoch, baseSequence: nextSequence(0, rs.length) }));
    await produce.async(conn, next);

    const got: StoredRecord[] = [];
    await platform.read(topic, { fromBeginning: true, limit: rs.length + 2, signal: AbortSignal.timeout(20_000), onRecord: (r) => got.push(r) });
    assert.equal(got.length, rs.length + 2);
    assert.deepEqual(got.map((r) => Number(r.offset)), [0, 1, 2, 3, 4, 5, 6], 'seven records: the resend added none');
    assert.deepEqual(got.map((r) => r.value?.length ?? null), [...rs, ...rs.slice(0, 2)].map((r) => r.value?.length ?? null));
    assert.deepEqual(got[0]!.headers!.map((h) => h.key), shared.map((h) => h.key));
    // no more records than that: a short read after the seventh times out empty
    const more: StoredRecord[] = [];
    await platform.read(topic, { fromBeginning: true, limit: rs.length + 3, signal: AbortSignal.timeout(3_000), onRecord: (r) => more.push(r) }).catch(() => undefined);
    assert.equal(more.length, rs.length + 2);
  });
});
