/**
 * Kafka Connect's `org.apache.kafka.connect.converters.ByteArrayConverter`: passes bytes through unchanged.
 * The schema must be bytes (or absent); reading back gives an optional bytes schema.
 */
import type { ConfigSpec } from '../sdk/config.js';
import type { Converter, ConverterPlugin, ConverterThreadSpec } from '../sdk/converter.js';
import { TributaryError } from '../sdk/errors.js';
import { Schemas, type Schema } from '../sdk/schema.js';

/** Config keys of ByteArrayConverter. */
export const byteArrayConverterSpec: ConfigSpec = {
  name: 'ByteArrayConverter',
  keys: [
    { name: 'converter.type', type: 'string', default: null, required: false, oneOf: ['key', 'value', 'header'],
      importance: 'low', doc: 'Set by the runtime (key or value); accepted for compatibility.' },
  ],
};

const OPTIONAL_BYTES: Schema = Schemas.bytes(true);

/** ByteArrayConverter: Buffer/Uint8Array in, the same bytes out. */
export class ByteArrayConverter implements Converter {
  private isKey = false;

  configure(_config?: unknown, isKey = false): void {
    this.isKey = isKey;
  }

  threadSpec(): ConverterThreadSpec {
    return { url: import.meta.url, exportName: 'byteArrayConverterPlugin', config: {}, isKey: this.isKey };
  }

  fromConnectData(_topic: string, schema: Schema | null | undefined, value: unknown): Buffer | null {
    if (schema && schema.type !== 'bytes') {
      throw new TributaryError('converter.failed', `Invalid schema type for ByteArrayConverter: ${schema.type}`, {
        hint: 'ByteArrayConverter only writes bytes; use JsonConverter or StringConverter for other types',
      });
    }
    if (value === null || value === undefined) return null;
    if (Buffer.isBuffer(value)) return value;
    if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    throw new TributaryError('converter.failed', `ByteArrayConverter is not compatible with objects of type ${typeof value}`);
  }

  toConnectData(_topic: string, bytes: Buffer | null): { schema: Schema | null; value: unknown } {
    return { schema: OPTIONAL_BYTES, value: bytes };
  }
}

/** Registry entry for ByteArrayConverter. */
export const byteArrayConverterPlugin: ConverterPlugin = {
  id: 'bytearray',
  aliases: ['org.apache.kafka.connect.converters.ByteArrayConverter', 'ByteArrayConverter', 'bytes'],
  spec: byteArrayConverterSpec,
  create: () => new ByteArrayConverter(),
};
