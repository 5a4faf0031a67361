import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { createEmbeddedLog, type EmbeddedLog, type EmbeddedLogOptions } from '../../../src/connectors/embedded-log/index.js';
import { murmur2, partitionForKey } from '../../../src/connectors/embedded-log/partition.js';
import { LOCK_FILE } from '../../../src/connectors/embedded-log/lock.js';
import { TributaryError } from '../../../src/sdk/errors.js';
import type { PlatformRecord, StoredRecord } from '../../../src/sdk/record.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-log-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function topicName(): string {
  return `t_${Math.random().toString(36).slice(2, 10)}`;
}

function rec(topic: string, value: string | null, extra: Partial<PlatformRecord> = {}): PlatformRecord {
  return { topic, key: null, value: value === null ? null : Buffer.from(value), timestamp: 1_700_000_000_000, ...extra };
}

async function withLog<T>(opts: Partial<EmbeddedLogOptions> & { dir: string }, fn: (log: EmbeddedLog) => Promise<T>): Promise<T> {
  const log = await createEmbeddedLog(opts);
  try {
    return await fn(log);
  } finally {
    await log.close();
  }
}

function segmentFiles(dir: string, topic: string, partition = 0): string[] {
  return fs
    .readdirSync(path.join(dir, 'topics', topic, String(partition)))
    .filter((f) => f.endsWith('.log'))
    .sort();
}

async function readAll(log: EmbeddedLog, topic: string, limit: number): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 5000);
  await log.read(topic, { fromBeginning: true, limit, signal: ac.signal, onRecord: (r) => out.push(r) });
  clearTimeout(timer);
  return out;
}

describe('embedded log', () => {
  test('large sends (checksummed in the worker thread) survive a reopen whole, in order', async () => {
    const dir = tempDir();
    const topic = topicName();
    const values = Array.from({ length: 3000 }, (_, i) => `value ${i} `.repeat(1 + (i % 40)));
    await withLog({ dir }, async (log) => {
      const sends: Array<Promise<void>> = [];
      for (let i = 0; i < values.length; i += 500) sends.push(log.send(values.slice(i, i + 500).map((v) => rec(topic, v))));
      await Promise.all(sends);
    });
    // reopening checks every record's checksum and would cut the log at the first bad one
    await withLog({ dir }, async (log) => {
      assert.deepEqual(await log.endOffsets(topic), [values.length]);
      const got = await readAll(log, topic, values.length);
      assert.deepEqual(got.map((r) => r.value?.toString()), values);
    });
  });

  test('records round-trip with keys, values, headers, timestamps and nulls', async () => {
    const dir = tempDir();
    const topic = topicName();
    await withLog({ dir }, async (log) => {
      await log.send([
        { topic, key: Buffer.from('k1'), value: Buffer.from('v1'), timestamp: 1, headers: [{ key: 'h', value: Buffer.from([0, 255]) }, { key: 'ü', value: 'text' }, { key: 'n', value: null }] },
        { topic, key: null, value: null, timestamp: 1_700_000_000_123 },
        { topic, key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: -5 },
        { topic, key: Buffer.from('k4'), value: Buffer.alloc(100_000, 7), timestamp: 2 ** 45 },
      ]);
      const got = await log.readPartition(topic, 0, 0, 100);
      assert.equal(got.length, 4);
      assert.deepEqual(
        got.map((r) => r.offset),
        [0, 1, 2, 3],
      );
      assert.deepEqual(got[0]!.key, Buffer.from('k1'));
      assert.deepEqual(got[0]!.value, Buffer.from('v1'));
      assert.equal(got[0]!.timestamp, 1);
      assert.deepEqual(got[0]!.headers, [
        { key: 'h', value: Buffer.from([0, 255]) },
        { key: 'ü', value: Buffer.from('text') },
        { key: 'n', value: null },
      ]);
      assert.equal(got[1]!.key, null);
      assert.equal(got[1]!.value, null);
      assert.equal(got[1]!.timestamp, 1_700_000_000_123);
      assert.deepEqual(got[2]!.key, Buffer.alloc(0));
      assert.deepEqual(got[2]!.value, Buffer.alloc(0));
      assert.equal(got[2]!.timestamp, -5);
      assert.deepEqual(got[3]!.value, Buffer.alloc(100_000, 7));
      assert.equal(got[3]!.timestamp, 2 ** 45);
      assert.equal(got[3]!.topic, topic);
      assert.equal(got[3]!.partition, 0);
      assert.deepEqual(await log.readPartition(topic, 0, 2, 1).then((rs) => rs.map((r) => r.offset)), [2]);
      assert.deepEqual(await log.endOffsets(topic), [4]);
    });
  });

  test('ordering is kept per partition across many concurrent sends', async () => {
    const dir = tempDir();
    const topic = topicName();
    await withLog({ dir, partitions: 3 }, async (log) => {
      await log.ensureTopic(topic);
      const sends: Promise<void>[] = [];
      let seq = 0;
      for (let call = 0; call < 200; call++) {
        const batch: PlatformRecord[] = [];
        for (let i = 0; i < 1 + (call % 7); i++) {
          const key = `key-${seq % 10}`;
          batch.push({ topic, key: Buffer.from(key), value: Buffer.from(String(seq++)), timestamp: Date.now() });
        }
        sends.push(log.send(batch));
      }
      await Promise.all(sends);
      const ends = await log.endOffsets(topic);
      assert.equal(
        ends.reduce((a, b) => a + b, 0),
        seq,
      );
      for (let p = 0; p < 3; p++) {
        const rs = await log.readPartition(topic, p, 0, seq);
        const values = rs.map((r) => Number(r.value!.toString()));
        assert.deepEqual(values, [...values].sort((a, b) => a - b), `partition ${p} is in call order`);
        assert.deepEqual(
          rs.map((r) => r.offset),
          rs.map((_, i) => i),
        );
        for (const r of rs) assert.equal(partitionForKey(r.key!, 3), p);
      }
    });
  });

  test('keys are partitioned like Kafka and null keys round-robin', async () => {
    assert.equal(murmur2(Buffer.from('21')), -973932308);
    assert.equal(murmur2(Buffer.from('foobar')), -790332482);
    assert.equal(murmur2(Buffer.from('a-little-bit-longer-string')), -1486304829);
    assert.equal(murmur2(Buffer.from('abc')), 479470107);
    const dir = tempDir();
    const topic = topicName();
    await withLog({ dir }, async (log) => {
      await log.ensureTopic(topic, { partitions: 4 });
      await log.send(Array.from({ length: 8 }, (_, i) => rec(topic, String(i))));
      assert.deepEqual(await log.endOffsets(topic), [2, 2, 2, 2]);
      await log.send([rec(topic, 'x', { partition: 3 })]);
      assert.deepEqual(await log.endOffsets(topic), [2, 2, 2, 3]);
      await assert.rejects(log.send([rec(topic, 'y', { partition: 4 })]), (e: unknown) => e instanceof TributaryError && /out of range/.test(e.message));
    });
  });

  for (const declared of [false, true]) test(`values sharing a long prefix are stored once per write and read back whole, from any offset, after a reopen${declared ? ' (prefixes declared by the converter)' : ''}`, async () => {
    const dir = tempDir();
    const topic = topicName();
    // Kafka Connect JSON with schema: every value starts with the same ~500 bytes
    const schema = '{"schema":{"type":"struct","fields":[' + Array.from({ length: 10 }, (_, i) => `{"type":"string","optional":true,"field":"f${i}"}`).join(',') + ']},"payload":';
    const value = (i: number) => (i % 97 === 13 ? null : i % 50 === 7 ? `other-${i}-`.repeat(12) : `${schema}{"id":${i},"note":"${'x'.repeat(i % 40)}"}}`);
    // PlatformRecord.valuePrefix as the JsonConverter gives it (one object per schema); some records without it
    const schemaPrefix = Buffer.from(schema);
    const otherPrefix = Buffer.from('other-');
    const prefixOf = (i: number) => (!declared || i % 7 === 0 || value(i) === null ? undefined : i % 50 === 7 ? otherPrefix : schemaPrefix);
    const make = (i: number): PlatformRecord => ({
      topic, key: i % 3 === 0 ? Buffer.from(`k${i}`) : null, value: value(i) === null ? null : Buffer.from(value(i)!), timestamp: 1_700_000_000_000 + i,
      ...(i % 5 === 0 ? { headers: [{ key: 'h', value: Buffer.from(`h${i}`) }] } : {}),
      ...(prefixOf(i) ? { valuePrefix: prefixOf(i) } : {}),
    });
    const n = 4000;
    const check = (rs: StoredRecord[], from: number) => {
      rs.forEach((r, j) => {
        const i = from + j;
        assert.equal(r.offset, i);
        assert.equal(r.value === null ? null : r.value.toString(), value(i), `value of ${i}`);
        assert.equal(r.key === null ? null : r.key.toString(), i % 3 === 0 ? `k${i}` : null, `key of ${i}`);
        assert.deepEqual((r.headers ?? []).map((h) => String(h.value)), i % 5 === 0 ? [`h${i}`] : [], `headers of ${i}`);
      });
    };
    await withLog({ dir }, async (log) => {
      // one write of ~2.4 MB (bases beyond a read chunk of 1 MiB), then many small ones
      await log.send(Array.from({ length: 3000 }, (_, i) => make(i)));
      for (let i = 3000; i < n; i += 50) await log.send(Array.from({ length: 50 }, (_, j) => make(i + j)));
      check(await log.readPartition(topic, 0, 0, n), 0);
    });
    const stored = segmentFiles(dir, topic).reduce((a, f) => a + fs.statSync(path.join(dir, 'topics', topic, '0', f)).size, 0);
    const whole = Array.from({ length: n }, (_, i) => Buffer.byteLength(value(i) ?? '')).reduce((a, b) => a + b, 0);
    assert.ok(stored < whole * 0.4, `stored ${stored} B for ${whole} B of values`);
    await withLog({ dir }, async (log) => {
      for (const from of [1, 1499, 2222, 2999, 3000, 3977]) check(await log.readPartition(topic, 0, from, 30), from);
      check(await log.readPartition(topic, 0, 0, n), 0);
    });
    // a crash cut inside the big write: what stays is whole, and writing goes on
    const seg = path.join(dir, 'topics', topic, '0', segmentFiles(dir, topic)[0]!);
    fs.truncateSync(seg, Math.floor(fs.statSync(seg).size * 0.4));
    await withLog({ dir }, async (log) => {
      const [end] = await log.endOffsets(topic);
      assert.ok(end! > 1000 && end! < 3000, `end ${end}`);
      check(await log.readPartition(topic, 0, 0, n), 0);
      await log.send([make(end!)]);
      check(await log.readPartition(topic, 0, end! - 2, 3), end! - 2);
    });
  });

  test('a torn tail write is truncated on reopen and offsets continue after the last valid record', async () => {
    const dir = tempDir();
    const topic = topicName();
    await withLog({ dir }, async (log) => {
      await log.send(Array.from({ length: 10 }, (_, i) => rec(topic, `v${i}`)));
    });
    const seg = path.join(dir, 'topics', topic, '0', segmentFiles(dir, topic)[0]!);
    const valid = fs.statSync(seg).size;
    // a partial record: a length prefix promising more bytes than follow
    const partial = Buffer.alloc(30);
    partial.writeUInt32BE(500, 0);
    fs.appendFileSync(seg, partial);
    await withLog({ dir }, async (log) => {
      assert.equal(fs.statSync(seg).size, valid);
      assert.deepEqual(await log.endOffsets(topic), [10]);
      await log.send([rec(topic, 'after')]);
      const rs = await log.readPartition(topic, 0, 0, 100);
      assert.equal(rs.length, 11);
      assert.equal(rs[10]!.offset, 10);
      assert.equal(rs[10]!.value!.toString(), 'after');
    });
    // garbage of full length: a complete-looking record whose checksum does not match
    const before = fs.statSync(seg).size;
    const garbage = Buffer.alloc(60, 0xab);
    garbage.writeUInt32BE(56, 0);
    fs.appendFileSync(seg, garbage);
    // and a record whose last bytes were lost: copy the last valid record and cut it short
    await withLog({ dir }, async (log) => {
      assert.equal(fs.statSync(seg).size, before);
      assert.deepEqual(await log.endOffsets(topic), [11]);
    });
    const bytes = fs.readFileSync(seg);
    fs.truncateSync(seg, bytes.length - 3);
    await withLog({ dir }, async (log) => {
      assert.deepEqual(await log.endOffsets(topic), [10]);
      await log.send([rec(topic, 'again')]);
      const rs = await log.readPartition(topic, 0, 9, 10);
      assert.deepEqual(
        rs.map((r) => [r.offset, r.value!.toString()]),
        [
          [9, 'v9'],
          [10, 'again'],
        ],
      );
    });
  });

  test('a process killed with SIGKILL while writing loses no acknowledged record', async () => {
    const dir = tempDir();
    const topic = topicName();
    const mod = path.resolve(import.meta.dirname, '../../../src/connectors/embedded-log/index.js');
    const script = `
      const { createEmbeddedLog } = await import(${JSON.stringify(mod)});
      const log = await createEmbeddedLog({ dir: ${JSON.stringify(dir)}, fsync: 'always' });
      let n = 0;
      for (;;) {
        const batch = [];
        for (let i = 0; i < 200; i++) batch.push({ topic: ${JSON.stringify(topic)}, key: null, value: Buffer.alloc(300, n % 256), timestamp: Date.now() });
        await log.send(batch);
        n += 200;
        process.stdout.write(n + '\\n');
      }`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acked = 0;
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        const lines = d.toString().trim().split('\n');
        acked = Number(lines[lines.length - 1]);
        if (acked >= 4000) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((r) => child.on('exit', r));
    // the dead writer's lock is stale and taken over
    await withLog({ dir }, async (log) => {
      const [end] = await log.endOffsets(topic);
      assert.ok(end! >= acked, `end offset ${end} covers the ${acked} acknowledged records`);
      const rs = await log.readPartition(topic, 0, end! - 1, 1);
      assert.equal(rs[0]!.offset, end! - 1);
    });
  });

  test('segments roll at segmentBytes and reads cross segment boundaries', async () => {
    const dir = tempDir();
    const topic = topicName();
    const total = 300;
    await withLog({ dir, segmentBytes: 8 * 1024 }, async (log) => {
      for (let i = 0; i < total; i += 10) {
        await log.send(Array.from({ length: 10 }, (_, j) => rec(topic, `value-${i + j}-`.padEnd(200, 'x'))));
      }
      const files = segmentFiles(dir, topic);
      assert.ok(files.length > 5, `rolled into ${files.length} segments`);
      for (const f of files) assert.ok(fs.statSync(path.join(dir, 'topics', topic, '0', f)).size <= 8 * 1024);
      assert.equal(files[0], '00000000000000000000.log');
      const rs = await log.readPartition(topic, 0, 0, total + 10);
      assert.deepEqual(
        rs.map((r) => r.offset),
        Array.from({ length: total }, (_, i) => i),
      );
      const mid = await log.readPartition(topic, 0, 137, 3);
      assert.deepEqual(
        mid.map((r) => r.value!.toString().split('-')[1]),
        ['137', '138', '139'],
      );
    });
    // reopen: continues in the last segment, older segments read through their index files
    await withLog({ dir, segmentBytes: 8 * 1024 }, async (log) => {
      assert.deepEqual(await log.endOffsets(topic), [total]);
      await log.send([rec(topic, 'last')]);
      const rs = await log.readPartition(topic, 0, 100, 1000);
      assert.equal(rs.length, total + 1 - 100);
      assert.equal(rs[0]!.offset, 100);
      assert.equal(rs[rs.length - 1]!.value!.toString(), 'last');
    });
  });

  test('reopening continues offsets and keeps topics with their metadata', async () => {
    const dir = tempDir();
    const topic = topicName();
    await withLog({ dir }, async (log) => {
      await log.ensureTopic(topic, { partitions: 2, configs: { 'cleanup.policy': 'delete' } });
      await log.send([rec(topic, 'a', { partition: 0 }), rec(topic, 'b', { partition: 1 }), rec(topic, 'c', { partition: 1 })]);
    });
    await withLog({ dir }, async (log) => {
      assert.deepEqual(await log.listTopics(), [{ name: topic, partitions: 2, replicas: 1 }]);
      const meta = await log.describeTopic(topic);
      assert.equal(meta?.partitions, 2);
      assert.deepEqual(meta?.configs, { 'cleanup.policy': 'delete' });
      await log.ensureTopic(topic, { partitions: 5 }); // present: no-op
      assert.deepEqual(await log.endOffsets(topic), [1, 2]);
      await log.send([rec(topic, 'd', { partition: 1 })]);
      const rs = await log.readPartition(topic, 1, 0);
      assert.deepEqual(
        rs.map((r) => [r.offset, r.value!.toString()]),
        [
          [0, 'b'],
          [1, 'c'],
          [2, 'd'],
        ],
      );
    });
  });

  test('a following read receives records appended after it started and stops at its limit', async () => {
    const dir = tempDir();
    const topic = topicName();
    await withLog({ dir }, async (log) => {
      await log.send([rec(topic, 'old')]);
      const got: string[] = [];
      const reading = log.read(topic, { fromBeginning: false, limit: 3, onRecord: (r) => got.push(r.value!.toString()) });
      await new Promise((r) => setTimeout(r, 50));
      await log.send([rec(topic, 'n1'), rec(topic, 'n2')]);
      await new Promise((r) => setTimeout(r, 20));
      await log.send([rec(topic, 'n3'), rec(topic, 'n4')]);
      await reading;
      assert.deepEqual(got, ['n1', 'n2', 'n3']);
    });
  });

  test('a read from the beginning merges partitions by timestamp and stops when aborted', async () => {
    const dir = tempDir();
    const topic = topicName();
    await withLog({ dir }, async (log) => {
      await log.ensureTopic(topic, { partitions: 3 });
      const sends = [];
      for (let i = 0; i < 30; i++) sends.push(log.send([rec(topic, String(i), { partition: (i * 7) % 3, timestamp: 1000 + i })]));
      await Promise.all(sends);
      const got = await readAll(log, topic, 30);
      assert.deepEqual(
        got.map((r) => r.timestamp),
        Array.from({ length: 30 }, (_, i) => 1000 + i),
      );
      const ac = new AbortController();
      const seen: StoredRecord[] = [];
      const reading = log.read(topic, { fromBeginning: true, signal: ac.signal, onRecord: (r) => seen.push(r) });
      setTimeout(() => ac.abort(), 100);
      await reading;
      assert.equal(seen.length, 30);
    });
  });

  test('a read-only log in another process follows the writer', async () => {
    const dir = tempDir();
    const topic = topicName();
    await withLog({ dir }, async (writer) => {
      await writer.send([rec(topic, 'first')]);
      const reader = await createEmbeddedLog({ dir, readOnly: true, pollIntervalMs: 20 });
      try {
        assert.deepEqual(await reader.listTopics(), [{ name: topic, partitions: 1, replicas: 1 }]);
        assert.deepEqual(await reader.endOffsets(topic), [1]);
        const got: string[] = [];
        const reading = reader.read(topic, { fromBeginning: true, limit: 3, onRecord: (r) => got.push(r.value!.toString()) });
        await writer.send([rec(topic, 'second')]);
        await writer.send([rec(topic, 'third')]);
        await reading;
        assert.deepEqual(got, ['first', 'second', 'third']);
        await assert.rejects(reader.send([rec(topic, 'x')]), /read-only/);
      } finally {
        await reader.close();
      }
    });
  });

  test('interval and never fsync policies acknowledge every record', async () => {
    for (const fsync of ['interval', 'never'] as const) {
      const dir = tempDir();
      const topic = topicName();
      await withLog({ dir, fsync, fsyncIntervalMs: 5 }, async (log) => {
        await Promise.all(Array.from({ length: 20 }, (_, i) => log.send([rec(topic, String(i))])));
        assert.deepEqual(await log.endOffsets(topic), [20]);
        const pending = log.send([rec(topic, 'last')]);
        await log.flush();
        await pending;
        assert.deepEqual(await log.endOffsets(topic), [21]);
      });
      await withLog({ dir }, async (log) => assert.deepEqual(await log.endOffsets(topic), [21]));
    }
  });

  test('a bad topic name is refused with a clear error', async () => {
    const dir = tempDir();
    await withLog({ dir }, async (log) => {
      for (const bad of ['', '..', 'a/b', 'has space', 'x'.repeat(250), 'ünïcode']) {
        await assert.rejects(log.ensureTopic(bad), (e: unknown) => e instanceof TributaryError && e.code === 'config.invalid' && /Invalid topic name/.test(e.message));
        await assert.rejects(log.send([rec(bad, 'v')]), (e: unknown) => e instanceof TributaryError && e.code === 'config.invalid');
      }
      await log.ensureTopic('ok.name_with-all.249'.padEnd(249, 'z'));
      assert.equal((await log.listTopics()).length, 1);
      await assert.rejects(log.read('missing', { fromBeginning: true, onRecord: () => {} }), (e: unknown) => e instanceof TributaryError && e.code === 'platform.topic_missing');
    });
  });

  test('a call holding a record that is not bytes is refused and writes nothing', async () => {
    const dir = tempDir();
    const topic = topicName();
    await withLog({ dir }, async (log) => {
      await log.ensureTopic(topic);
      const bad = [rec(topic, 'ok'), { topic, key: null, value: 'text' as unknown as Buffer, timestamp: 1 }];
      await assert.rejects(log.send(bad), (e: unknown) => e instanceof TributaryError && e.code === 'config.invalid' && /Buffer/.test(e.message));
      const badHeader = [rec(topic, 'ok', { headers: [{ key: 'h', value: 42 as unknown as Buffer }] })];
      await assert.rejects(log.send(badHeader), (e: unknown) => e instanceof TributaryError && e.code === 'config.invalid');
      assert.deepEqual(await log.endOffsets(topic), [0]);
    });
  });

  test('a second writer on the same directory fails clearly, and a stale lock is taken over', async () => {
    const dir = tempDir();
    const first = await createEmbeddedLog({ dir });
    await assert.rejects(createEmbeddedLog({ dir }), (e: unknown) => e instanceof TributaryError && e.code === 'state.io' && /already in use by process/.test(e.message) && /--data-dir/.test(e.hint ?? ''));
    await first.close();
    await first.close(); // idempotent
    await assert.rejects(first.send([rec('t', 'x')]), /closed/);
    // a lock left by a process that no longer runs
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid!)));
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid, host: os.hostname(), since: 'then' }));
    const second = await createEmbeddedLog({ dir });
    await second.close();
    assert.equal(fs.existsSync(path.join(dir, LOCK_FILE)), false);
  });
});
