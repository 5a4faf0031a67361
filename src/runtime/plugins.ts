import type { ConfigSpec } from '../sdk/config.js';
import type { Converter } from '../sdk/converter.js';
import type { SourceRecord } from '../sdk/record.js';
import type { SourcePlugin } from '../sdk/source.js';
import { nearest } from './config.js';
import { TributaryError } from '../sdk/errors.js';

/** What the worker needs from the plug-in world; the literal maps live in src/registry.ts. */
export interface Plugins {
  sources: SourcePlugin[];
  createConverter(classOrId: string, config: Record<string, string>, isKey: boolean): Converter;
  /** builds the transform chain from a connector config; throws transform.invalid on a bad config */
  buildTransforms(config: Record<string, string>): (r: SourceRecord) => SourceRecord | null;
  /** rewrites shortcut properties (ksqlDB's `key`) into their full form */
  expandShortcuts(config: Record<string, string>): Record<string, string>;
  /** specs of other plug-ins (for docs) */
  specs?: ConfigSpec[];
}

export function findSource(plugins: Plugins, classOrId: string): SourcePlugin {
  const wanted = classOrId.trim();
  for (const p of plugins.sources) {
    if (p.id === wanted || p.className === wanted || p.aliases.includes(wanted)) return p;
  }
  const all = plugins.sources.flatMap((p) => [p.id, p.className, ...p.aliases]);
  const near = nearest(wanted, all);
  throw new TributaryError('connector.unknown_class', `Unknown connector class '${wanted}'`, {
    key: 'connector.class',
    hint: near ? `did you mean '${near}'?` : `available: ${plugins.sources.map((p) => p.className).join(', ')}`,
  });
}

/** The transform of a connector without transforms (the runtime may then skip materializing raw struct values). */
export const noTransforms = (r: SourceRecord): SourceRecord => r;
