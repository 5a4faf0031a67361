import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Worker } from '../runtime/worker.js';
import type { ConnectorState } from '../sdk/state.js';
import { VERSION } from '../commands/index.js';
import { redact } from '../runtime/secrets.js';
import { sendJson } from './rest.js';

/**
 * `GET /metrics` (Prometheus text exposition format 0.0.4) and `GET /health` (liveness / readiness).
 *
 * Everything comes from `worker.details(name)`: each task's TaskRunner counters, its in-flight records and bytes,
 * its state, and the numeric fields of the source's own status (e.g. slot lag bytes, snapshot progress), which are
 * exported as gauges named `tributary_source_<field>`. Counters restart from 0 when a task is restarted (a counter
 * reset, which Prometheus' rate() handles).
 */

const STATES: ConnectorState[] = ['UNASSIGNED', 'RUNNING', 'PAUSED', 'FAILED', 'RESTARTING', 'STOPPED'];
const startedAt = Date.now();

type Labels = Record<string, string | number>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function fmtLabels(l: Labels): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(String(v))}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function fmtValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Collects samples per metric family, then renders each family once with its HELP and TYPE. */
class Exposition {
  readonly #families = new Map<string, { help: string; type: string; samples: string[] }>();

  add(name: string, type: 'counter' | 'gauge' | 'histogram', help: string, labels: Labels, value: number, suffix = ''): void {
    let f = this.#families.get(name);
    if (!f) {
      f = { help, type, samples: [] };
      this.#families.set(name, f);
    }
    f.samples.push(`${name}${suffix}${fmtLabels(labels)} ${fmtValue(value)}`);
  }

  render(): string {
    const out: string[] = [];
    for (const [name, f] of this.#families) {
      out.push(`# HELP ${name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      out.push(`# TYPE ${name} ${f.type}`);
      out.push(...f.samples);
    }
    return out.join('\n') + '\n';
  }
}

// ---- batch latency histogram ------------------------------------------------------------------------------------

/** Buckets (seconds) of the batch latency histogram: poll → platform acknowledgement. */
export const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}
const latencies = new Map<string, Histogram>();

/**
 * Records one batch's latency (seconds from poll to the platform's acknowledgement). TaskRunner does not report
 * timings yet; this is the hook it (or an observer of it) calls once per acknowledged batch.
 */
export function observeBatchLatency(connector: string, task: number, seconds: number): void {
  const key = JSON.stringify([connector, task]);
  let h = latencies.get(key);
  if (!h) {
    h = { counts: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
    latencies.set(key, h);
  }
  for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= LATENCY_BUCKETS[i]!) h.counts[i]!++;
  h.sum += seconds;
  h.count++;
}

// ---- rendering --------------------------------------------------------------------------------------------------

function metricName(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^a-zA-Z0-9_]/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '')
    .toLowerCase();
}

/** Numeric (and boolean) leaves of a source status object, flattened with `_`: `{slot: {lagBytes: 5}}` → slot_lag_bytes. */
function numericFields(obj: Record<string, unknown>, prefix = '', out: Array<[string, number]> = [], depth = 0): Array<[string, number]> {
  for (const [k, v] of Object.entries(obj)) {
    const name = prefix ? `${prefix}_${metricName(k)}` : metricName(k);
    if (!name) continue;
    if (typeof v === 'number' && Number.isFinite(v)) out.push([name, v]);
    else if (typeof v === 'bigint') out.push([name, Number(v)]);
    else if (typeof v === 'boolean') out.push([name, v ? 1 : 0]);
    else if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) && v.length < 20) out.push([name, Number(v)]);
    else if (v && typeof v === 'object' && !Array.isArray(v) && depth < 3) numericFields(v as Record<string, unknown>, name, out, depth + 1);
  }
  return out;
}

/** The Prometheus text exposition of the worker's connectors and tasks, and of the process. */
export function renderMetrics(worker: Worker): string {
  const e = new Exposition();
  e.add('tributary_build_info', 'gauge', 'Tributary version.', { version: VERSION }, 1);
  e.add('tributary_connectors', 'gauge', 'Connectors defined on this worker.', {}, worker.names().length);

  for (const name of worker.names()) {
    let status;
    let details;
    try {
      status = worker.status(name);
      details = worker.details(name);
    } catch {
      continue; // deleted meanwhile
    }
    const cls = worker.pluginOf(name).className;
    e.add('tributary_connector_info', 'gauge', 'Connector class (always 1).', { connector: name, class: cls }, 1);
    for (const s of STATES) {
      e.add('tributary_connector_state', 'gauge', 'Connector state: 1 for the current state, 0 for the others.', { connector: name, state: s }, status.connector.state === s ? 1 : 0);
    }
    e.add('tributary_connector_tasks', 'gauge', 'Tasks of the connector.', { connector: name }, details.tasks.length);
    for (const [field, value] of numericFields(details.connector)) {
      e.add(`tributary_connector_source_${field}`, 'gauge', `Source-reported connector status field '${field}'.`, { connector: name }, value);
    }
    for (const t of details.tasks) {
      const l = { connector: name, task: t.id };
      const m = t.metrics;
      e.add('tributary_task_records_polled_total', 'counter', 'Records returned by the source.', l, m.recordsPolled);
      e.add('tributary_task_records_written_total', 'counter', 'Records acknowledged by the platform (durably written).', l, m.recordsWritten);
      e.add('tributary_task_records_filtered_total', 'counter', 'Records dropped by transforms (filters).', l, m.recordsFiltered);
      e.add('tributary_task_records_failed_total', 'counter', 'Records skipped after a transform or converter error (errors.tolerance=all).', l, m.recordsFailed);
      e.add('tributary_task_bytes_written_total', 'counter', 'Bytes (converted keys and values) acknowledged by the platform.', l, m.bytesWritten);
      e.add('tributary_task_batches_total', 'counter', 'Batches handed to the platform.', l, m.batches);
      e.add('tributary_task_offset_commits_total', 'counter', 'Source offset commits (only acknowledged positions are committed).', l, m.offsetCommits);
      e.add('tributary_task_inflight_records', 'gauge', 'Records polled and not yet acknowledged by the platform.', l, t.inflightRecords);
      e.add('tributary_task_inflight_bytes', 'gauge', 'Bytes polled and not yet acknowledged by the platform.', l, t.inflightBytes);
      if (m.lastPollAt) e.add('tributary_task_last_poll_timestamp_seconds', 'gauge', 'Time of the last poll of the source.', l, m.lastPollAt / 1000);
      if (m.lastAckAt) e.add('tributary_task_last_ack_timestamp_seconds', 'gauge', 'Time of the last platform acknowledgement.', l, m.lastAckAt / 1000);
      e.add('tributary_task_retrying', 'gauge', '1 while the task retries a failing poll, send or topic creation.', l, t.lastError ? 1 : 0);
      for (const s of STATES) {
        e.add('tributary_task_state', 'gauge', 'Task state: 1 for the current state, 0 for the others.', { ...l, state: s }, t.state === s ? 1 : 0);
      }
      for (const [field, value] of numericFields(t.source)) {
        e.add(`tributary_source_${field}`, 'gauge', `Source-reported task status field '${field}' (e.g. replication slot lag bytes, snapshot progress).`, l, value);
      }
    }
  }

  for (const [key, h] of latencies) {
    const [connector, task] = JSON.parse(key) as [string, number];
    const l = { connector, task };
    const name = 'tributary_task_batch_latency_seconds';
    const help = 'Time from poll to platform acknowledgement per batch.';
    LATENCY_BUCKETS.forEach((b, i) => e.add(name, 'histogram', help, { ...l, le: b }, h.counts[i]!, '_bucket'));
    e.add(name, 'histogram', help, { ...l, le: '+Inf' }, h.count, '_bucket');
    e.add(name, 'histogram', help, l, h.sum, '_sum');
    e.add(name, 'histogram', help, l, h.count, '_count');
  }

  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  e.add('process_cpu_seconds_total', 'counter', 'User and system CPU time spent in seconds.', {}, (cpu.user + cpu.system) / 1e6);
  e.add('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', {}, mem.rss);
  e.add('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.', {}, Math.floor(startedAt / 1000));
  e.add('nodejs_heap_used_bytes', 'gauge', 'V8 heap used in bytes.', {}, mem.heapUsed);
  return e.render();
}

/**
 * Liveness: the process answers. Readiness: every connector whose target is RUNNING has no FAILED connector or
 * task. The body names no connectors (it is served without a token).
 */
export function health(worker: Worker) {
  let failed = 0;
  let running = 0;
  let total = 0;
  for (const name of worker.names()) {
    try {
      const st = worker.status(name);
      total++;
      if (st.connector.state === 'FAILED' || st.tasks.some((t) => t.state === 'FAILED')) failed++;
      else if (st.connector.state === 'RUNNING') running++;
    } catch {
      /* deleted meanwhile */
    }
  }
  const ready = failed === 0;
  return {
    status: ready ? 'UP' : 'DEGRADED',
    isHealthy: true,
    live: true,
    ready,
    version: VERSION,
    uptime_seconds: Math.round((Date.now() - startedAt) / 1000),
    connectors: { total, running, failed },
  };
}

/** Serves /metrics and /health[/live|/ready]; returns false for other paths. */
export async function handleMetrics(worker: Worker, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  switch (url.pathname) {
    case '/metrics': {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : redact(renderMetrics(worker)));
      return true;
    }
    case '/health':
    case '/health/live':
    case '/health/ready': {
      const h = health(worker);
      const status = url.pathname === '/health/ready' && !h.ready ? 503 : 200;
      sendJson(res, status, h);
      return true;
    }
    default:
      return false;
  }
}
