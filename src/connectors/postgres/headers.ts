/**
 * The record headers Debezium 3.x puts on change events, with the bytes Kafka Connect's default header converter
 * (SimpleHeaderConverter, i.e. `Values.convertToString`) writes for them.
 *
 * - Context headers (`extended.headers.enabled=true`, Debezium's default) on every change event and tombstone, in
 *   this order: `__debezium.context.connectorLogicalName` (topic.prefix), `…taskId`, `…connectorName`
 *   ("postgresql"), `…runId` (a UUID v7 made at each task start). Transaction metadata and heartbeat records have none.
 * - Key-change headers: an UPDATE that changes the key becomes delete (+ tombstone) of the old key and create of the
 *   new one; `__debezium.newkey` (the new key) goes on the delete and its tombstone, `__debezium.oldkey` (the old key)
 *   on the create, before the context headers.
 */
import { randomBytes } from 'node:crypto';
import type { Header } from '../../sdk/record.js';
import type { Schema } from '../../sdk/schema.js';
import { javaBigDecimal, javaDouble, javaFloat, parseDecimal } from '../../converters/format.js';

export const NEWKEY_HEADER = '__debezium.newkey';
export const OLDKEY_HEADER = '__debezium.oldkey';

/** A UUID version 7 (RFC 9562): 48-bit Unix time in ms, then random bits, as Debezium's run id. */
export function uuidV7(nowMs = Date.now()): string {
  const b = randomBytes(16);
  let t = nowMs;
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  b[6] = 0x70 | (b[6]! & 0x0f);
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Debezium's context headers (DebeziumHeaderProducer), as UTF-8 string values. */
export function contextHeaders(logicalName: string, taskId: string, runId: string): Header[] {
  return [
    { key: '__debezium.context.connectorLogicalName', value: logicalName },
    { key: '__debezium.context.taskId', value: taskId },
    { key: '__debezium.context.connectorName', value: 'postgresql' },
    { key: '__debezium.context.runId', value: runId },
  ];
}

const MILLIS_PER_DAY = 86_400_000;
const p2 = (n: number) => (n < 10 ? '0' + n : '' + n);
const p3 = (n: number) => (n < 10 ? '00' + n : n < 100 ? '0' + n : '' + n);

/**
 * `java.util.Date` as Connect's `Values.dateFormatFor` formats it (SimpleDateFormat, JVM zone UTC): a time of day
 * below one day, a date at midnight, a timestamp otherwise.
 */
function javaDateValue(ms: number): string {
  const d = new Date(ms);
  const time = `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${p3(d.getUTCMilliseconds())}Z`;
  if (ms < MILLIS_PER_DAY) return time;
  const date = `${String(d.getUTCFullYear()).padStart(4, '0')}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`;
  return ms % MILLIS_PER_DAY === 0 ? date : `${date}T${time}`;
}

/** Connect's `Values.escape`: only backslash and double quote are escaped. */
const escape = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

/**
 * Connect's `Values.convertToString(schema, value)` for a value of this connector: structs as `{"a":1,"b":"x"}`,
 * lists as `[1,2]`, strings quoted when embedded, bytes as base64, Decimal as `BigDecimal.toString()`, floats as
 * Java prints them, logical Date/Time/Timestamp as `java.util.Date`.
 */
export function connectToString(schema: Schema | null | undefined, v: unknown, embedded = false): string {
  if (v === null || v === undefined) return 'null';
  switch (schema?.name) {
    case 'org.apache.kafka.connect.data.Decimal': {
      const d = parseDecimal(v);
      const scale = Number(schema.parameters?.scale ?? d.scale);
      // the Connect value is a BigDecimal at the schema's scale
      let u = d.unscaled;
      if (scale > d.scale) u *= 10n ** BigInt(scale - d.scale);
      else if (scale < d.scale) u /= 10n ** BigInt(d.scale - scale);
      return javaBigDecimal(u, scale);
    }
    case 'org.apache.kafka.connect.data.Date':
      return javaDateValue(Number(v) * MILLIS_PER_DAY);
    case 'org.apache.kafka.connect.data.Time':
    case 'org.apache.kafka.connect.data.Timestamp':
      return javaDateValue(Number(v));
    default:
      break;
  }
  switch (typeof v) {
    case 'string':
      return embedded ? `"${escape(v)}"` : v;
    case 'boolean':
    case 'bigint':
      return String(v);
    case 'number':
      if (schema?.type === 'float32') return javaFloat(v);
      if (schema?.type === 'float64') return javaDouble(v);
      return String(v);
    default:
      break;
  }
  if (v instanceof Uint8Array) {
    const b64 = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
    return embedded ? `"${b64}"` : b64;
  }
  if (Array.isArray(v)) return '[' + v.map((x) => connectToString(schema?.items, x, true)).join(',') + ']';
  const o = v as Record<string, unknown>;
  if (schema?.type === 'struct') {
    return '{' + (schema.fields ?? []).map((f) => `"${escape(f.name)}":${connectToString(f.schema, o[f.name], true)}`).join(',') + '}';
  }
  return '{' + Object.entries(o).map(([k, x]) => `"${escape(k)}":${connectToString(schema?.values, x, true)}`).join(',') + '}';
}

/** The key-change header (`__debezium.newkey` / `__debezium.oldkey`) for a key struct. */
export function keyHeader(name: string, keySchema: Schema, key: unknown): Header {
  return { key: name, value: connectToString(keySchema, key) };
}
