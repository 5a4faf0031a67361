import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Worker } from '../../runtime/worker.js';
import type { StoredRecord } from '../../sdk/record.js';
import { listTopics, resolveTopic, VERSION } from '../../commands/index.js';
import { redact } from '../../runtime/secrets.js';
import { sendError, sendJson, RestError } from '../rest.js';
import { CONSOLE_HTML } from './page.js';

/**
 * The web console: one self-contained page (no build step, no network access needed) at `GET /console`, and the
 * small read-only JSON API it polls. Actions (pause, resume, restart) go through the Kafka Connect REST routes and
 * statements through `POST /ksql`, so the console does nothing the API cannot.
 */

/** Everything the console shows per connector, secrets masked. */
export function overview(worker: Worker) {
  const connectors = [];
  for (const name of worker.names()) {
    try {
      const st = worker.status(name);
      const d = worker.details(name);
      const sum = (f: (t: (typeof d.tasks)[number]) => number) => d.tasks.reduce((n, t) => n + f(t), 0);
      connectors.push({
        name,
        class: worker.pluginOf(name).className,
        state: st.connector.state,
        trace: st.connector.trace,
        tasks: st.tasks.map((t) => ({ id: t.id, state: t.state, trace: t.trace })),
        config: worker.maskedConfig(name),
        topics: worker.topics(name),
        metrics: {
          polled: sum((t) => t.metrics.recordsPolled),
          written: sum((t) => t.metrics.recordsWritten),
          bytesWritten: sum((t) => t.metrics.bytesWritten),
          filtered: sum((t) => t.metrics.recordsFiltered),
          failed: sum((t) => t.metrics.recordsFailed),
          inflightRecords: sum((t) => t.inflightRecords),
          inflightBytes: sum((t) => t.inflightBytes),
        },
        source: d.tasks.map((t) => ({ task: t.id, retrying: t.lastError ?? null, ...t.source })),
      });
    } catch {
      /* deleted meanwhile */
    }
  }
  return { version: VERSION, time: Date.now(), connectors };
}

interface LatestCapable {
  endOffsets(topic: string): Promise<number[]>;
  readPartition(topic: string, partition: number, fromOffset: number, maxRecords?: number): Promise<StoredRecord[]>;
}

function text(b: Buffer | null): string | null {
  if (b === null) return null;
  const s = b.toString('utf8');
  return Buffer.from(s, 'utf8').equals(b) ? s : `base64:${b.toString('base64')}`;
}

/**
 * The latest `n` records of a topic. The embedded log can read from an offset, so these are truly the newest;
 * other platforms fall back to the first `n` records (a Platform method reading from the end would fix that).
 */
export async function latestRecords(worker: Worker, topic: string, n: number) {
  const p = worker.platform as unknown as Partial<LatestCapable>;
  const out: StoredRecord[] = [];
  if (typeof p.endOffsets === 'function' && typeof p.readPartition === 'function') {
    const ends = await p.endOffsets(topic);
    for (let part = 0; part < ends.length; part++) {
      const from = Math.max(0, ends[part]! - n);
      out.push(...(await p.readPartition(topic, part, from, n)));
    }
  } else {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 2000);
    try {
      await worker.platform.read(topic, { fromBeginning: true, limit: n, signal: ac.signal, onRecord: (r) => out.push(r) });
    } catch {
      /* timed out: show what arrived */
    } finally {
      clearTimeout(timer);
    }
  }
  out.sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || Number(a.offset) - Number(b.offset));
  return out.slice(-n).map((r) => ({ partition: r.partition, offset: Number(r.offset), timestamp: r.timestamp, key: text(r.key), value: text(r.value) }));
}

/** Serves the console page and its JSON API; returns false for other paths. */
export async function handleConsole(worker: Worker, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const path = url.pathname;
  if (path !== '/console' && !path.startsWith('/console/')) return false;
  try {
    if (req.method !== 'GET') throw new RestError(405, 'HTTP 405 Method Not Allowed');
    if (path === '/console' || path === '/console/') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'",
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'cache-control': 'no-store',
      });
      res.end(CONSOLE_HTML);
      return true;
    }
    if (path === '/console/api/overview') {
      sendJson(res, 200, overview(worker));
      return true;
    }
    if (path === '/console/api/topics') {
      sendJson(res, 200, await listTopics(worker.platform, false));
      return true;
    }
    const m = /^\/console\/api\/topics\/([^/]+)\/latest$/.exec(path);
    if (m) {
      const topic = await resolveTopic(worker.platform, decodeURIComponent(m[1]!), true);
      const n = Math.min(500, Math.max(1, Number(url.searchParams.get('n') ?? 20) || 20));
      sendJson(res, 200, { topic, records: await latestRecords(worker, topic, n) });
      return true;
    }
    throw new RestError(404, `Unknown endpoint GET ${redact(path)}`);
  } catch (err) {
    if (res.headersSent) res.end();
    else sendError(res, err);
    return true;
  }
}
