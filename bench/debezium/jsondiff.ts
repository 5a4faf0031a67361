/**
 * Byte-faithful JSON comparison for Kafka Connect JsonConverter output.
 *
 * `parseRaw` keeps what `JSON.parse` throws away: the literal text of every number (`1.0` vs `1`, `1.0E10` vs
 * `10000000000`), the escaped text of every string (`\u001F` vs `\u001f`), object key order, and whether the
 * text had whitespace. `diffJson` walks two such trees and reports each difference with a readable path:
 * object members as `.name`, Connect schema field lists (arrays of `{field: …}`) as `[name]`, other arrays as
 * `[index]`. Two documents without reported differences are byte-for-byte equal.
 */

export type JNode =
  | { k: 'o'; e: Array<[string, JNode]> }
  | { k: 'a'; v: JNode[] }
  | { k: 's'; v: string; raw: string }
  | { k: 'n'; raw: string }
  | { k: 'b'; v: boolean }
  | { k: 'z' };

export interface Parsed {
  root: JNode;
  /** the text contained whitespace between tokens (JsonConverter writes none) */
  whitespace: boolean;
}

/** Parses JSON text keeping literal number and string forms and key order. Throws on malformed input. */
export function parseRaw(text: string): Parsed {
  let i = 0;
  let whitespace = false;
  const ws = () => {
    const s = i;
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
    if (i > s) whitespace = true;
  };
  const fail = (what: string): never => {
    throw new Error(`JSON: ${what} at offset ${i}: ${JSON.stringify(text.slice(Math.max(0, i - 20), i + 20))}`);
  };
  const str = (): { v: string; raw: string } => {
    const start = i;
    i++; // opening quote
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    const raw = text.slice(start, i);
    return { v: JSON.parse(raw) as string, raw };
  };
  const value = (): JNode => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const e: Array<[string, JNode]> = [];
      ws();
      if (text[i] === '}') {
        i++;
        return { k: 'o', e };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const key = str().v;
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        e.push([key, value()]);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { k: 'o', e };
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const v: JNode[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return { k: 'a', v };
      }
      for (;;) {
        v.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return { k: 'a', v };
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return { k: 's', ...str() };
    if (text.startsWith('true', i)) return (i += 4), { k: 'b', v: true };
    if (text.startsWith('false', i)) return (i += 5), { k: 'b', v: false };
    if (text.startsWith('null', i)) return (i += 4), { k: 'z' };
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail('unexpected token');
    i += m![0].length;
    return { k: 'n', raw: m![0] };
  };
  const root = value();
  ws();
  if (i !== text.length) fail('trailing characters');
  return { root, whitespace };
}

/** Compact JSON text of a node, with the literal number and string forms it was parsed with. */
export function render(n: JNode): string {
  switch (n.k) {
    case 'o':
      return '{' + n.e.map(([k, v]) => `${JSON.stringify(k)}:${render(v)}`).join(',') + '}';
    case 'a':
      return '[' + n.v.map(render).join(',') + ']';
    case 's':
      return n.raw;
    case 'n':
      return n.raw;
    case 'b':
      return String(n.v);
    case 'z':
      return 'null';
  }
}

/** Plain JavaScript value of a node (numbers as JS numbers). */
export function plain(n: JNode): unknown {
  switch (n.k) {
    case 'o':
      return Object.fromEntries(n.e.map(([k, v]) => [k, plain(v)]));
    case 'a':
      return n.v.map(plain);
    case 's':
      return n.v;
    case 'n':
      return Number(n.raw);
    case 'b':
      return n.v;
    case 'z':
      return null;
  }
}

export function get(n: JNode | undefined, ...keys: string[]): JNode | undefined {
  let cur = n;
  for (const k of keys) {
    if (!cur || cur.k !== 'o') return undefined;
    cur = cur.e.find(([name]) => name === k)?.[1];
  }
  return cur;
}

/** Rewrites every string whose value is `from` or starts with `from.` (topic prefixes in schema names). */
export function replacePrefix(n: JNode, from: string, to: string): JNode {
  switch (n.k) {
    case 'o':
      return { k: 'o', e: n.e.map(([k, v]) => [k, replacePrefix(v, from, to)]) };
    case 'a':
      return { k: 'a', v: n.v.map((x) => replacePrefix(x, from, to)) };
    case 's':
      if (n.v === from || n.v.startsWith(from + '.')) {
        const v = to + n.v.slice(from.length);
        return { k: 's', v, raw: JSON.stringify(v) };
      }
      return n;
    default:
      return n;
  }
}

export type DiffKind =
  | 'value' // different values
  | 'type' // different JSON types (e.g. null vs object, string vs number)
  | 'missing' // present in the reference (Debezium), absent in ours
  | 'extra' // absent in the reference, present in ours
  | 'order' // same members or schema fields, different order (different bytes)
  | 'format' // same number, different literal (e.g. 1.0 vs 1)
  | 'escape' // same string, different escaping
  | 'length'; // arrays of different lengths (common prefix compared)

export interface Diff {
  path: string;
  kind: DiffKind;
  /** the reference's JSON text at that path ('' when missing) */
  ref: string;
  /** ours ('' when missing) */
  ours: string;
}

const MAX_SNIPPET = 400;
const snip = (n: JNode | undefined) => {
  if (!n) return '';
  const s = render(n);
  return s.length > MAX_SNIPPET ? s.slice(0, MAX_SNIPPET) + '…' : s;
};

function isFieldList(n: JNode): n is { k: 'a'; v: JNode[] } {
  return n.k === 'a' && n.v.length > 0 && n.v.every((x) => x.k === 'o' && get(x, 'field')?.k === 's');
}
const fieldName = (x: JNode) => (get(x, 'field') as { v: string }).v;

/** Every difference between `ref` (the reference) and `ours`, appended to `out`. */
export function diffJson(ref: JNode, ours: JNode, path: string, out: Diff[]): Diff[] {
  if (ref.k !== ours.k) {
    out.push({ path, kind: 'type', ref: snip(ref), ours: snip(ours) });
    return out;
  }
  switch (ref.k) {
    case 'o': {
      const o = ours as Extract<JNode, { k: 'o' }>;
      const rk = ref.e.map(([k]) => k);
      const ok = o.e.map(([k]) => k);
      for (const [k, v] of ref.e) {
        const w = o.e.find(([name]) => name === k)?.[1];
        if (!w) out.push({ path: `${path}.${k}`, kind: 'missing', ref: snip(v), ours: '' });
        else diffJson(v, w, `${path}.${k}`, out);
      }
      for (const [k, w] of o.e) if (!rk.includes(k)) out.push({ path: `${path}.${k}`, kind: 'extra', ref: '', ours: snip(w) });
      const common = rk.filter((k) => ok.includes(k));
      const commonOurs = ok.filter((k) => rk.includes(k));
      if (common.join('\u0000') !== commonOurs.join('\u0000')) out.push({ path, kind: 'order', ref: `{${common.join(',')}}`, ours: `{${commonOurs.join(',')}}` });
      return out;
    }
    case 'a': {
      const a = ours as Extract<JNode, { k: 'a' }>;
      if (isFieldList(ref) && isFieldList(a)) {
        const rn = ref.v.map(fieldName);
        const on = a.v.map(fieldName);
        for (const x of ref.v) {
          const y = a.v.find((z) => fieldName(z) === fieldName(x));
          if (!y) out.push({ path: `${path}[${fieldName(x)}]`, kind: 'missing', ref: snip(x), ours: '' });
          else diffJson(x, y, `${path}[${fieldName(x)}]`, out);
        }
        for (const y of a.v) if (!rn.includes(fieldName(y))) out.push({ path: `${path}[${fieldName(y)}]`, kind: 'extra', ref: '', ours: snip(y) });
        const common = rn.filter((k) => on.includes(k));
        const commonOurs = on.filter((k) => rn.includes(k));
        if (common.join('\u0000') !== commonOurs.join('\u0000')) out.push({ path, kind: 'order', ref: `[${common.join(',')}]`, ours: `[${commonOurs.join(',')}]` });
        return out;
      }
      const n = Math.min(ref.v.length, a.v.length);
      for (let i = 0; i < n; i++) diffJson(ref.v[i]!, a.v[i]!, `${path}[${i}]`, out);
      if (ref.v.length !== a.v.length) out.push({ path, kind: 'length', ref: snip(ref), ours: snip(a) });
      return out;
    }
    case 's': {
      const s = ours as Extract<JNode, { k: 's' }>;
      if (ref.v !== s.v) out.push({ path, kind: 'value', ref: ref.raw, ours: s.raw });
      else if (ref.raw !== s.raw) out.push({ path, kind: 'escape', ref: ref.raw, ours: s.raw });
      return out;
    }
    case 'n': {
      const n = ours as Extract<JNode, { k: 'n' }>;
      if (ref.raw === n.raw) return out;
      out.push({ path, kind: sameNumber(ref.raw, n.raw) ? 'format' : 'value', ref: ref.raw, ours: n.raw });
      return out;
    }
    case 'b':
      if (ref.v !== (ours as { v: boolean }).v) out.push({ path, kind: 'value', ref: String(ref.v), ours: String((ours as { v: boolean }).v) });
      return out;
    case 'z':
      return out;
  }
}

/** Whether two JSON number literals denote the same number (exactly, for integers beyond 2^53 too). */
function sameNumber(a: string, b: string): boolean {
  const int = /^-?\d+$/;
  if (int.test(a) && int.test(b)) return BigInt(a) === BigInt(b);
  return Number(a) === Number(b);
}
