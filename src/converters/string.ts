/**
 * Kafka Connect's `org.apache.kafka.connect.storage.StringConverter`: writes `value.toString()` in the configured
 * encoding (UTF-8 by default), reads bytes back as an optional string. null ↔ null.
 */
import type { ConfigSpec, ResolvedConfig } from '../sdk/config.js';
import type { Converter, ConverterPlugin, ConverterThreadSpec } from '../sdk/converter.js';
import { Schemas, type Schema } from '../sdk/schema.js';
import { javaToString } from './format.js';

const ENCODINGS: Record<string, BufferEncoding> = {
  'UTF-8': 'utf8', UTF8: 'utf8', 'ISO-8859-1': 'latin1', LATIN1: 'latin1', 'US-ASCII': 'ascii', ASCII: 'ascii',
  'UTF-16LE': 'utf16le',
};

/** Config keys of StringConverter (without the `key.converter.` / `value.converter.` prefix). */
export const stringConverterSpec: ConfigSpec = {
  name: 'StringConverter',
  keys: [
    { name: 'converter.encoding', type: 'string', default: 'UTF-8', importance: 'high',
      aliases: ['serializer.encoding', 'deserializer.encoding'],
      doc: 'Character encoding of the string: UTF-8, ISO-8859-1, US-ASCII or UTF-16LE.',
      validate: (v) => (ENCODINGS[String(v).toUpperCase()] ? undefined : `unsupported encoding; use one of ${Object.keys(ENCODINGS).join(', ')}`) },
    { name: 'converter.type', type: 'string', default: null, required: false, oneOf: ['key', 'value', 'header'],
      importance: 'low', doc: 'Set by the runtime (key or value); accepted for compatibility.' },
  ],
};

const OPTIONAL_STRING: Schema = Schemas.string(true);

/** StringConverter: `String(value)` as the JVM would print it (see {@link javaToString}). */
export class StringConverter implements Converter {
  private encoding: BufferEncoding = 'utf8';
  private spec: ConverterThreadSpec = { url: import.meta.url, exportName: 'stringConverterPlugin', config: {}, isKey: false };

  threadSpec(): ConverterThreadSpec {
    return this.spec;
  }

  configure(config: ResolvedConfig, _isKey = false): void {
    this.spec = { url: import.meta.url, exportName: 'stringConverterPlugin', config: { ...config }, isKey: _isKey };
    const e = config['converter.encoding'];
    this.encoding = e == null ? 'utf8' : ENCODINGS[String(e).toUpperCase()] ?? 'utf8';
  }

  fromConnectData(_topic: string, schema: Schema | null | undefined, value: unknown): Buffer | null {
    if (value === null || value === undefined) return null;
    if (typeof value === 'string') return Buffer.from(value, this.encoding);
    return Buffer.from(javaToString(schema, value), this.encoding);
  }

  toConnectData(_topic: string, bytes: Buffer | null): { schema: Schema | null; value: unknown } {
    return { schema: OPTIONAL_STRING, value: bytes === null ? null : bytes.toString(this.encoding) };
  }
}

/** Registry entry for StringConverter. */
export const stringConverterPlugin: ConverterPlugin = {
  id: 'string',
  aliases: ['org.apache.kafka.connect.storage.StringConverter', 'StringConverter'],
  spec: stringConverterSpec,
  create: () => new StringConverter(),
};
