import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePgOutput } from '../../../src/connectors/postgres/pgoutput.js';
import { parseLsn, formatLsn } from '../../../src/connectors/postgres/lsn.js';
import { columnType, intervalMicros, parseArrayLiteral, zonedTimestamp, zonedTime, decimalToUnscaled, parseDateDays } from '../../../src/connectors/postgres/types.js';
import { StreamedTxBuffer } from '../../../src/connectors/postgres/txbuffer.js';
import { resolveConfig } from '../../../src/runtime/config.js';
import { postgresCdcSpec, resolvePgCdcConfig } from '../../../src/connectors/postgres/config.js';
import { tmpdir } from 'node:os';

const opts = { decimalMode: 'precise', timePrecisionMode: 'adaptive', moneyFractionDigits: 2 } as const;

function tupleBuf(vals: Array<string | null | undefined>): Buffer {
  const parts: Buffer[] = [Buffer.from([vals.length >> 8, vals.length & 255])];
  for (const v of vals) {
    if (v === null) parts.push(Buffer.from('n'));
    else if (v === undefined) parts.push(Buffer.from('u'));
    else {
      const b = Buffer.from(v);
      const h = Buffer.alloc(5);
      h[0] = 0x74;
      h.writeUInt32BE(b.length, 1);
      parts.push(h, b);
    }
  }
  return Buffer.concat(parts);
}

test('an update message with an old key tuple and an unchanged TOAST marker decodes from an offset inside a buffer', () => {
  const rel = Buffer.alloc(4);
  rel.writeUInt32BE(16384);
  const msg = Buffer.concat([Buffer.from('xxU'), rel, Buffer.from('K'), tupleBuf(['1', null]), Buffer.from('N'), tupleBuf(['2', undefined]), Buffer.from('yy')]);
  const m = decodePgOutput(msg, 2, msg.length - 2, false);
  assert.deepEqual(m, { tag: 'update', xid: 0, relid: 16384, keyTuple: ['1', null], oldTuple: null, newTuple: ['2', undefined] });
});

test('a streamed insert carries its subtransaction id', () => {
  const h = Buffer.alloc(9);
  h[0] = 0x49;
  h.writeUInt32BE(777, 1);
  h.writeUInt32BE(42, 5);
  const msg = Buffer.concat([h, Buffer.from('N'), tupleBuf(['a'])]);
  assert.deepEqual(decodePgOutput(msg, 0, msg.length, true), { tag: 'insert', xid: 777, relid: 42, newTuple: ['a'] });
});

test('LSNs round-trip between text and numbers', () => {
  assert.equal(formatLsn(parseLsn('16/B374D848')), '16/B374D848');
  assert.equal(parseLsn('1/0'), 4294967296);
});

test('temporal, interval, decimal and array text forms convert to Debezium values', () => {
  assert.equal(parseDateDays('1970-01-02'), 1);
  assert.equal(parseDateDays('0001-01-01 BC'), -719528); // year 0 in ISO (proleptic) numbering
  assert.equal(zonedTimestamp('2024-06-01 12:00:00.120+00'), '2024-06-01T12:00:00.120000Z'); // timestamptz: 6 digits
  assert.equal(zonedTime('23:30:00+02'), '21:30:00Z');
  assert.equal(intervalMicros('P1Y2M3DT4H5M6.5S'), Math.round(14 * 30.4375 * 86400e6 + 3 * 86400e6 + 4 * 3600e6 + 5 * 60e6 + 6.5e6));
  assert.deepEqual(decimalToUnscaled('-1.28'), { scale: 2, value: Buffer.from([0x80]) });
  assert.deepEqual(decimalToUnscaled('1.28'), { scale: 2, value: Buffer.from([0x00, 0x80]) });
  assert.deepEqual(parseArrayLiteral('{"a,b",NULL,"q\\"x",c}'), ['a,b', null, 'q"x', 'c']);
  const bits = columnType(1560, 10, true, opts, () => undefined);
  assert.equal(bits.schema.name, 'io.debezium.data.Bits');
  assert.deepEqual(bits.convert('1000000001'), Buffer.from([0x01, 0x02]));
  const money = columnType(790, -1, true, opts, () => undefined);
  assert.equal(money.convert('-$1,234.50'), '-1234.50');
  const en = columnType(99999, -1, false, opts, () => ({ oid: 99999, name: 'mood', kind: 'e', elem: 0, base: 0, baseTypmod: -1, enumValues: ['sad', 'ok'] }));
  assert.deepEqual(en.schema, { type: 'string', optional: false, name: 'io.debezium.data.Enum', version: 1, parameters: { allowed: 'sad,ok' } });
});

test('a streamed transaction beyond its memory bound spills to disk and replays in order without aborted subtransactions', async () => {
  const b = new StreamedTxBuffer(1, 64, tmpdir());
  for (let i = 0; i < 100; i++) {
    const m = Buffer.from(`msg-${i}`);
    b.append(i % 10 === 3 ? 9 : 0, 1000 + i, m, 0, m.length);
  }
  assert.ok(b.spilled);
  b.abortSub(9);
  const out: string[] = [];
  for await (const r of b.replay()) if (!b.isAborted(r.subxid)) out.push(`${r.lsn}:${r.buf.toString()}`);
  b.dispose();
  assert.equal(out.length, 90);
  assert.equal(out[0], '1000:msg-0');
  assert.equal(out[89], '1099:msg-99');
});

test('the configuration takes Debezium keys and defaults and rejects bad slot names', () => {
  const base = { 'database.hostname': 'h', 'database.user': 'u', 'database.dbname': 'd', 'topic.prefix': 'p' };
  const ok = resolveConfig(postgresCdcSpec, base);
  assert.deepEqual(ok.problems, []);
  assert.equal(ok.values['slot.name'], 'debezium');
  assert.equal(ok.values['publication.name'], 'dbz_publication');
  // smaller than Debezium's 2048/8192 to bound memory (docs/postgres-cdc.md); Debezium's values are accepted
  assert.equal(ok.values['max.batch.size'], 1024);
  assert.equal(ok.values['max.queue.size'], 1024);
  assert.equal(ok.values['max.inflight.records'], 2048);
  assert.equal(resolveConfig(postgresCdcSpec, { ...base, 'max.batch.size': '2048', 'max.queue.size': '8192' }).problems.length, 0);
  const bad = resolveConfig(postgresCdcSpec, { ...base, 'slot.name': 'Bad-Name"; DROP' });
  assert.equal(bad.problems[0]?.key, 'slot.name');
});

test('Debezium\'s common PostgreSQL keys are accepted where the behaviour exists; other values and unknown keys are refused', () => {
  const base = { 'database.hostname': 'h', 'database.user': 'u', 'database.dbname': 'd', 'topic.prefix': 'p' };
  const ok = resolveConfig(postgresCdcSpec, {
    ...base, 'include.unknown.datatypes': 'true', 'extended.headers.enabled': 'false', 'interval.handling.mode': 'numeric', 'binary.handling.mode': 'bytes',
    'schema.refresh.mode': 'columns_diff', 'snapshot.locking.mode': 'none', 'table.ignore.builtin': 'true', 'slot.max.retries': '6', 'slot.retry.delay.ms': '10000',
    'poll.interval.ms': '100', 'database.tcpKeepAlive': 'true', 'xmin.fetch.interval.ms': '0', 'event.processing.failure.handling.mode': 'fail',
    'skip.messages.without.change': 'false', 'retriable.restart.connector.wait.ms': '10000', 'custom.metric.tags': 'env=dev',
  });
  assert.deepEqual(ok.problems, []);
  const cfg = resolvePgCdcConfig({ ...base, 'extended.headers.enabled': 'false', 'poll.interval.ms': '100' });
  assert.equal(cfg.extendedHeaders, false);
  assert.equal(cfg.pollIntervalMs, 100);
  assert.equal(resolvePgCdcConfig(base).extendedHeaders, true);
  for (const [k, v] of [['interval.handling.mode', 'string'], ['binary.handling.mode', 'hex'], ['xmin.fetch.interval.ms', '1000'], ['skip.messages.without.change', 'true'], ['no.such.key', 'x']]) {
    assert.equal(resolveConfig(postgresCdcSpec, { ...base, [k!]: v }).problems[0]?.key, k, `${k}=${v} should be refused`);
  }
});
