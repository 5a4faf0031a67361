/**
 * Converter registry: one literal map from id to plug-in, Kafka Connect class names accepted as aliases.
 */
import type { Converter, ConverterPlugin } from '../sdk/converter.js';
import { TributaryError } from '../sdk/errors.js';
import { configError, nearest, resolveConfig } from '../runtime/config.js';
import { byteArrayConverterPlugin } from './bytearray.js';
import { jsonConverterPlugin } from './json.js';
import { stringConverterPlugin } from './string.js';

export { JsonConverter, jsonConverterPlugin, jsonConverterSpec, type DecimalFormat } from './json.js';
export { StringConverter, stringConverterPlugin, stringConverterSpec } from './string.js';
export { ByteArrayConverter, byteArrayConverterPlugin, byteArrayConverterSpec } from './bytearray.js';

/** Built-in converters by id. */
export const converterPlugins: Readonly<Record<string, ConverterPlugin>> = {
  json: jsonConverterPlugin,
  string: stringConverterPlugin,
  bytearray: byteArrayConverterPlugin,
};

const byName = new Map<string, ConverterPlugin>();
for (const p of Object.values(converterPlugins)) {
  byName.set(p.id.toLowerCase(), p);
  for (const a of p.aliases) byName.set(a.toLowerCase(), p);
}

/** Every accepted converter name (ids and aliases), for docs and hints. */
export const converterNames: readonly string[] = Object.values(converterPlugins).flatMap((p) => [p.id, ...p.aliases]);

/** The plug-in for an id or Kafka Connect class name (case-insensitive), or undefined. */
export function findConverter(classNameOrId: string): ConverterPlugin | undefined {
  return byName.get(classNameOrId.trim().toLowerCase());
}

/** The converter a connector uses when `key.converter` / `value.converter` is not set. */
export const DEFAULT_CONVERTER = 'org.apache.kafka.connect.json.JsonConverter';

/**
 * Creates and configures a converter.
 *
 * @param classNameOrId e.g. `org.apache.kafka.connect.json.JsonConverter` or `json`
 * @param config the connector (or worker) config; only keys under `key.converter.` (isKey) or `value.converter.`
 *   are read, with that prefix removed (e.g. `value.converter.schemas.enable=false`). A config already stripped of
 *   the prefix is not accepted, so unrelated keys never leak in.
 * @param isKey whether this converter serializes record keys
 * @throws TributaryError `config.invalid` naming the key (`value.converter`, `value.converter.<key>`) for an unknown
 *   class (with the nearest name) or an invalid/unknown converter key.
 */
export function createConverter(classNameOrId: string, config: Record<string, string>, isKey: boolean): Converter {
  const which = isKey ? 'key.converter' : 'value.converter';
  const plugin = findConverter(classNameOrId);
  if (!plugin) {
    const near = nearest(classNameOrId, converterNames);
    throw new TributaryError('config.invalid', `Unknown converter class '${classNameOrId}' for '${which}'`, {
      key: which,
      hint: near ? `did you mean '${near}'?` : `supported: ${converterNames.filter((n) => n.includes('.')).join(', ')}`,
    });
  }
  const prefix = which + '.';
  const sub: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (k.startsWith(prefix)) sub[k.slice(prefix.length)] = v;
  if (sub['converter.type'] === undefined) sub['converter.type'] = isKey ? 'key' : 'value';
  const { values, problems } = resolveConfig(plugin.spec, sub);
  if (problems.length) {
    throw configError(`${which} ${plugin.spec.name}`, problems.map((p) => ({
      ...p,
      key: prefix + p.key,
      message: p.message.replaceAll(`'${p.key}'`, `'${prefix + p.key}'`),
      hint: p.hint?.replace(/'([^']+)'\?$/, `'${prefix}$1'?`),
    })));
  }
  const c = plugin.create();
  c.configure(values, isKey);
  return c;
}
