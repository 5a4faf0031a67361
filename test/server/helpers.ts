import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startApp, type App } from '../../src/server/app.js';
import { createLogger, setLogLevel } from '../../src/runtime/logger.js';

setLogLevel((process.env.TRIBUTARY_LOG_LEVEL as 'warn') ?? 'error');

/** A password no response may ever contain (the machine's PostgreSQL uses trust auth, so any password logs in). */
export const PASSWORD = `Pw-${randomBytes(8).toString('hex')}-secret`;

/** Every response body seen by `api()` in this process, for the "no response contains the password" checks. */
export const seen: string[] = [];

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

/** A curl-like call: method, path, optional JSON body and headers; the reply's text is parsed when it is JSON. */
export async function api(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const r = await fetch(base + path, init);
  const text = await r.text();
  seen.push(text);
  let parsed: unknown = undefined;
  if (text && (r.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
  return { status: r.status, headers: r.headers, text, body: parsed };
}

export interface ServerTestApp extends App {
  dataDir: string;
  dispose(): Promise<void>;
}

export async function startServerApp(opts: { host?: string } = {}): Promise<ServerTestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tributary-server-test-'));
  const app = await startApp({ dataDir, port: 0, host: opts.host, logger: createLogger() });
  return Object.assign(app, {
    dataDir,
    async dispose() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

/** The machine's PostgreSQL 15 (trust auth), or null when it does not answer. */
export async function localPg(): Promise<pg.Client | null> {
  const c = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', connectionTimeoutMillis: 2000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return c;
  } catch {
    return null;
  }
}

export function randomName(prefix = 't'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** A JDBC source config (incrementing mode on `id`) for a table of the machine's PostgreSQL. */
export function jdbcConfig(table: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'connector.class': 'io.confluent.connect.jdbc.JdbcSourceConnector',
    'connection.url': 'jdbc:postgresql://127.0.0.1:5432/test',
    'connection.user': 'postgres',
    'connection.password': PASSWORD,
    mode: 'incrementing',
    'incrementing.column.name': 'id',
    'table.whitelist': table,
    'topic.prefix': 'rest_',
    'poll.interval.ms': '100',
    ...extra,
  };
}

export async function waitFor<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

// ---- a small Prometheus text-format (0.0.4) parser --------------------------------------------------------------

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Family {
  name: string;
  type?: string;
  help?: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function parseValue(s: string, line: number): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)$/.test(s)) throw new Error(`line ${line}: bad value '${s}'`);
  return Number(s);
}

/** Parses the exposition; throws on anything the format does not allow. Families are keyed by their TYPE name. */
export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const familyOf = (sample: string): Family => {
    for (const suffix of ['', '_bucket', '_sum', '_count']) {
      if (suffix && !sample.endsWith(suffix)) continue;
      const base = suffix ? sample.slice(0, -suffix.length) : sample;
      const f = families.get(base);
      if (f && (suffix === '' || f.type === 'histogram' || f.type === 'summary')) return f;
    }
    const f: Family = { name: sample, samples: [] };
    families.set(sample, f);
    return f;
  };
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  text.split('\n').forEach((raw, i) => {
    const n = i + 1;
    if (raw === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`line ${n}: bad metric name '${name}'`);
      const f = families.get(name) ?? { name, samples: [] };
      families.set(name, f);
      if (kind === 'TYPE') {
        if (f.type) throw new Error(`line ${n}: second TYPE for ${name}`);
        if (f.samples.length) throw new Error(`line ${n}: TYPE after samples of ${name}`);
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`line ${n}: bad type '${rest}'`);
        f.type = rest;
      } else f.help = rest;
      return;
    }
    let p = 0;
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw);
    if (!nameMatch) throw new Error(`line ${n}: no metric name in '${raw}'`);
    const name = nameMatch[0];
    p = name.length;
    const labels: Record<string, string> = {};
    if (raw[p] === '{') {
      p++;
      while (raw[p] !== '}') {
        const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(raw.slice(p));
        if (!lm) throw new Error(`line ${n}: bad label at column ${p + 1}: '${raw}'`);
        p += lm[0].length;
        let v = '';
        for (;;) {
          const c = raw[p];
          if (c === undefined) throw new Error(`line ${n}: unterminated label value`);
          if (c === '\\') {
            const e = raw[p + 1];
            if (e === 'n') v += '\n';
            else if (e === '\\' || e === '"') v += e;
            else throw new Error(`line ${n}: bad escape \\${e}`);
            p += 2;
            continue;
          }
          p++;
          if (c === '"') break;
          v += c;
        }
        if (lm[1]! in labels) throw new Error(`line ${n}: duplicate label ${lm[1]}`);
        labels[lm[1]!] = v;
        if (raw[p] === ',') p++;
        else if (raw[p] !== '}') throw new Error(`line ${n}: expected , or } at column ${p + 1}`);
      }
      p++;
    }
    if (raw[p] !== ' ') throw new Error(`line ${n}: expected a space before the value`);
    const parts = raw.slice(p + 1).trim().split(/\s+/);
    if (parts.length < 1 || parts.length > 2) throw new Error(`line ${n}: expected 'value [timestamp]'`);
    const value = parseValue(parts[0]!, n);
    const f = familyOf(name);
    f.samples.push({ name, labels, value });
  });
  return families;
}

/** The value of one sample: family name plus the labels it must carry. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string>): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}
