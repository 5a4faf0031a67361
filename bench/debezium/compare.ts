/**
 * Pairs the records Debezium and Tributary wrote for the same table and compares key, value and headers with
 * {@link diffJson}, then groups the differences (table, phase, path, kind) and matches them against the
 * allowlist (bench/debezium/allowlist.json).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../src/connectors/kafka/broker.js';
import { diffJson, get, parseRaw, replacePrefix, type Diff, type DiffKind, type JNode } from './jsondiff.js';
import type { ReadRecord } from './kafka-read.js';

export type Phase = 'snapshot' | 'stream';

export interface AllowEntry {
  /** short stable id, e.g. `source.version` or `bug-money-scale` */
  id: string;
  /** `intended` (a documented difference), `bug` (to be fixed in src; allowed until then), `ignored` (not a property of the connector: processing time …) */
  status: 'intended' | 'bug' | 'ignored';
  /** tables it applies to (default: all) */
  tables?: string[];
  /** path pattern(s): `*` = any characters but `.`; `**` = anything */
  path: string | string[];
  kinds?: DiffKind[];
  phases?: Phase[];
  /** connector properties the entry applies to (e.g. `{"decimal.handling.mode": "string"}`); default: every run */
  when?: Record<string, string>;
  /** regular expressions the JSON text on each side must match (when given), to single out particular values */
  values?: { debezium?: string; tributary?: string };
  reason: string;
}

export interface DiffGroup {
  table: string;
  phase: Phase;
  /** path with array indices as `[*]` */
  path: string;
  kind: DiffKind;
  count: number;
  /** up to 3 distinct examples: event index and op, Debezium's JSON, ours */
  examples: Array<{ event: number; op: string; debezium: string; tributary: string }>;
  allowedBy?: { id: string; status: AllowEntry['status'] };
}

export interface TableComparison {
  table: string;
  debeziumEvents: number;
  tributaryEvents: number;
  ops: { debezium: string; tributary: string };
}

export interface Comparison {
  tables: TableComparison[];
  groups: DiffGroup[];
  /** groups no allowlist entry covers */
  unexpected: DiffGroup[];
  /** allowlist entries that matched nothing (a fixed bug, or a scenario that no longer shows it) */
  unused: AllowEntry[];
}

export function allowlistPath(): string {
  return path.join(repoRoot(), 'bench', 'debezium', 'allowlist.json');
}

export function loadAllowlist(file = allowlistPath()): AllowEntry[] {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { entries: AllowEntry[] };
  return doc.entries;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^.]*';
    else re += c.replace(/[\\^$+?.()|[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Whether allowlist entry `e` covers one difference (its path with indices as `[*]`). */
export function matches(e: AllowEntry, d: { table: string; phase: Phase; path: string; kind: DiffKind; debezium: string; tributary: string }): boolean {
  if (e.tables && !e.tables.includes(d.table)) return false;
  if (e.kinds && !e.kinds.includes(d.kind)) return false;
  if (e.phases && !e.phases.includes(d.phase)) return false;
  if (e.values?.debezium !== undefined && !new RegExp(e.values.debezium).test(d.debezium)) return false;
  if (e.values?.tributary !== undefined && !new RegExp(e.values.tributary).test(d.tributary)) return false;
  return (Array.isArray(e.path) ? e.path : [e.path]).some((p) => globToRegExp(p).test(d.path));
}

const opOf = (v: JNode | null): string => {
  if (!v) return 'tombstone';
  const op = get(v, 'payload', 'op');
  if (op?.k === 's') return op.v;
  const status = get(v, 'payload', 'status'); // transaction metadata: BEGIN / END
  return status?.k === 's' ? status.v : '?';
};

function parseSide(buf: Buffer | null, prefix: string, where: string, diffs: Diff[], side: 'ref' | 'ours'): JNode | null {
  if (buf === null) return null;
  const text = buf.toString('utf8');
  try {
    const p = parseRaw(text);
    if (p.whitespace) diffs.push({ path: `${where}(whitespace)`, kind: 'format', ref: side === 'ref' ? 'whitespace' : '', ours: side === 'ours' ? 'whitespace' : '' });
    return replacePrefix(p.root, prefix, '<prefix>');
  } catch (e) {
    diffs.push({ path: `${where}(json)`, kind: 'type', ref: side === 'ref' ? (e as Error).message : '', ours: side === 'ours' ? (e as Error).message : '' });
    return null;
  }
}

function compareOptional(a: JNode | null, b: JNode | null, where: string, out: Diff[]): void {
  if (a === null && b === null) return;
  if (a === null || b === null) {
    out.push({ path: where, kind: 'type', ref: a === null ? 'null' : '(record)', ours: b === null ? 'null' : '(record)' });
    return;
  }
  diffJson(a, b, where, out);
}

const headerValue = (v: Buffer | null | undefined) => (v === null ? 'null' : v === undefined ? '' : JSON.stringify(v.toString('utf8')));

/** Headers by key (`headers.<key>`); the order of keys is compared too. */
function diffHeaders(a: Array<[string, Buffer | null]>, b: Array<[string, Buffer | null]>, out: Diff[]): void {
  const ka = a.map(([k]) => k);
  const kb = b.map(([k]) => k);
  for (const [k, v] of a) {
    const w = b.find(([x]) => x === k);
    if (!w) out.push({ path: `headers.${k}`, kind: 'missing', ref: headerValue(v), ours: '' });
    else if (headerValue(v) !== headerValue(w[1])) out.push({ path: `headers.${k}`, kind: 'value', ref: headerValue(v), ours: headerValue(w[1]) });
  }
  for (const [k, w] of b) if (!ka.includes(k)) out.push({ path: `headers.${k}`, kind: 'extra', ref: '', ours: headerValue(w) });
  const common = ka.filter((k) => kb.includes(k));
  const commonB = kb.filter((k) => ka.includes(k));
  if (common.join('\u0000') !== commonB.join('\u0000')) out.push({ path: 'headers', kind: 'order', ref: common.join(','), ours: commonB.join(',') });
}

/**
 * Compares, per topic, Debezium's records (topic `<debeziumPrefix>.<topic>`) with Tributary's
 * (`<tributaryPrefix>.<topic>`), paired by position in the topic.
 */
export function compareTopics(opts: {
  /** `table` is the label used in the report and the allowlist; `topic` the topic name after the prefix */
  topics: Array<{ table: string; topic: string }>;
  debezium: { prefix: string; records: Map<string, ReadRecord[]> };
  tributary: { prefix: string; records: Map<string, ReadRecord[]> };
  allowlist: AllowEntry[];
  /** the extra connector properties of the run, for entries with `when` */
  config?: Record<string, string>;
}): Comparison {
  const applies = (e: AllowEntry) => Object.entries(e.when ?? {}).every(([k, v]) => opts.config?.[k] === v);
  const allowlist = opts.allowlist.filter(applies);
  const groups = new Map<string, DiffGroup>();
  const used = new Set<string>();
  const tables: TableComparison[] = [];
  for (const { table, topic } of opts.topics) {
    const A = opts.debezium.records.get(`${opts.debezium.prefix}.${topic}`) ?? [];
    const B = opts.tributary.records.get(`${opts.tributary.prefix}.${topic}`) ?? [];
    const opsA: string[] = [];
    const opsB: string[] = [];
    const n = Math.max(A.length, B.length);
    for (let i = 0; i < n; i++) {
      const a = A[i];
      const b = B[i];
      const diffs: Diff[] = [];
      const ka = a ? parseSide(a.key, opts.debezium.prefix, 'key', diffs, 'ref') : null;
      const va = a ? parseSide(a.value, opts.debezium.prefix, 'value', diffs, 'ref') : null;
      const kb = b ? parseSide(b.key, opts.tributary.prefix, 'key', diffs, 'ours') : null;
      const vb = b ? parseSide(b.value, opts.tributary.prefix, 'value', diffs, 'ours') : null;
      const op = a ? opOf(va) : opOf(vb);
      if (a) opsA.push(opOf(va));
      if (b) opsB.push(opOf(vb));
      if (!a || !b) {
        diffs.push({ path: '(event)', kind: a ? 'missing' : 'extra', ref: a ? `${opOf(va)} ${a.key?.toString('utf8').slice(0, 200) ?? 'null'}` : '', ours: b ? `${opOf(vb)} ${b.key?.toString('utf8').slice(0, 200) ?? 'null'}` : '' });
      } else {
        compareOptional(ka, kb, 'key', diffs);
        compareOptional(va, vb, 'value', diffs);
        diffHeaders(a.headers, b.headers, diffs);
      }
      const phase: Phase = op === 'r' ? 'snapshot' : 'stream';
      for (const d of diffs) {
        const p = d.path.replace(/\[\d+\]/g, '[*]');
        const e = allowlist.find((x) => matches(x, { table, phase, path: p, kind: d.kind, debezium: d.ref, tributary: d.ours }));
        if (e) used.add(e.id);
        const id = `${table}\u0000${phase}\u0000${p}\u0000${d.kind}\u0000${e?.id ?? ''}`;
        let g = groups.get(id);
        if (!g) groups.set(id, (g = { table, phase, path: p, kind: d.kind, count: 0, examples: [], ...(e ? { allowedBy: { id: e.id, status: e.status } } : {}) }));
        g.count++;
        if (g.examples.length < 3 && !g.examples.some((x) => x.debezium === d.ref && x.tributary === d.ours)) g.examples.push({ event: i, op, debezium: d.ref, tributary: d.ours });
      }
    }
    tables.push({ table, debeziumEvents: A.length, tributaryEvents: B.length, ops: { debezium: opsA.map(short).join(''), tributary: opsB.map(short).join('') } });
  }
  const all = [...groups.values()];
  return {
    tables,
    groups: all,
    unexpected: all.filter((g) => !g.allowedBy),
    unused: allowlist.filter((e) => !used.has(e.id)),
  };
}

/** one letter per event: r c u d t, `-` for a tombstone, B and E for transaction BEGIN and END */
function short(op: string): string {
  if (op === 'tombstone') return '-';
  if (op === 'BEGIN' || op === 'END') return op[0]!;
  return op.length === 1 ? op : '?';
}
