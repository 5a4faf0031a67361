import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { brokerStatus, type BrokerHandle } from '../../../src/connectors/kafka/broker.js';
import { createKafkaPlatform, type KafkaPlatform } from '../../../src/connectors/kafka/platform.js';
import { createLogger, setLogLevel } from '../../../src/runtime/logger.js';
import { TributaryError } from '../../../src/sdk/errors.js';
import type { StoredRecord } from '../../../src/sdk/record.js';
import { ownBrokerUnavailable, randomTopic, startOwnBroker } from './broker-fixture.js';

setLogLevel((process.env.TRIBUTARY_LOG_LEVEL as 'debug') ?? 'error');
const logger = createLogger({ test: 'kafka-broker-loss' });
// needs a broker of its own (it is stopped and killed), even when KAFKA_BOOTSTRAP_SERVERS names a cluster
const skipReason = ownBrokerUnavailable();

describe('Kafka platform when the broker goes away', { concurrency: false }, () => {
  let broker: BrokerHandle | undefined;
  const platforms: KafkaPlatform[] = [];
  after(async () => {
    for (const p of platforms) await p.close();
    await broker?.stop();
  });

  test('a broker of its own starts on a free port, reports status, and restarts on the same port and data', async (t) => {
    if (skipReason) return t.skip(skipReason);
    broker = await startOwnBroker();
    const st = await brokerStatus(broker.dir);
    assert.equal(st.running, true);
    assert.equal(st.port, broker.port);
    assert.equal(st.ready, true);
  });

  test('send rejects with a retriable platform.connection error while the broker is down, and succeeds after restart with nothing acknowledged lost', async (t) => {
    if (skipReason || !broker) return t.skip(skipReason ?? 'no broker');
    const p = createKafkaPlatform({ 'bootstrap.servers': broker.bootstrap, 'delivery.timeout.ms': 4000, 'request.timeout.ms': 2000, retries: 1, 'retry.backoff.ms': 100 }, logger);
    platforms.push(p);
    const topic = randomTopic('loss');
    await p.ensureTopic(topic, { partitions: 2 });
    const rec = (i: number) => ({ topic, key: Buffer.from(`k${i % 5}`), value: Buffer.from(String(i)), timestamp: Date.now() });
    await p.send(Array.from({ length: 100 }, (_, i) => rec(i)));

    await broker.kill(); // kill -9
    const t0 = Date.now();
    await assert.rejects(p.send([rec(100)]), (e: unknown) => e instanceof TributaryError && e.retriable && e.code === 'platform.connection');
    assert.ok(Date.now() - t0 < 15_000, 'bounded by delivery.timeout.ms');

    await broker.restart();
    // the runtime resends what was not acknowledged
    await p.send([rec(100), ...Array.from({ length: 99 }, (_, i) => rec(101 + i))]);
    const got: StoredRecord[] = [];
    await p.read(topic, { fromBeginning: true, limit: 200, signal: AbortSignal.timeout(20_000), onRecord: (r) => got.push(r) });
    const values = new Set(got.map((r) => Number(r.value!.toString())));
    for (let i = 0; i < 200; i++) assert.ok(values.has(i), `record ${i} present`);
  });

  test('a send issued while the broker is down completes once it is back within delivery.timeout.ms (backpressure)', async (t) => {
    if (skipReason || !broker) return t.skip(skipReason ?? 'no broker');
    const p = createKafkaPlatform({ 'bootstrap.servers': broker.bootstrap, 'delivery.timeout.ms': 60_000, 'request.timeout.ms': 2000, retries: 1 }, logger);
    platforms.push(p);
    const topic = randomTopic('backpressure');
    await p.ensureTopic(topic, { partitions: 1 });
    await broker.stop();
    let done = false;
    const sending = p.send([{ topic, key: null, value: Buffer.from('later'), timestamp: Date.now() }]).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(done, false, 'still pending while the broker is down');
    await broker.restart();
    await sending;
    const got: StoredRecord[] = [];
    await p.read(topic, { fromBeginning: true, limit: 1, signal: AbortSignal.timeout(20_000), onRecord: (r) => got.push(r) });
    assert.equal(got[0]?.value?.toString(), 'later');
  });
});
