/**
 * `org.apache.kafka.connect.transforms.ReplaceField$Key|$Value`: drops (`exclude`), keeps (`include`) and renames
 * (`renames=old:new`) fields. Legacy names `blacklist`/`whitelist` are accepted.
 */
import type { ConfigSpec, ResolvedConfig } from '../sdk/config.js';
import type { SourceRecord } from '../sdk/record.js';
import type { Transform } from '../sdk/transform.js';
import {
  listOf, replaceNullWithDefaultKey, requireMap, requireStruct, schemaMemo, sidedPlugins, structLike, type Side,
} from './util.js';

const PURPOSE = 'field replacement';

export const replaceFieldSpec: ConfigSpec = {
  name: 'ReplaceField',
  keys: [
    { name: 'exclude', type: 'list', default: [], aliases: ['blacklist'], importance: 'medium',
      doc: 'Fields to exclude. This takes precedence over the fields to include.' },
    { name: 'include', type: 'list', default: [], aliases: ['whitelist'], importance: 'medium',
      doc: 'Fields to include. If specified, only these fields will be used.' },
    { name: 'renames', type: 'list', default: [], importance: 'medium', doc: 'Field rename mappings, as old:new pairs.',
      validate: (v) => {
        const bad = (v as string[]).find((m) => { const p = m.split(':'); return p.length !== 2 || !p[0] || !p[1]; });
        return bad === undefined ? undefined : `Invalid rename mapping: ${bad} (use old:new)`;
      } },
    replaceNullWithDefaultKey,
  ],
};

/** ReplaceField transform for one side of the record. */
export class ReplaceField implements Transform {
  private exclude = new Set<string>();
  private include = new Set<string>();
  private renames = new Map<string, string>();
  private reverse = new Map<string, string>();
  private updated = schemaMemo((s) => {
    requireStruct({}, s, PURPOSE);
    return structLike(s, s.fields!.filter((f) => this.keep(f.name)).map((f) => ({ name: this.renamed(f.name), schema: f.schema })));
  });
  constructor(private readonly side: Side) {}

  configure(config: ResolvedConfig): void {
    this.exclude = new Set(listOf(config, 'exclude'));
    this.include = new Set(listOf(config, 'include'));
    for (const m of listOf(config, 'renames')) {
      const [from, to] = m.split(':') as [string, string];
      this.renames.set(from, to);
      this.reverse.set(to, from);
    }
  }

  private keep(name: string): boolean {
    return !this.exclude.has(name) && (this.include.size === 0 || this.include.has(name));
  }

  private renamed(name: string): string {
    return this.renames.get(name) ?? name;
  }

  apply(r: SourceRecord): SourceRecord {
    const schema = this.side.schema(r);
    const value = this.side.value(r);
    if (value === null || value === undefined) return r;
    if (schema) {
      const out = this.updated(schema);
      const v = requireStruct(value, schema, PURPOSE);
      const o: Record<string, unknown> = {};
      for (const f of out.fields!) o[f.name] = v[this.reverse.get(f.name) ?? f.name] ?? null;
      return this.side.with(r, out, o);
    }
    const v = requireMap(value, PURPOSE);
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v)) if (this.keep(k)) o[this.renamed(k)] = v[k];
    return this.side.with(r, null, o);
  }
}

export const [replaceFieldKeyPlugin, replaceFieldValuePlugin] = sidedPlugins('ReplaceField', replaceFieldSpec, (s) => new ReplaceField(s));
