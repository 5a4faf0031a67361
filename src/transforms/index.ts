/**
 * Transform and predicate registry: literal maps from id to plug-in; Kafka Connect class names are aliases.
 * Lookup is case-insensitive.
 */
import type { PredicatePlugin, TransformPlugin } from '../sdk/transform.js';
import { castKeyPlugin, castValuePlugin } from './cast.js';
import { extractFieldKeyPlugin, extractFieldValuePlugin } from './extract-field.js';
import { filterPlugin } from './filter.js';
import { flattenKeyPlugin, flattenValuePlugin } from './flatten.js';
import { dropHeadersPlugin, insertHeaderPlugin } from './headers.js';
import { hoistFieldKeyPlugin, hoistFieldValuePlugin } from './hoist-field.js';
import { insertFieldKeyPlugin, insertFieldValuePlugin } from './insert-field.js';
import { maskFieldKeyPlugin, maskFieldValuePlugin } from './mask-field.js';
import { hasHeaderKeyPlugin, recordIsTombstonePlugin, topicNameMatchesPlugin } from './predicates.js';
import { regexRouterPlugin } from './regex-router.js';
import { replaceFieldKeyPlugin, replaceFieldValuePlugin } from './replace-field.js';
import { setSchemaMetadataKeyPlugin, setSchemaMetadataValuePlugin } from './set-schema-metadata.js';
import { timestampRouterPlugin } from './timestamp-router.js';
import { valueToKeyPlugin } from './value-to-key.js';

export { buildTransformChain, expandKsqlKeyShortcut, type TransformChain } from './chain.js';

/** Built-in transforms by id (Kafka Connect's simple class name). */
export const transformPlugins: Readonly<Record<string, TransformPlugin>> = {
  'ValueToKey': valueToKeyPlugin,
  'ExtractField$Key': extractFieldKeyPlugin,
  'ExtractField$Value': extractFieldValuePlugin,
  'HoistField$Key': hoistFieldKeyPlugin,
  'HoistField$Value': hoistFieldValuePlugin,
  'ReplaceField$Key': replaceFieldKeyPlugin,
  'ReplaceField$Value': replaceFieldValuePlugin,
  'InsertField$Key': insertFieldKeyPlugin,
  'InsertField$Value': insertFieldValuePlugin,
  'MaskField$Key': maskFieldKeyPlugin,
  'MaskField$Value': maskFieldValuePlugin,
  'Cast$Key': castKeyPlugin,
  'Cast$Value': castValuePlugin,
  'Flatten$Key': flattenKeyPlugin,
  'Flatten$Value': flattenValuePlugin,
  'SetSchemaMetadata$Key': setSchemaMetadataKeyPlugin,
  'SetSchemaMetadata$Value': setSchemaMetadataValuePlugin,
  'RegexRouter': regexRouterPlugin,
  'TimestampRouter': timestampRouterPlugin,
  'Filter': filterPlugin,
  'InsertHeader': insertHeaderPlugin,
  'DropHeaders': dropHeadersPlugin,
};

/** Built-in predicates by id. */
export const predicatePlugins: Readonly<Record<string, PredicatePlugin>> = {
  TopicNameMatches: topicNameMatchesPlugin,
  HasHeaderKey: hasHeaderKeyPlugin,
  RecordIsTombstone: recordIsTombstonePlugin,
};

/** Docs listing: id, Kafka Connect class name(s), spec — for generated docs and `config/validate`. */
export const transformList: ReadonlyArray<{ kind: 'transform' | 'predicate'; id: string; classNames: string[]; plugin: TransformPlugin | PredicatePlugin }> = [
  ...Object.values(transformPlugins).map((p) => ({ kind: 'transform' as const, id: p.id, classNames: p.aliases, plugin: p })),
  ...Object.values(predicatePlugins).map((p) => ({ kind: 'predicate' as const, id: p.id, classNames: p.aliases, plugin: p })),
];

function index<P extends { id: string; aliases: string[] }>(plugins: Record<string, P>): Map<string, P> {
  const m = new Map<string, P>();
  for (const p of Object.values(plugins)) for (const n of [p.id, ...p.aliases]) m.set(n.toLowerCase(), p);
  return m;
}
const transformIndex = index(transformPlugins);
const predicateIndex = index(predicatePlugins);

/** The transform plug-in for an id or Kafka Connect class name, or undefined. */
export function findTransform(classNameOrId: string): TransformPlugin | undefined {
  return transformIndex.get(classNameOrId.trim().toLowerCase());
}

/** The predicate plug-in for an id or Kafka Connect class name, or undefined. */
export function findPredicate(classNameOrId: string): PredicatePlugin | undefined {
  return predicateIndex.get(classNameOrId.trim().toLowerCase());
}

/** Every accepted transform name (ids and class names). */
export const transformNames: readonly string[] = Object.values(transformPlugins).flatMap((p) => [p.id, ...p.aliases]);
/** Every accepted predicate name (ids and class names). */
export const predicateNames: readonly string[] = Object.values(predicatePlugins).flatMap((p) => [p.id, ...p.aliases]);
