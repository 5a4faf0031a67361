/**
 * Guesses the serialization format of record keys and values for PRINT, as ksqlDB does: every format that can
 * decode the bytes stays a candidate, candidates are narrowed record by record, and each record prints with the
 * first candidate left. Formats needing a schema registry (AVRO, PROTOBUF, JSON_SR) are not tried.
 */

/** PRINT formats in ksqlDB's order of preference. */
export const PRINT_FORMATS = [
  'JSON',
  'KAFKA_INT',
  'KAFKA_BIGINT',
  'KAFKA_DOUBLE',
  'KAFKA_STRING',
  'UNRECOGNISED_BYTES',
] as const;
export type PrintFormat = (typeof PRINT_FORMATS)[number];

/** Candidate formats of one side (key or value) across the records seen so far. */
export interface FormatState {
  candidates: readonly PrintFormat[];
  /** False until a non-null key/value was seen. */
  seenData: boolean;
}

/** The state before any record: every format possible. */
export const initialFormatState: FormatState = { candidates: PRINT_FORMATS, seenData: false };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes `bytes` as `format`; undefined when they are not valid in that format. */
export function decodeAs(bytes: Uint8Array, format: PrintFormat): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (format) {
    case 'KAFKA_INT':
      return bytes.length === 4 ? String(view.getInt32(0)) : undefined;
    case 'KAFKA_BIGINT':
      return bytes.length === 8 ? String(view.getBigInt64(0)) : undefined;
    case 'KAFKA_DOUBLE':
      return bytes.length === 8 ? javaDouble(view.getFloat64(0)) : undefined;
    case 'JSON':
    case 'KAFKA_STRING': {
      const text = utf8Text(bytes);
      if (text === undefined || format === 'KAFKA_STRING') return text;
      try {
        JSON.parse(text);
        return text;
      } catch {
        return undefined;
      }
    }
    case 'UNRECOGNISED_BYTES':
      return bytesToString(bytes);
  }
}

/**
 * Narrows `state` by one key or value and returns the text to print for it: `<null>` for null, else the bytes
 * decoded with the first remaining candidate.
 */
export function formatNext(state: FormatState, bytes: Uint8Array | null): { state: FormatState; text: string } {
  if (bytes === null) return { state, text: '<null>' };
  const decoded = state.candidates.map((f) => [f, decodeAs(bytes, f)] as const).filter(([, t]) => t !== undefined);
  return {
    state: { candidates: decoded.map(([f]) => f), seenData: true },
    text: decoded[0]?.[1] ?? '<Failed to deserialize>',
  };
}

/** Detects the format of a single key or value: the first that decodes it (null for a null input). */
export function detectFormat(bytes: Uint8Array | null): { format: PrintFormat | null; text: string } {
  const { state, text } = formatNext(initialFormatState, bytes);
  return { format: bytes === null ? null : (state.candidates[0] ?? null), text };
}

/** The PRINT header text for a side: `JSON or KAFKA_STRING`, as in `Value format: JSON or KAFKA_STRING`. */
export function describeFormats(state: FormatState): string {
  if (!state.seenData) return '¯\\_(ツ)_/¯ - no data processed';
  const names = state.candidates.filter((f) => f !== 'UNRECOGNISED_BYTES');
  return names.length
    ? names.join(' or ')
    : 'does not match any supported format. It may be a STRING with encoding other than UTF8, or some other format.';
}

function utf8Text(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return undefined;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Kafka's `Bytes.toString`: printable ASCII as is (except `\`), anything else as `\xNN`. */
function bytesToString(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    const printable = b >= 0x20 && b <= 0x7e && b !== 0x5c;
    out += printable ? String.fromCharCode(b) : `\\x${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Java's `Double.toString`: `1.0`, `0.5`, `1.0E7`, `1.5E-4`, `NaN`, `Infinity`. */
function javaDouble(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(x);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mantissa, exponent] = x.toExponential().split('e');
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${exponent.replace('+', '')}`;
}
