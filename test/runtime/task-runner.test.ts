import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { TaskRunner } from '../../src/runtime/task-runner.js';
import { createLogger, setLogLevel } from '../../src/runtime/logger.js';
import { JsonConverter } from '../../src/converters/json.js';
import { TributaryError } from '../../src/sdk/errors.js';
import type { Platform } from '../../src/sdk/platform.js';
import type { PlatformRecord, SourceOffset, SourcePartition, SourceRecord } from '../../src/sdk/record.js';
import type { SourcePlugin, SourceTask } from '../../src/sdk/source.js';
import type { OffsetEntry, OffsetStore } from '../../src/sdk/state.js';
import { Schemas } from '../../src/sdk/schema.js';
import type { Logger } from '../../src/sdk/logger.js';
import { fakeSourcePlugin } from './fake-source.js';

setLogLevel('error');

const schema = Schemas.struct([{ name: 'id', schema: Schemas.int64() }, { name: 'text', schema: Schemas.string() }], 'row');

/** A source of `total` records in polls of `per`, partitions alternating in runs, committed offsets recorded. */
function source(total: number, per: number): { plugin: SourcePlugin; committed: OffsetEntry[][] } {
  const committed: OffsetEntry[][] = [];
  const parts: SourcePartition[] = [{ table: 'a' }, { table: 'b' }];
  let next = 0;
  const task: SourceTask = {
    async start() {},
    async poll() {
      if (next >= total) {
        await new Promise((r) => setTimeout(r, 5));
        return [];
      }
      const out: SourceRecord[] = [];
      for (let i = 0; i < per && next < total; i++, next++) {
        const r: SourceRecord = {
          topic: next % 7 === 0 ? 'other' : 'main',
          key: next % 3 === 0 ? null : String(next),
          keySchema: Schemas.string(),
          value: { id: next, text: 'é'.repeat(next % 50) },
          valueSchema: schema,
          sourcePartition: parts[Math.floor(next / 5) % 2]!,
          sourceOffset: { n: next } as SourceOffset,
        };
        if (next % 11 === 0) r.kafkaPartition = 0;
        if (next % 13 === 0) r.headers = [{ key: 'h', value: `v${next}` }];
        if (next % 17 === 0) r.timestamp = 1_600_000_000_000 + next;
        out.push(r);
      }
      return out;
    },
    async stop() {},
  };
  const plugin = { id: 'fake', aliases: [], className: 'Fake', type: 'source', spec: { name: 'fake', keys: [] }, createConnector: () => { throw new Error('unused'); }, createTask: () => task } as unknown as SourcePlugin;
  return { plugin, committed };
}

function offsets(): OffsetStore & { entries: Map<string, SourceOffset> } {
  const entries = new Map<string, SourceOffset>();
  return {
    entries,
    async get() { return null; },
    async list() { return []; },
    async commit(_c: string, es: OffsetEntry[]) { for (const e of es) entries.set(JSON.stringify(e.partition), e.offset!); },
    async clear() {},
  };
}

function converter(): JsonConverter {
  const c = new JsonConverter();
  c.configure({}, false);
  return c;
}

describe('TaskRunner', () => {
  it('resends every unacknowledged batch after a retriable failure with the same records, then commits the last offsets', async () => {
    const total = 2500;
    const { plugin } = source(total, 100);
    const sends: PlatformRecord[][] = [];
    let failures = 0;
    const got: PlatformRecord[] = [];
    const platform: Platform = {
      kind: 'fake',
      async send(records) {
        // a deep copy of what arrived (the runner may not keep the objects it sent)
        const copy = records.map((r) => ({ ...r, key: r.key && Buffer.from(r.key), value: r.value && Buffer.from(r.value), headers: r.headers?.map((h) => ({ ...h })) }));
        sends.push(copy);
        if (sends.length === 4 && failures === 0) {
          failures++;
          await new Promise((r) => setTimeout(r, 5));
          throw new TributaryError('platform.write', 'disk hiccup', { retriable: true });
        }
        got.push(...copy);
      },
      async ensureTopic() {},
      async listTopics() { return []; },
      async read() {},
      async close() {},
    };
    const store = offsets();
    const runner = new TaskRunner({
      connector: 'c', taskId: 0, plugin, config: {}, platform, offsets: store,
      keyConverter: converter(), valueConverter: converter(), transform: (r) => r, tolerateErrors: false,
      topicSpec: () => undefined, limits: { maxInflightRecords: 100_000, maxInflightBytes: 1 << 30, offsetFlushMs: 10, shutdownTimeoutMs: 5000 },
      logger: createLogger(),
    });
    runner.start();
    const deadline = Date.now() + 20_000;
    while (runner.metrics.recordsWritten < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await runner.stop();
    assert.equal(failures, 1);
    assert.equal(runner.metrics.recordsWritten, total);
    // the failed batch and everything sent after it came again, identical to the first attempt
    const first = sends[3]!;
    const again = sends.find((s, i) => i > 3 && s.length === first.length && s[0]!.value!.equals(first[0]!.value!))!;
    assert.ok(again, 'the failed batch was sent again');
    assert.deepEqual(again.map((r) => ({ ...r, key: r.key?.toString('hex'), value: r.value?.toString('hex') })), first.map((r) => ({ ...r, key: r.key?.toString('hex'), value: r.value?.toString('hex') })));
    // a consumer sees every record at least once, in order per topic apart from the replayed suffix
    const ids = new Set(got.map((r) => JSON.parse(r.value!.toString()).payload.id as number));
    assert.equal(ids.size, total);
    const withHeader = got.find((r) => r.headers?.length);
    assert.ok(withHeader && withHeader.headers![0]!.value === `v${JSON.parse(withHeader.value!.toString()).payload.id}`);
    assert.ok(got.some((r) => r.partition === 0) && got.some((r) => r.topic === 'other') && got.some((r) => r.timestamp === 1_600_000_000_000 + 17));
    // committed offsets: the last record of each partition
    assert.deepEqual(Object.fromEntries(store.entries), { '{"table":"b"}': { n: total - 1 }, '{"table":"a"}': { n: total - 6 } });
  });

  describe('in a task thread', () => {
    const before = process.env.TRIBUTARY_TASK_THREADS;
    beforeEach(() => {
      process.env.TRIBUTARY_TASK_THREADS = '1'; // whatever the number of cores
    });
    afterEach(() => {
      if (before === undefined) delete process.env.TRIBUTARY_TASK_THREADS;
      else process.env.TRIBUTARY_TASK_THREADS = before;
    });

    function capture(): { logger: Logger; lines: Array<{ level: string; msg: string; ctx?: Record<string, unknown> }> } {
      const lines: Array<{ level: string; msg: string; ctx?: Record<string, unknown> }> = [];
      const mk = (base: Record<string, unknown>): Logger => ({
        debug: (msg, ctx) => lines.push({ level: 'debug', msg, ctx: { ...base, ...ctx } }),
        info: (msg, ctx) => lines.push({ level: 'info', msg, ctx: { ...base, ...ctx } }),
        warn: (msg, ctx) => lines.push({ level: 'warn', msg, ctx: { ...base, ...ctx } }),
        error: (msg, ctx) => lines.push({ level: 'error', msg, ctx: { ...base, ...ctx } }),
        child: (c) => mk({ ...base, ...c }),
      });
      return { logger: mk({}), lines };
    }

    function platform(opts: { failSend?: number } = {}): Platform & { got: PlatformRecord[]; sends: number } {
      let failed = false;
      const p = {
        kind: 'fake',
        got: [] as PlatformRecord[],
        sends: 0,
        async send(records: PlatformRecord[]) {
          p.sends++;
          if (p.sends === opts.failSend && !failed) {
            failed = true;
            throw new TributaryError('platform.write', 'disk hiccup', { retriable: true });
          }
          for (const r of records) p.got.push({ ...r, key: r.key && Buffer.from(r.key), value: r.value && Buffer.from(r.value) });
        },
        async ensureTopic() {},
        async listTopics() { return []; },
        async read() {},
        async close() {},
      };
      return p;
    }

    function runner(config: Record<string, unknown>, plat: Platform, store: OffsetStore, logger: Logger): TaskRunner {
      return new TaskRunner({
        connector: 'c', taskId: 0, plugin: fakeSourcePlugin, config, platform: plat, offsets: store,
        keyConverter: converter(), valueConverter: converter(), transform: (r) => r, tolerateErrors: false,
        topicSpec: () => undefined, limits: { maxInflightRecords: 3000, maxInflightBytes: 1 << 30, offsetFlushMs: 10, shutdownTimeoutMs: 5000 },
        logger,
      });
    }

    async function until(cond: () => boolean, ms = 20_000): Promise<void> {
      const deadline = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > deadline) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 10));
      }
    }

    const ids = (rs: PlatformRecord[]) => rs.map((r) => JSON.parse(r.value!.toString()).payload.id as number);

    it('delivers everything in order, commits offsets (and tells the task), resumes from stored offsets, reports status', async () => {
      const { logger, lines } = capture();
      const store = offsets();
      store.entries.set('{"table":"a"}', { n: 99 });
      store.get = async () => store.entries.get('{"table":"a"}') ?? null;
      const plat = platform();
      const r = runner({ total: 5000, per: 250, retryAt: 1100 }, plat, store, logger);
      r.start();
      assert.equal(r.threaded, true);
      await until(() => r.metrics.recordsWritten >= 4900);
      assert.deepEqual(r.sourceStatus(), { next: 5000 });
      await r.stop();
      assert.equal(r.state, 'STOPPED');
      assert.deepEqual(ids(plat.got), Array.from({ length: 4900 }, (_, i) => i + 100), 'from the stored offset on, in order, once');
      assert.equal(r.metrics.recordsPolled, 4900);
      assert.deepEqual(store.entries.get('{"table":"a"}'), { n: 4999 });
      assert.ok(lines.some((l) => l.msg === 'fake started' && l.ctx?.['from'] === 100), 'task logs reach the runner\'s logger');
      assert.ok(lines.some((l) => l.msg === 'poll failed, retrying'), 'a retriable poll failure is retried');
      assert.ok(lines.some((l) => l.msg === 'fake commit' && l.ctx?.['n'] === 4999), 'task.commit got the last offset');
      assert.ok(lines.some((l) => l.msg === 'fake stopped'));
      const h = plat.got.find((x) => x.headers?.length)!;
      assert.equal(String(h.headers![0]!.value), `v${JSON.parse(h.value!.toString()).payload.id}`);
      assert.ok(plat.got.some((x) => x.partition === 0) && plat.got.some((x) => x.topic === 'fake_other') && plat.got.some((x) => x.key === null));
    });

    it('resends unacknowledged batches after a retriable platform failure', async () => {
      const { logger } = capture();
      const store = offsets();
      const plat = platform({ failSend: 3 });
      const r = runner({ total: 3000, per: 200 }, plat, store, logger);
      r.start();
      await until(() => r.metrics.recordsWritten >= 3000);
      await r.stop();
      const got = ids(plat.got);
      assert.deepEqual([...new Set(got)].sort((a, b) => a - b), Array.from({ length: 3000 }, (_, i) => i));
      assert.deepEqual(store.entries.get('{"table":"a"}'), { n: 2999 });
    });

    it('pauses and resumes', async () => {
      const { logger } = capture();
      const plat = platform();
      const r = runner({ total: 100_000, per: 100 }, plat, offsets(), logger);
      r.start(true);
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(plat.got.length, 0, 'started paused');
      r.resume();
      await until(() => plat.got.length > 0);
      r.pause();
      // a poll under way when the pause arrived still completes: wait until nothing moves
      let n = -1;
      for (let i = 0; i < 50 && n !== plat.got.length; i++) {
        n = plat.got.length;
        await new Promise((res) => setTimeout(res, 300));
      }
      await new Promise((res) => setTimeout(res, 500));
      assert.equal(plat.got.length, n, 'nothing more while paused');
      r.resume();
      await until(() => plat.got.length > n);
      await r.stop();
    });

    it('fails with the task\'s error, code, hint and a trace', async () => {
      const { logger } = capture();
      const plat = platform();
      const r = runner({ total: 1000, per: 100, failAt: 500 }, plat, offsets(), logger);
      r.start();
      await until(() => r.state === 'FAILED');
      assert.match(r.trace ?? '', /TributaryError\[source\.query\]: boom at 500 \(hint: a hint\)/);
      await r.stop();
      assert.equal(r.state, 'FAILED');
      assert.ok(ids(plat.got).every((id) => id < 500));
    });
  });
});

