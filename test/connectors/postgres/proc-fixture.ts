/**
 * Helpers for tests that run `tributary server` as a child process (kill -9, memory caps): connector creation
 * over REST, reading the embedded log from outside, and sampling the slot's confirmed_flush_lsn.
 */
import { join } from 'node:path';
import type pg from 'pg';
import { createEmbeddedLog } from '../../../src/connectors/embedded-log/index.js';
import { parseLsn } from '../../../src/connectors/postgres/lsn.js';
import type { PgServer } from './pg-fixture.js';

export async function createConnector(url: string, name: string, config: Record<string, unknown>): Promise<void> {
  const body = JSON.stringify({ name, config: Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)])) });
  const r = await fetch(`${url}/connectors`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (r.status !== 201) throw new Error(`connector creation failed: ${r.status} ${await r.text()}`);
}

export async function connectorDetails(url: string, name: string): Promise<any> {
  const r = await fetch(`${url}/connectors/${encodeURIComponent(name)}/status`);
  return r.json();
}

export interface LoggedEvent {
  offset: number;
  /** null for a tombstone */
  value: any;
}

/** Every record of partition 0 of a topic, read as another process would (read-only). */
export async function readTopic(dataDir: string, topic: string, from = 0): Promise<LoggedEvent[]> {
  const log = await createEmbeddedLog({ dir: join(dataDir, 'log'), readOnly: true });
  try {
    if (!(await log.describeTopic(topic))) return [];
    const out: LoggedEvent[] = [];
    for (let off = from; ;) {
      const batch = await log.readPartition(topic, 0, off, 5000);
      if (!batch.length) break;
      for (const r of batch) out.push({ offset: Number(r.offset), value: r.value ? JSON.parse(r.value.toString('utf8')) : null });
      off += batch.length;
    }
    return out;
  } finally {
    await log.close();
  }
}

export async function topicEnd(dataDir: string, topic: string): Promise<number> {
  const log = await createEmbeddedLog({ dir: join(dataDir, 'log'), readOnly: true });
  try {
    if (!(await log.describeTopic(topic))) return 0;
    return (await log.endOffsets(topic))[0] ?? 0;
  } finally {
    await log.close();
  }
}

export interface FlushSample {
  at: number;
  /** confirmed_flush_lsn read first … */
  flush: number;
  /** … then the topic's end offset: everything the flush position covers must lie below it */
  logEnd: number;
}

/**
 * Samples (confirmed_flush_lsn, then the topic's log end) every `everyMs` until stopped. Because the log only
 * grows, an event covered by the sampled flush position must have its first copy below the sampled log end.
 */
export function sampleFlush(s: PgServer, slot: string, dataDir: string, topic: string, everyMs = 150): { stop(): Promise<FlushSample[]> } {
  const samples: FlushSample[] = [];
  let running = true;
  let client: pg.Client | null = null;
  const loop = (async () => {
    client = await s.client();
    while (running) {
      try {
        const r = await client.query('SELECT confirmed_flush_lsn::text AS f FROM pg_replication_slots WHERE slot_name = $1', [slot]);
        const f = r.rows[0]?.f;
        if (f) {
          const flush = parseLsn(f);
          const logEnd = await topicEnd(dataDir, topic);
          samples.push({ at: Date.now(), flush, logEnd });
        }
      } catch {
        /* the log may be between segments or the slot recreated: skip this sample */
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
    await client.end();
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}

/** commit LSN of an event, from its transaction block id `<xid>:<commit LSN>` (provide.transaction.metadata) */
export function commitLsnOf(v: any): number | null {
  const id = v?.payload?.transaction?.id;
  if (typeof id !== 'string') return null;
  return Number(id.slice(id.indexOf(':') + 1));
}

/**
 * Checks each flush sample against the final log: every event whose transaction committed before the sampled
 * flush position must have been in the log (its first copy below the sampled end). Returns violations.
 */
export function flushViolations(events: LoggedEvent[], samples: FlushSample[]): string[] {
  // first log offset of each distinct transaction/event: (commit LSN, position in tx) → first offset
  const firstOffsetByCommit = new Map<number, number>();
  const lastOffsetByCommit = new Map<number, number>();
  const seen = new Set<string>();
  for (const e of events) {
    const c = commitLsnOf(e.value);
    if (c === null) continue;
    const key = `${c}:${e.value.payload.transaction.total_order}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (!firstOffsetByCommit.has(c)) firstOffsetByCommit.set(c, e.offset);
    // the last distinct event of the transaction to arrive: the whole transaction is in the log from here on
    lastOffsetByCommit.set(c, Math.max(lastOffsetByCommit.get(c) ?? -1, e.offset));
  }
  const commits = [...lastOffsetByCommit.entries()].sort((a, b) => a[0] - b[0]);
  const out: string[] = [];
  for (const s of samples) {
    for (const [c, lastOff] of commits) {
      if (c >= s.flush) break;
      if (lastOff >= s.logEnd) {
        out.push(`confirmed_flush_lsn ${s.flush} at ${new Date(s.at).toISOString()} covered the transaction committed at ${c} whose events reached the log only at offset ${lastOff} (log end then ${s.logEnd})`);
        break;
      }
    }
  }
  return out;
}

/**
 * The delivery check for a single writer whose writes carry w = 1..n in commit order: every w present, and the
 * log is a sequence of runs w, w+1, … where each new run starts at or below the highest w delivered so far + 1
 * (a replayed suffix, never a gap). Returns the number of restarts (replays) and problems found.
 */
export function checkReplayOrder(ws: number[], n: number): { restarts: number; problems: string[] } {
  const problems: string[] = [];
  let restarts = 0;
  let prev = 0;
  let max = 0;
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i]!;
    if (w !== prev + 1) {
      if (w > max + 1) problems.push(`gap at log index ${i}: w=${w} after w=${prev}, highest so far ${max}`);
      else if (w > prev) problems.push(`skip at log index ${i}: w=${w} after w=${prev}`);
      else restarts++;
    }
    prev = w;
    if (w > max) max = w;
    if (problems.length > 5) break;
  }
  const present = new Set(ws);
  const missing: number[] = [];
  for (let w = 1; w <= n; w++) if (!present.has(w)) missing.push(w);
  if (missing.length) problems.push(`${missing.length} writes missing, e.g. ${missing.slice(0, 10).join(', ')}`);
  return { restarts, problems };
}
