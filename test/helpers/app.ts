import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type App } from '../../src/server/app.js';
import { createLogger, setLogLevel } from '../../src/runtime/logger.js';
import { executeScript } from '../../src/commands/sql.js';
import type { Entity } from '../../src/sql/entities.js';
import type { EmbeddedLog } from '../../src/connectors/embedded-log/index.js';
import type { StoredRecord } from '../../src/sdk/record.js';

setLogLevel((process.env.TRIBUTARY_LOG_LEVEL as 'warn') ?? 'error');

export interface TestApp extends App {
  dataDir: string;
  sql(script: string): Promise<Entity[]>;
  /** every record of a topic in the embedded log, all partitions, in offset order per partition */
  records(topic: string): Promise<StoredRecord[]>;
  values(topic: string): Promise<any[]>;
  dispose(): Promise<void>;
}

export async function startTestApp(opts: { dataDir?: string; platform?: App['platform'] } = {}): Promise<TestApp> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'tributary-test-'));
  const app = await startApp({ dataDir, port: 0, platform: opts.platform, logger: createLogger() });
  const t: TestApp = Object.assign(app, {
    dataDir,
    sql: (script: string) => executeScript(app.worker, script),
    async records(topic: string) {
      const log = app.platform as EmbeddedLog;
      if (!(await log.describeTopic(topic))) return [];
      const ends = await log.endOffsets(topic);
      const out: StoredRecord[] = [];
      for (let p = 0; p < ends.length; p++) {
        for (let off = 0; off < ends[p]!; ) {
          const batch = await log.readPartition(topic, p, off, 5000);
          if (!batch.length) break;
          out.push(...batch);
          off += batch.length;
        }
      }
      return out;
    },
    async values(topic: string) {
      return (await t.records(topic)).map((r) => (r.value ? JSON.parse(r.value.toString('utf8')) : null));
    },
    async dispose() {
      await app.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  });
  return t;
}

/** Polls `fn` until it returns a truthy value or the timeout passes (then throws with the last value). */
export async function waitFor<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 20_000, everyMs = 100): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)}`);
}
