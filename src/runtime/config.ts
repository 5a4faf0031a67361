import type { ConfigKey, ConfigProblem, ConfigResult, ConfigSpec, ResolvedConfig } from '../sdk/config.js';
import { TributaryError } from '../sdk/errors.js';

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = new Array<number>(n + 1);
  let cur = new Array<number>(n + 1);
  for (let j = 0; j <= n; j++) prev[j] = j;
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[n]!;
}

export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  return bestD <= Math.max(3, Math.floor(word.length / 3)) ? best : undefined;
}

function isRequired(k: ConfigKey): boolean {
  return k.required ?? k.default === undefined;
}

/** Parses one raw (string or JSON) value to the declared type; throws a message on failure. */
export function parseValue(key: ConfigKey, raw: unknown): unknown {
  if (raw === null || raw === undefined) return null;
  const s = typeof raw === 'string' ? raw.trim() : raw;
  switch (key.type) {
    case 'int':
    case 'long': {
      const n = typeof s === 'number' ? s : Number(s);
      if (!Number.isInteger(n)) throw new Error(`expected a whole number, got '${String(raw)}'`);
      return n;
    }
    case 'double': {
      const n = typeof s === 'number' ? s : Number(s);
      if (Number.isNaN(n) || s === '') throw new Error(`expected a number, got '${String(raw)}'`);
      return n;
    }
    case 'boolean': {
      if (typeof s === 'boolean') return s;
      const t = String(s).toLowerCase();
      if (t === 'true') return true;
      if (t === 'false') return false;
      throw new Error(`expected true or false, got '${String(raw)}'`);
    }
    case 'list': {
      if (Array.isArray(s)) return s.map(String);
      const t = String(s);
      return t === '' ? [] : t.split(',').map((x) => x.trim()).filter((x) => x !== '');
    }
    default:
      return String(s);
  }
}

/**
 * Validates raw config against a spec. Collects every problem (all missing keys at once, unknown keys with the
 * nearest known key), resolves aliases to canonical names and fills defaults.
 */
export function resolveConfig(spec: ConfigSpec, raw: Record<string, unknown>, opts: { allowUnknown?: (key: string) => boolean } = {}): ConfigResult {
  const byName = new Map<string, ConfigKey>();
  for (const k of spec.keys) {
    byName.set(k.name, k);
    for (const a of k.aliases ?? []) byName.set(a, k);
  }
  const values: ResolvedConfig = {};
  const problems: ConfigProblem[] = [];
  const given = new Map<string, unknown>();
  for (const [name, v] of Object.entries(raw)) {
    const k = byName.get(name);
    if (k) {
      if (given.has(k.name) && name !== k.name) continue; // canonical name wins over alias
      given.set(k.name, v);
      continue;
    }
    if ((spec.passthroughPrefixes ?? []).some((p) => name.startsWith(p)) || opts.allowUnknown?.(name)) {
      values[name] = v;
      continue;
    }
    const near = nearest(name, byName.keys());
    problems.push({
      key: name,
      message: `Unknown configuration key '${name}' for ${spec.name}`,
      hint: near ? `did you mean '${near}'?` : `see the list of supported keys for ${spec.name}`,
    });
  }
  const missing: string[] = [];
  for (const k of spec.keys) {
    let v: unknown = given.has(k.name) ? given.get(k.name) : undefined;
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '' && isRequired(k))) {
      if (isRequired(k)) {
        missing.push(k.name);
        continue;
      }
      values[k.name] = k.default === undefined ? null : k.default;
      continue;
    }
    let parsed: unknown;
    try {
      parsed = parseValue(k, v);
    } catch (e) {
      problems.push({ key: k.name, message: `Invalid value for '${k.name}': ${(e as Error).message}` });
      continue;
    }
    if (k.oneOf && parsed !== null) {
      const match = k.oneOf.find((o) => o.toLowerCase() === String(parsed).toLowerCase());
      if (match === undefined) {
        problems.push({
          key: k.name,
          message: `Invalid value '${String(parsed)}' for '${k.name}'`,
          hint: `must be one of: ${k.oneOf.join(', ')}`,
        });
        continue;
      }
      parsed = match;
    }
    if (typeof parsed === 'number') {
      if (k.min !== undefined && parsed < k.min) {
        problems.push({ key: k.name, message: `Invalid value ${parsed} for '${k.name}': must be at least ${k.min}` });
        continue;
      }
      if (k.max !== undefined && parsed > k.max) {
        problems.push({ key: k.name, message: `Invalid value ${parsed} for '${k.name}': must be at most ${k.max}` });
        continue;
      }
    }
    values[k.name] = parsed;
  }
  for (const m of missing) {
    const k = byName.get(m)!;
    problems.push({ key: m, message: `Missing required configuration '${m}'`, hint: k.doc });
  }
  if (problems.length === 0) {
    for (const k of spec.keys) {
      if (!k.validate || values[k.name] === null || values[k.name] === undefined) continue;
      const msg = k.validate(values[k.name], values);
      if (msg) problems.push({ key: k.name, message: `Invalid value for '${k.name}': ${msg}` });
    }
    if (spec.check) for (const [key, message] of spec.check(values)) problems.push({ key, message });
  }
  return { values, problems };
}

/** resolveConfig, throwing one config.invalid error that lists every problem. */
export function requireConfig(spec: ConfigSpec, raw: Record<string, unknown>): ResolvedConfig {
  const { values, problems } = resolveConfig(spec, raw);
  if (problems.length) throw configError(spec.name, problems);
  return values;
}

export function configError(what: string, problems: ConfigProblem[]): TributaryError {
  const lines = problems.map((p) => `  - ${p.message}${p.hint ? ` (${p.hint})` : ''}`);
  return new TributaryError('config.invalid', `Invalid configuration for ${what}:\n${lines.join('\n')}`, {
    key: problems[0]?.key,
    hint: problems[0]?.hint,
    details: problems,
  });
}

/** Names of secret keys in a spec (canonical and aliases). */
export function secretKeys(spec: ConfigSpec): Set<string> {
  const out = new Set<string>();
  for (const k of spec.keys) {
    if (k.type === 'password' || k.secret) {
      out.add(k.name);
      for (const a of k.aliases ?? []) out.add(a);
    }
  }
  return out;
}
