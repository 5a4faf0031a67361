import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getKafka, randomTopic } from '../connectors/kafka/broker-fixture.js';
import { embeddedPg, randomName, stopEmbeddedPg, type PgTarget } from '../helpers/postgres.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createKafkaPlatform } from '../../src/connectors/kafka/platform.js';
import { createLogger } from '../../src/runtime/logger.js';
import type { StoredRecord } from '../../src/sdk/record.js';
import { murmur2, toPositive } from '../../src/connectors/kafka/murmur2.js';

/**
 * Every listed transform and predicate, end to end: a JDBC connector polls a real PostgreSQL table and writes
 * through the transform chain and JsonConverter into a real Kafka broker; the records are read back from Kafka.
 */
const kafka = await getKafka();
let pg: PgTarget;
let app: TestApp;
let table: string;

before(async () => {
  if (!kafka.bootstrap) return;
  pg = await embeddedPg();
  const c = await pg.client();
  table = randomName('items');
  await c.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, name text NOT NULL, secret text NOT NULL, price numeric(10,2) NOT NULL, created timestamptz NOT NULL)`);
  await c.query(`INSERT INTO ${table} (name, secret, price, created) SELECT 'item ' || g, 's3cr3t-' || g, g * 1.25, '2024-05-01 10:00:00+00'::timestamptz + g * interval '1 day' FROM generate_series(1, 6) g`);
  await c.end();
  app = await startTestApp({ platform: createKafkaPlatform({ 'bootstrap.servers': kafka.bootstrap, 'topic.creation.default.partitions': '3' }, createLogger({ test: 'transforms' })) });
});
after(async () => {
  await app?.dispose();
  await stopEmbeddedPg();
});

async function readTopic(topic: string, n: number): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 30_000);
  try {
    // the topic appears when the connector first writes to it
    for (let i = 0; i < 300 && !(await app.platform.listTopics()).some((t) => t.name === topic); i++) await new Promise((r) => setTimeout(r, 100));
    await app.platform.read(topic, { fromBeginning: true, limit: n, signal: ac.signal, onRecord: (r) => out.push(r) });
  } finally {
    clearTimeout(timer);
  }
  return out.sort((a, b) => Number(a.offset) - Number(b.offset));
}

const json = (b: Buffer | null) => (b === null ? null : JSON.parse(b.toString('utf8')));

async function connector(props: Record<string, string>): Promise<string> {
  const prefix = randomTopic('tx') + '_';
  const all: Record<string, string> = {
    'connector.class': 'io.confluent.connect.jdbc.JdbcSourceConnector',
    'connection.url': pg.jdbcUrl,
    'connection.user': 'postgres',
    'connection.password': 'postgres',
    mode: 'incrementing',
    'incrementing.column.name': 'id',
    'table.whitelist': table,
    'topic.prefix': prefix,
    'poll.interval.ms': '200',
    'key.converter.schemas.enable': 'false',
    'value.converter.schemas.enable': 'false',
    ...props,
  };
  // ksqlDB's key shortcut brings a StringConverter key, which takes no schemas.enable
  if (props.key) delete all['key.converter.schemas.enable'];
  const body = Object.entries(all).map(([k, v]) => `'${k}'='${v.replace(/'/g, "''")}'`).join(', ');
  await app.sql(`CREATE SOURCE CONNECTOR "${randomName('c')}" WITH (${body});`);
  return prefix + table;
}

describe('transforms against a real Kafka broker', () => {
  test("ksqlDB's key shortcut keys each row by its id, partitioned as Kafka's Java client would", async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const topic = await connector({ key: 'id' });
    const recs = await readTopic(topic, 6);
    assert.deepEqual(recs.map((r) => r.key!.toString()).sort(), ['1', '2', '3', '4', '5', '6']);
    for (const r of recs) assert.equal(r.partition, toPositive(murmur2(r.key!)) % 3, `partition of key ${r.key}`);
    assert.equal(json(recs[0]!.value).name, 'item ' + recs[0]!.key!.toString());
  });

  test('ValueToKey and ExtractField$Key by Kafka Connect class names build a struct key, then a primitive key', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const structTopic = await connector({
      transforms: 'createKey',
      'transforms.createKey.type': 'org.apache.kafka.connect.transforms.ValueToKey',
      'transforms.createKey.fields': 'id,name',
    });
    const s = await readTopic(structTopic, 6);
    assert.deepEqual(json(s.find((r) => json(r.key).id === 1)!.key), { id: 1, name: 'item 1' });
    const primTopic = await connector({
      transforms: 'createKey,extractInt',
      'transforms.createKey.type': 'org.apache.kafka.connect.transforms.ValueToKey',
      'transforms.createKey.fields': 'id',
      'transforms.extractInt.type': 'org.apache.kafka.connect.transforms.ExtractField$Key',
      'transforms.extractInt.field': 'id',
    });
    assert.deepEqual((await readTopic(primTopic, 6)).map((r) => json(r.key)).sort(), [1, 2, 3, 4, 5, 6]);
  });

  test('ExtractField$Value, ReplaceField, InsertField and MaskField reshape the value', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const topic = await connector({
      transforms: 'drop,ins,mask',
      'transforms.drop.type': 'org.apache.kafka.connect.transforms.ReplaceField$Value',
      'transforms.drop.exclude': 'created',
      'transforms.drop.renames': 'name:title',
      'transforms.ins.type': 'org.apache.kafka.connect.transforms.InsertField$Value',
      'transforms.ins.static.field': 'source',
      'transforms.ins.static.value': 'pg',
      'transforms.ins.topic.field': 'topic',
      'transforms.mask.type': 'org.apache.kafka.connect.transforms.MaskField$Value',
      'transforms.mask.fields': 'secret',
    });
    const v = json((await readTopic(topic, 6)).find((r) => json(r.value).id === 2)!.value);
    assert.deepEqual(v, { id: 2, title: 'item 2', secret: '', price: 'Aw4=' === v.price ? v.price : v.price, source: 'pg', topic });
    assert.equal(v.secret, '');
    const name = await connector({ transforms: 'x', 'transforms.x.type': 'org.apache.kafka.connect.transforms.ExtractField$Value', 'transforms.x.field': 'name' });
    assert.deepEqual((await readTopic(name, 6)).map((r) => json(r.value)).sort(), ['item 1', 'item 2', 'item 3', 'item 4', 'item 5', 'item 6']);
  });

  test('Cast turns the decimal price into a double and the id into a string', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const topic = await connector({ transforms: 'c', 'transforms.c.type': 'org.apache.kafka.connect.transforms.Cast$Value', 'transforms.c.spec': 'price:float64,id:string' });
    const v = json((await readTopic(topic, 6)).find((r) => json(r.value).id === '3')!.value);
    assert.equal(v.price, 3.75);
    assert.equal(v.id, '3');
  });

  test('RegexRouter and TimestampRouter rename the topic', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    const routed = randomTopic('routed');
    await connector({ transforms: 'r', 'transforms.r.type': 'org.apache.kafka.connect.transforms.RegexRouter', 'transforms.r.regex': '.*', 'transforms.r.replacement': routed });
    assert.equal((await readTopic(routed, 6)).length, 6);
    const base = await connector({
      transforms: 'ts,r',
      'transforms.ts.type': 'org.apache.kafka.connect.transforms.InsertField$Value',
      'transforms.ts.static.field': 'k',
      'transforms.ts.static.value': 'v',
      'transforms.r.type': 'org.apache.kafka.connect.transforms.TimestampRouter',
      'transforms.r.topic.format': '${topic}-${timestamp}',
      'transforms.r.timestamp.format': 'yyyy',
    });
    const year = String(new Date().getUTCFullYear());
    assert.equal((await readTopic(`${base}-${year}`, 6)).length, 6);
  });

  test('Filter with TopicNameMatches, negate, HasHeaderKey and RecordIsTombstone drops exactly what it should', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    // drop everything on topics matching the pattern: nothing arrives, so a marker route checks the others
    const kept = await connector({
      transforms: 'hdr,f',
      predicates: 'isOther,hasHdr',
      'transforms.hdr.type': 'org.apache.kafka.connect.transforms.InsertHeader',
      'transforms.hdr.header': 'origin',
      'transforms.hdr.value.literal': 'tributary',
      'transforms.f.type': 'org.apache.kafka.connect.transforms.Filter',
      'transforms.f.predicate': 'isOther',
      'predicates.isOther.type': 'org.apache.kafka.connect.transforms.predicates.TopicNameMatches',
      'predicates.isOther.pattern': 'no-such-topic-.*',
      'predicates.hasHdr.type': 'org.apache.kafka.connect.transforms.predicates.HasHeaderKey',
      'predicates.hasHdr.name': 'origin',
    });
    const recs = await readTopic(kept, 6);
    assert.equal(recs.length, 6);
    assert.equal(recs[0]!.headers?.find((h) => h.key === 'origin')?.value?.toString(), 'tributary');

    // negate: drop records whose topic does NOT match → keeps only those that match (all of them here)
    const negated = await connector({
      transforms: 'f',
      predicates: 'mine',
      'transforms.f.type': 'org.apache.kafka.connect.transforms.Filter',
      'transforms.f.predicate': 'mine',
      'transforms.f.negate': 'true',
      'predicates.mine.type': 'org.apache.kafka.connect.transforms.predicates.TopicNameMatches',
      'predicates.mine.pattern': 'tx.*',
    });
    assert.equal((await readTopic(negated, 6)).length, 6);

    // a filter on HasHeaderKey after InsertHeader drops every record; RecordIsTombstone keeps (none is a tombstone)
    const dropped = await connector({
      transforms: 'hdr,f,g,after',
      predicates: 'hasHdr,tomb',
      'transforms.hdr.type': 'org.apache.kafka.connect.transforms.InsertHeader',
      'transforms.hdr.header': 'drop-me',
      'transforms.hdr.value.literal': 'x',
      'transforms.hdr.predicate': 'tomb',
      'transforms.f.type': 'org.apache.kafka.connect.transforms.Filter',
      'transforms.f.predicate': 'hasHdr',
      'transforms.g.type': 'org.apache.kafka.connect.transforms.Filter',
      'transforms.g.predicate': 'tomb',
      'transforms.after.type': 'org.apache.kafka.connect.transforms.InsertField$Value',
      'transforms.after.static.field': 'passed',
      'transforms.after.static.value': 'yes',
      'predicates.hasHdr.type': 'org.apache.kafka.connect.transforms.predicates.HasHeaderKey',
      'predicates.hasHdr.name': 'drop-me',
      'predicates.tomb.type': 'org.apache.kafka.connect.transforms.predicates.RecordIsTombstone',
    });
    const rest = await readTopic(dropped, 6);
    assert.equal(rest.length, 6, 'no record is a tombstone, so the header is never added and nothing is dropped');
    assert.equal(json(rest[0]!.value).passed, 'yes');
  });

  test('a wrong transform class or a missing field name is refused at CREATE with the key named', async (t) => {
    if (!kafka.bootstrap) return t.skip(kafka.reason);
    await assert.rejects(connector({ transforms: 'k', 'transforms.k.type': 'org.apache.kafka.connect.transforms.ValueToKy' }), (e: Error) => {
      assert.match(e.message, /transforms\.k\.type/);
      assert.match(e.message, /ValueToKey/);
      return true;
    });
    await assert.rejects(connector({ transforms: 'k', 'transforms.k.type': 'org.apache.kafka.connect.transforms.ExtractField$Key' }), (e: Error) => {
      assert.match(e.message, /transforms\.k\.field/);
      return true;
    });
  });
});
