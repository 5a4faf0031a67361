/**
 * The transform chain: Kafka Connect's `transforms=a,b` / `transforms.a.type=…` / `predicates=p` configuration,
 * validated completely when built (so CREATE fails early), applied in order per record.
 */
import type { ConfigSpec, ResolvedConfig } from '../sdk/config.js';
import { TributaryError } from '../sdk/errors.js';
import type { SourceRecord } from '../sdk/record.js';
import type { Predicate, Transform } from '../sdk/transform.js';
import { nearest, resolveConfig } from '../runtime/config.js';
import { findPredicate, findTransform, predicateNames, transformNames } from './index.js';

/** A built chain. `apply` is synchronous and pure apart from the transforms' own caches. */
export interface TransformChain {
  /** aliases in application order */
  readonly aliases: readonly string[];
  /** Runs every transform (skipping those whose predicate says no); null when a transform dropped the record. */
  apply(record: SourceRecord): SourceRecord | null;
  close(): void;
}

interface Step {
  alias: string;
  type: string;
  transform: Transform;
  predicate?: Predicate;
  negate: boolean;
}

function aliasList(config: Record<string, string>, key: string): string[] {
  const raw = config[key];
  if (raw === undefined || raw.trim() === '') return [];
  const list = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const seen = new Set<string>();
  for (const a of list) {
    if (seen.has(a)) throw invalid(`Duplicate alias '${a}' in '${key}'`, key, 'each alias may appear once');
    seen.add(a);
  }
  return list;
}

function invalid(message: string, key: string, hint?: string): TributaryError {
  return new TributaryError('transform.invalid', message, { key, hint });
}

function subConfig(config: Record<string, string>, prefix: string, skip: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) {
    if (!k.startsWith(prefix)) continue;
    const sub = k.slice(prefix.length);
    if (!skip.includes(sub)) out[sub] = v;
  }
  return out;
}

function resolve(spec: ConfigSpec, raw: Record<string, string>, prefix: string, what: string): ResolvedConfig {
  const { values, problems } = resolveConfig(spec, raw);
  if (problems.length) {
    const lines = problems.map((p) => `  - ${p.message.replaceAll(`'${p.key}'`, `'${prefix}${p.key}'`)}${p.hint ? ` (${p.hint})` : ''}`);
    const first = problems[0]!;
    throw new TributaryError('transform.invalid', `Invalid configuration for ${what}:\n${lines.join('\n')}`, {
      key: prefix + first.key,
      hint: first.hint?.replace(/did you mean '([^']+)'/, `did you mean '${prefix}$1'`),
      details: problems.map((p) => ({ ...p, key: prefix + p.key })),
    });
  }
  return values;
}

function suggest(name: string, names: readonly string[]): string | undefined {
  const qualified = name.includes('.');
  return nearest(name, names.filter((n) => n.includes('.') === qualified)) ?? nearest(name, names);
}

function wrapConfigure(fn: () => void, key: string, what: string): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof TributaryError && e.code === 'transform.invalid') throw e;
    throw new TributaryError('transform.invalid', `Invalid configuration for ${what}: ${(e as Error).message}`, { key, cause: e });
  }
}

/**
 * Builds the chain from connector config (all keys; only `transforms`, `transforms.*`, `predicates`, `predicates.*`
 * are read). Accepts Kafka Connect class names and short ids (e.g. `ExtractField$Key`).
 *
 * @throws TributaryError `transform.invalid`, with `key` naming the offending config key, for: an unknown transform
 *   or predicate class (hint: nearest name), a missing `type`, an invalid or missing transform key (e.g. no
 *   `fields` for ValueToKey), a `predicate` not listed in `predicates`, a non-boolean `negate`, duplicate aliases.
 */
export function buildTransformChain(config: Record<string, string>): TransformChain {
  const predicates = new Map<string, Predicate>();
  const listedPredicates = aliasList(config, 'predicates');
  for (const p of listedPredicates) {
    const typeKey = `predicates.${p}.type`;
    const type = config[typeKey]?.trim();
    if (!type) throw invalid(`Missing required configuration '${typeKey}' for predicate '${p}'`, typeKey, `set it to a predicate class, e.g. org.apache.kafka.connect.transforms.predicates.TopicNameMatches`);
    const plugin = findPredicate(type);
    if (!plugin) {
      const near = suggest(type, predicateNames);
      throw invalid(`Unknown predicate class '${type}' in '${typeKey}'`, typeKey, near ? `did you mean '${near}'?` : `supported: ${predicateNames.filter((n) => n.includes('.')).join(', ')}`);
    }
    const prefix = `predicates.${p}.`;
    const values = resolve(plugin.spec, subConfig(config, prefix, ['type']), prefix, `predicate '${p}' (${plugin.id})`);
    const pred = plugin.create();
    wrapConfigure(() => pred.configure(values), typeKey, `predicate '${p}'`);
    predicates.set(p, pred);
  }

  const steps: Step[] = [];
  for (const a of aliasList(config, 'transforms')) {
    const typeKey = `transforms.${a}.type`;
    const type = config[typeKey]?.trim();
    if (!type) throw invalid(`Missing required configuration '${typeKey}' for transform '${a}'`, typeKey, 'set it to a transform class, e.g. org.apache.kafka.connect.transforms.ValueToKey');
    const plugin = findTransform(type);
    if (!plugin) {
      const near = suggest(type, transformNames);
      throw invalid(`Unknown transform class '${type}' in '${typeKey}'`, typeKey, near ? `did you mean '${near}'?` : `supported: ${transformNames.filter((n) => n.includes('.')).join(', ')}`);
    }
    const prefix = `transforms.${a}.`;
    let predicate: Predicate | undefined;
    const predName = config[`${prefix}predicate`]?.trim();
    if (predName) {
      predicate = predicates.get(predName);
      if (!predicate) {
        const near = nearest(predName, listedPredicates);
        throw invalid(`Transform '${a}' refers to predicate '${predName}', which is not defined in 'predicates'`, `${prefix}predicate`,
          near ? `did you mean '${near}'?` : `add '${predName}' to 'predicates' and set 'predicates.${predName}.type'`);
      }
    }
    const negateRaw = config[`${prefix}negate`]?.trim().toLowerCase();
    if (negateRaw !== undefined && negateRaw !== '' && negateRaw !== 'true' && negateRaw !== 'false') {
      throw invalid(`Invalid value '${config[`${prefix}negate`]}' for '${prefix}negate'`, `${prefix}negate`, 'expected true or false');
    }
    const values = resolve(plugin.spec, subConfig(config, prefix, ['type', 'predicate', 'negate']), prefix, `transform '${a}' (${plugin.id})`);
    const transform = plugin.create();
    wrapConfigure(() => transform.configure(values), typeKey, `transform '${a}'`);
    steps.push({ alias: a, type: plugin.id, transform, predicate, negate: negateRaw === 'true' });
  }

  const n = steps.length;
  return {
    aliases: steps.map((s) => s.alias),
    apply(record: SourceRecord): SourceRecord | null {
      let r: SourceRecord | null = record;
      let i = 0;
      try {
        for (; i < n; i++) {
          const s = steps[i]!;
          if (s.predicate !== undefined && s.predicate.test(r) === s.negate) continue;
          r = s.transform.apply(r);
          if (r === null) return null;
        }
      } catch (e) {
        const s = steps[i]!;
        const inner = e instanceof TributaryError ? e : undefined;
        throw new TributaryError('transform.failed', `Transform '${s.alias}' (${s.type}) failed on a record for topic '${r!.topic}': ${(e as Error).message}`, {
          key: `transforms.${s.alias}.type`, hint: inner?.hint, cause: e,
        });
      }
      return r;
    },
    close(): void {
      for (const s of steps) s.transform.close?.();
    },
  };
}

/**
 * ksqlDB's JDBC source shortcut: a `key` property becomes the transforms `createKey` (ValueToKey, fields=<key>) and
 * `extractString` (ExtractField$Key, field=<key>), appended to any existing `transforms`; `key` is removed and
 * `key.converter` defaults to StringConverter, as ksqlDB's `JdbcSource.resolveConfigs` does. Returns a new config;
 * a config without `key` is returned unchanged (as a copy).
 */
export function expandKsqlKeyShortcut(config: Record<string, string>): Record<string, string> {
  const out = { ...config };
  const key = out.key;
  if (key === undefined) return out;
  delete out.key;
  const existing = out.transforms?.trim();
  out.transforms = existing ? `${existing},createKey,extractString` : 'createKey,extractString';
  out['transforms.createKey.type'] = 'org.apache.kafka.connect.transforms.ValueToKey';
  out['transforms.createKey.fields'] = key;
  out['transforms.extractString.type'] = 'org.apache.kafka.connect.transforms.ExtractField$Key';
  out['transforms.extractString.field'] = key;
  out['key.converter'] ??= 'org.apache.kafka.connect.storage.StringConverter';
  return out;
}
