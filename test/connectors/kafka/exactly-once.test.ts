import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Admin, ProduceAcks, Producer } from '@platformatic/kafka';
import { getKafka, randomTopic } from './broker-fixture.js';
import { createKafkaPlatform, type KafkaPlatform } from '../../../src/connectors/kafka/platform.js';
import { offsetKey, readCommitted } from '../../../src/connectors/kafka/transactions.js';
import { ensureKafkaLibs, javaArgs } from '../../../src/connectors/kafka/broker.js';
import { createLogger } from '../../../src/runtime/logger.js';
import { TributaryError } from '../../../src/sdk/errors.js';
import type { PlatformRecord } from '../../../src/sdk/record.js';

/**
 * Exactly-once writing into a real broker: records and offsets in one transaction, fencing of an earlier
 * incarnation, nothing of an aborted or abandoned transaction visible — checked with our reader and with Kafka's
 * own console consumer in read_committed mode.
 */
const kafka = await getKafka();
let platform: KafkaPlatform;

before(() => {
  if (kafka.bootstrap) platform = createKafkaPlatform({ 'bootstrap.servers': kafka.bootstrap, 'topic.creation.default.partitions': '3' }, createLogger({ test: 'eos' }));
});
after(async () => {
  await platform?.close();
  // the end-to-end test starts the shared embedded PostgreSQL; stop it so the process can exit
  const { stopEmbeddedPg } = await import('../../helpers/postgres.js');
  await stopEmbeddedPg();
});

/** a producer with the task's transactional id, standing for an incarnation that is about to crash */
const zombieProducer = (bootstrap: string, id: string) =>
  new Producer({ clientId: 'zombie', bootstrapBrokers: [bootstrap], idempotent: true, acks: ProduceAcks.ALL, transactionalId: id, producerId: -1n, producerEpoch: -1, strict: false, retryDelay: 20, retries: 20 });
/** drops a producer as a crash would: its open transaction stays open on the coordinator */
const abandon = (p: Producer) => (p.close(true as boolean) as unknown as Promise<void>).catch(() => undefined);

const rec = (topic: string, k: string, v: string): PlatformRecord => ({ topic, key: Buffer.from(k), value: Buffer.from(v), timestamp: Date.now() });

/** values of a topic as Kafka's Java console consumer reads them with isolation.level=read_committed */
export async function javaReadCommitted(bootstrap: string, topic: string, expectAtLeast: number): Promise<string[]> {
  const libs = await ensureKafkaLibs();
  return new Promise((resolve, reject) => {
    // everything committed: stops after 4 s without a new record (or at expectAtLeast records, when given)
    const args = ['--bootstrap-server', bootstrap, '--topic', topic, '--from-beginning', '--isolation-level', 'read_committed', '--timeout-ms', '4000'];
    if (expectAtLeast > 0) args.push('--max-messages', String(expectAtLeast));
    const child = spawn('java', javaArgs(libs, 'org.apache.kafka.tools.consumer.ConsoleConsumer', args, { heap: '256m' }), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', () => {
      // records only (the tool's own log lines, if any, are not JSON objects or plain values we wrote)
      // the tool logs to stdout too; at --timeout-ms it logs an ERROR line and a TimeoutException: not records
      const lines = out.split('\n').filter((l) => l.length > 0 && !/^\[\d{4}-\d\d-\d\d |^\d\d:\d\d:\d\d\.\d+ \[|^(WARN|INFO|ERROR|SLF4J)|^org\.apache\.kafka\.|^\s+at /.test(l));
      if (!lines.length && !/Processed a total of 0 messages/.test(err)) return reject(new Error(`console consumer: ${err.slice(-2000)}`));
      resolve(lines);
    });
  });
}

describe('exactly-once into Kafka', () => {
  test('a batch and its offsets commit together; the latest committed offsets are read back', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const topic = randomTopic('eos');
    const offsetsTopic = randomTopic('eos-offsets');
    const w = platform.transactional({ transactionalId: randomTopic('tx'), offsetsTopic });
    await w.open();
    assert.deepEqual(await w.readOffsets('c1'), []);
    for (let b = 0; b < 3; b++) {
      await w.write([rec(topic, `k${b}`, `v${b}a`), rec(topic, `k${b}`, `v${b}b`)], 'c1', [{ partition: { table: 't' }, offset: { id: b * 2 + 1 } }]);
    }
    await w.write([], 'c1', [{ partition: { table: 'other' }, offset: { lsn: 7 } }]);
    const offs = await w.readOffsets('c1');
    assert.deepEqual(offs.map((o) => [o.partition, o.offset]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), [
      [{ table: 'other' }, { lsn: 7 }],
      [{ table: 't' }, { id: 5 }],
    ]);
    assert.deepEqual(await w.readOffsets('c2'), [], 'another connector sees none of them');
    await w.close();
    const values = await javaReadCommitted(kafka.bootstrap, topic, 6);
    assert.deepEqual(values.sort(), ['v0a', 'v0b', 'v1a', 'v1b', 'v2a', 'v2b']);
  });

  test('a new incarnation fences the old one; what an abandoned transaction wrote is never visible', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const topic = randomTopic('eos-fence');
    const offsetsTopic = randomTopic('eos-offsets');
    const id = randomTopic('tx');
    const first = platform.transactional({ transactionalId: id, offsetsTopic });
    await first.open();
    await first.write([rec(topic, 'a', 'committed-1')], 'c', [{ partition: { p: 0 }, offset: { n: 1 } }]);

    // a crashed incarnation: a transaction with records and an offset, left open (no commit, no abort)
    const zombie = zombieProducer(kafka.bootstrap, id);
    const ztx = await zombie.beginTransaction();
    await ztx.send({ messages: [{ topic, partition: 0, key: Buffer.from('a'), value: Buffer.from('zombie') }, { topic: offsetsTopic, partition: 0, key: offsetKey('c', { p: 0 }), value: Buffer.from('{"n":99}') }] });

    // the restarted task: fences both, resumes from the last committed offset
    const second = platform.transactional({ transactionalId: id, offsetsTopic });
    await second.open();
    assert.deepEqual((await second.readOffsets('c')).map((o) => o.offset), [{ n: 1 }]);
    await second.write([rec(topic, 'a', 'committed-2')], 'c', [{ partition: { p: 0 }, offset: { n: 2 } }]);

    // the fenced incarnations can no longer commit
    await assert.rejects(first.write([rec(topic, 'a', 'late')], 'c', [{ partition: { p: 0 }, offset: { n: 50 } }]), (e: unknown) => e instanceof TributaryError && e.code === 'platform.fenced' && !e.retriable);
    await assert.rejects(ztx.commit());
    await abandon(zombie);

    assert.deepEqual((await second.readOffsets('c')).map((o) => o.offset), [{ n: 2 }]);
    const ours: string[] = [];
    await readCommitted(platform.settings, topic, (_k, v) => ours.push(v!.toString()));
    assert.deepEqual(ours.sort(), ['committed-1', 'committed-2']);
    assert.deepEqual((await javaReadCommitted(kafka.bootstrap, topic, 2)).sort(), ['committed-1', 'committed-2']);
    await second.close();
    await first.close();
  });

  test('offsets read back one batch per fetch: an aborted transaction skips only its own records, not a later incarnation with the same producer id', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const topic = randomTopic('eos-small-fetch');
    const offsetsTopic = randomTopic('eos-offsets');
    const id = randomTopic('tx');
    let n = 0;
    for (let round = 0; round < 3; round++) {
      const w = platform.transactional({ transactionalId: id, offsetsTopic });
      await w.open();
      for (let i = 0; i < 3; i++) await w.write([rec(topic, 'a', `r${round}-${i}`)], 'c', [{ partition: { p: 0 }, offset: { n: ++n } }]);
      // leave one transaction open, as a crash would: the next round's open() aborts it
      const zombie = zombieProducer(kafka.bootstrap, id);
      const ztx = await zombie.beginTransaction();
      await ztx.send({ messages: [{ topic: offsetsTopic, partition: 0, key: offsetKey('c', { p: 0 }), value: Buffer.from('{"n":-1}') }] });
      await abandon(zombie);
      await w.close().catch(() => undefined);
    }
    const last = platform.transactional({ transactionalId: id, offsetsTopic });
    await last.open();
    assert.deepEqual((await last.readOffsets('c')).map((o) => o.offset), [{ n: 9 }]);
    const seen: string[] = [];
    await readCommitted(platform.settings, offsetsTopic, (_k, v) => seen.push(v ? v.toString() : 'null'), { fetchBytes: 1 });
    assert.deepEqual(seen, Array.from({ length: 9 }, (_, i) => `{"n":${i + 1}}`), 'every committed offset record, none of the aborted ones, fetching one batch at a time');
    await last.close();
  });

  test('committed offsets between two aborted transactions of one transactional id are read back in a single fetch (an abort marker without records of its own)', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const offsetsTopic = randomTopic('eos-offsets');
    const id = randomTopic('tx');
    const write = (w: ReturnType<KafkaPlatform['transactional']>, n: number) => w.write([], 'c', [{ partition: { p: 0 }, offset: { n } }]);
    /** an incarnation that commits one transaction per offset and closes cleanly */
    const committing = async (...ns: number[]) => {
      const w = platform.transactional({ transactionalId: id, offsetsTopic });
      await w.open();
      for (const n of ns) await write(w, n);
      await w.close();
    };

    await committing(1, 2);
    // a crashed incarnation whose open transaction wrote an offset record: aborted by the next open()
    const za = zombieProducer(kafka.bootstrap, id);
    const zta = await za.beginTransaction();
    await zta.send({ messages: [{ topic: offsetsTopic, partition: 0, key: offsetKey('c', { p: 0 }), value: Buffer.from('{"n":-1}') }] });
    await abandon(za);
    await committing(3, 4);
    // a crashed incarnation that had added the offsets partition to its transaction but written nothing there yet
    // (killed between AddPartitionsToTxn and Produce): its ABORT marker has no aborted records before it
    const zb = zombieProducer(kafka.bootstrap, id);
    const ztb = await zb.beginTransaction();
    const md = await zb.metadata({ topics: [offsetsTopic] });
    await ztb.addPartitions(md, [{ topic: offsetsTopic, partition: 0 }] as never);
    await abandon(zb);
    const w3 = platform.transactional({ transactionalId: id, offsetsTopic });
    await w3.open();
    // one fetch holds it all: both aborted transactions and the committed ones between them
    assert.deepEqual((await w3.readOffsets('c')).map((o) => o.offset), [{ n: 4 }], 'resumes after the last committed offset');
    await write(w3, 5);
    const seen: string[] = [];
    await readCommitted(platform.settings, offsetsTopic, (_k, v) => seen.push(v ? v.toString() : 'null'));
    assert.deepEqual(seen, [1, 2, 3, 4, 5].map((n) => `{"n":${n}}`));
    assert.deepEqual((await javaReadCommitted(kafka.bootstrap, offsetsTopic, 5)).sort(), [1, 2, 3, 4, 5].map((n) => `{"n":${n}}`));
    await w3.close();
  });

  test('read_committed reading starts at the log start offset once earlier records were deleted', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const topic = randomTopic('eos-deleted');
    const w = platform.transactional({ transactionalId: randomTopic('tx'), offsetsTopic: randomTopic('eos-offsets') });
    await w.open();
    for (let i = 1; i <= 4; i++) await w.write([{ ...rec(topic, 'k', `v${i}`), partition: 0 }], 'c', [{ partition: { p: 0 }, offset: { n: i } }]);
    // each transaction is a record and a COMMIT marker: offsets 0–7; delete everything before v3 (offset 4)
    const admin = new Admin({ clientId: 'eos-test', bootstrapBrokers: [kafka.bootstrap] });
    try {
      await admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 4n }] }] });
    } finally {
      await admin.close();
    }
    const seen: string[] = [];
    await readCommitted(platform.settings, topic, (_k, v, partition) => partition === 0 && seen.push(v!.toString()));
    assert.deepEqual(seen, ['v3', 'v4']);
    await w.close();
  });

  test('after a failed write nothing is committed behind it until the runtime resumes', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const topic = randomTopic('eos-poison');
    const w = platform.transactional({ transactionalId: randomTopic('tx'), offsetsTopic: randomTopic('eos-offsets') });
    await w.open();
    // a record for a partition that does not exist fails its transaction
    const bad = w.write([{ ...rec(topic, 'a', 'x'), partition: 99 }], 'c', [{ partition: { p: 0 }, offset: { n: 1 } }]);
    const behind = w.write([rec(topic, 'b', 'behind')], 'c', [{ partition: { p: 0 }, offset: { n: 2 } }]);
    await assert.rejects(bad);
    await assert.rejects(behind, /earlier transaction failed/);
    assert.deepEqual(await w.readOffsets('c'), []);
    w.resume();
    await w.write([rec(topic, 'b', 'again')], 'c', [{ partition: { p: 0 }, offset: { n: 2 } }]);
    assert.deepEqual((await w.readOffsets('c')).map((o) => o.offset), [{ n: 2 }]);
    await w.close();
  });
});


describe('exactly-once end to end: tributary server on Kafka, PostgreSQL CDC, kill -9', () => {
  test('CREATE with exactly.once.support=required; rows inserted while the server is killed 3 times arrive once each (read_committed)', { timeout: 240_000 }, async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const { embeddedPg, randomName } = await import('../../helpers/postgres.js');
    const { startServerProcess } = await import('../../helpers/server-process.js');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const pg = await embeddedPg();
    const c = await pg.client();
    const table = randomName('eos');
    const prefix = randomName('eosp');
    const dataDir = mkdtempSync(join(tmpdir(), 'tributary-eos-'));
    await c.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, v text NOT NULL)`);
    await c.query(`INSERT INTO ${table} (v) SELECT 'before-' || g FROM generate_series(1, 300) g`);
    const statement = `CREATE SOURCE CONNECTOR EOS_CDC WITH (
      'connector.class' = 'io.debezium.connector.postgresql.PostgresConnector',
      'database.hostname' = '${pg.host}', 'database.port' = '${pg.port}', 'database.user' = '${pg.user}',
      'database.password' = '${pg.password}', 'database.dbname' = '${pg.database}', 'topic.prefix' = '${prefix}',
      'table.include.list' = 'public.${table}', 'slot.name' = '${table}', 'publication.name' = 'pub_${table}',
      'exactly.once.support' = 'required', 'transaction.boundary' = 'poll',
      'key.converter.schemas.enable' = 'false', 'value.converter.schemas.enable' = 'false');`;
    const args = ['--bootstrap-servers', kafka.bootstrap];
    let server = await startServerProcess(dataDir, { args });
    let inserted = 300;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await c.query(`INSERT INTO ${table} (v) VALUES ('live-' || $1::int)`, [++inserted]);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      const post = async (ksql: string) => (await fetch(`${server.url}/ksql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ksql }) })).json();
      const created = (await post(statement)) as Array<{ created?: boolean }>;
      assert.equal(created[0]?.created, true, JSON.stringify(created));
      for (let k = 0; k < 3; k++) {
        await new Promise((r) => setTimeout(r, 2500 + Math.random() * 2000));
        await server.kill('SIGKILL');
        server = await startServerProcess(dataDir, { args });
      }
      await new Promise((r) => setTimeout(r, 2000));
      writing = false;
      await writer;
      const total = inserted;
      const topic = `${prefix}.public.${table}`;
      // wait until the connector has caught up: the read_committed end offset covers every row
      let values: string[] = [];
      for (let i = 0; i < 30; i++) {
        values = await javaReadCommitted(kafka.bootstrap, topic, 0);
        if (new Set(values.filter((v) => v.startsWith('{')).map((v) => JSON.parse(v).after?.id)).size >= total) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      const nonJson = values.filter((v) => !v.startsWith('{'));
      assert.deepEqual(nonJson.slice(0, 3), [], 'every record is a JSON change event');
      const ids = values.map((v) => JSON.parse(v).after?.id as number);
      const seen = new Map<number, number>();
      for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
      const missing = [...Array(total).keys()].map((i) => i + 1).filter((id) => !seen.has(id));
      const duplicated = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
      assert.deepEqual(missing, [], `${missing.length} rows missing`);
      assert.deepEqual(duplicated, [], `${duplicated.length} rows delivered more than once`);
      assert.equal(values.length, total);
      // the slot never went past what was committed: its confirmed_flush_lsn is at most the last event's commit
      const status = await (await fetch(`${server.url}/connectors/EOS_CDC/status`)).json() as { tasks: Array<{ state: string }> };
      assert.equal(status.tasks[0]!.state, 'RUNNING');
      t.diagnostic(`${total} rows, 3 kills, ${values.length} records read_committed`);
    } finally {
      writing = false;
      await writer.catch(() => undefined);
      await server.kill('SIGKILL');
      await c.query(`SELECT pg_drop_replication_slot('${table}')`).catch(() => undefined);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('CREATE refuses exactly.once.support=required on the embedded log, naming the key', async () => {
    const { startTestApp } = await import('../../helpers/app.js');
    const app = await startTestApp();
    try {
      await assert.rejects(
        app.sql(`CREATE SOURCE CONNECTOR X WITH ('connector.class'='io.confluent.connect.jdbc.JdbcSourceConnector', 'connection.url'='jdbc:postgresql://127.0.0.1:1/x', 'mode'='bulk', 'topic.prefix'='p_', 'exactly.once.support'='required');`),
        (e: Error) => /exactly\.once\.support/.test(e.message) && /no transactions/.test(e.message),
      );
      assert.equal((await app.sql('SHOW CONNECTORS;')).length > 0, true);
    } finally {
      await app.dispose();
    }
  });
});
