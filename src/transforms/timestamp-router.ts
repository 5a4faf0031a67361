/**
 * `org.apache.kafka.connect.transforms.TimestampRouter`: routes to `topic.format` with `${topic}` and
 * `${timestamp}` (the record timestamp formatted with `timestamp.format`, a Java SimpleDateFormat pattern, in UTC).
 * Supported pattern letters: y M d H h m s S a E D z Z X, and quoted 'literals'. A record without a timestamp uses the
 * current time (the time the platform will stamp it with); Connect fails such records instead.
 */
import type { ConfigSpec, ResolvedConfig } from '../sdk/config.js';
import type { SourceRecord } from '../sdk/record.js';
import type { Transform, TransformPlugin } from '../sdk/transform.js';
import { CONNECT_TRANSFORMS } from './util.js';

type Part = string | ((d: Date) => string);

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const pad = (n: number, w: number) => String(n).padStart(w, '0');

function letter(c: string, n: number): ((d: Date) => string) | undefined {
  switch (c) {
    case 'y': return n === 2 ? (d) => pad(d.getUTCFullYear() % 100, 2) : (d) => pad(d.getUTCFullYear(), n);
    case 'M':
      if (n >= 4) return (d) => MONTHS[d.getUTCMonth()]!;
      if (n === 3) return (d) => MONTHS[d.getUTCMonth()]!.slice(0, 3);
      return (d) => pad(d.getUTCMonth() + 1, n);
    case 'd': return (d) => pad(d.getUTCDate(), n);
    case 'H': return (d) => pad(d.getUTCHours(), n);
    case 'h': return (d) => pad(d.getUTCHours() % 12 || 12, n);
    case 'm': return (d) => pad(d.getUTCMinutes(), n);
    case 's': return (d) => pad(d.getUTCSeconds(), n);
    case 'S': return (d) => pad(d.getUTCMilliseconds(), n);
    case 'a': return (d) => (d.getUTCHours() < 12 ? 'AM' : 'PM');
    case 'E': return n >= 4 ? (d) => DAYS[d.getUTCDay()]! : (d) => DAYS[d.getUTCDay()]!.slice(0, 3);
    case 'D': return (d) => pad(Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1, n);
    case 'z': return () => (n >= 4 ? 'Coordinated Universal Time' : 'UTC');
    case 'Z': return () => '+0000';
    case 'X': return () => 'Z';
  }
  return undefined;
}

/** Compiles a Java SimpleDateFormat pattern (UTC); throws on letters it does not support. */
export function compileDateFormat(pattern: string): (ms: number) => string {
  const parts: Part[] = [];
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i]!;
    if (c === "'") {
      const end = pattern.indexOf("'", i + 1);
      if (end < 0) throw new Error('Unterminated quote');
      parts.push(end === i + 1 ? "'" : pattern.slice(i + 1, end));
      i = end + 1;
    } else if (/[A-Za-z]/.test(c)) {
      let n = 1;
      while (pattern[i + n] === c) n++;
      const f = letter(c, n);
      if (!f) throw new Error(`Unsupported pattern letter '${c}'`);
      parts.push(f);
      i += n;
    } else {
      parts.push(c);
      i++;
    }
  }
  return (ms) => {
    const d = new Date(ms);
    let s = '';
    for (const p of parts) s += typeof p === 'string' ? p : p(d);
    return s;
  };
}

export const timestampRouterSpec: ConfigSpec = {
  name: 'TimestampRouter',
  keys: [
    { name: 'topic.format', type: 'string', default: '${topic}-${timestamp}', importance: 'high',
      doc: 'Format string which can contain ${topic} and ${timestamp} as placeholders for the topic and timestamp, respectively.' },
    { name: 'timestamp.format', type: 'string', default: 'yyyyMMdd', importance: 'high',
      doc: 'Format string for the timestamp that is compatible with java.text.SimpleDateFormat (formatted in UTC).',
      validate: (v) => { try { compileDateFormat(String(v)); return undefined; } catch (e) { return (e as Error).message; } } },
  ],
};

/** TimestampRouter transform. */
export class TimestampRouter implements Transform {
  private format = '${topic}-${timestamp}';
  private fmt: (ms: number) => string = String;

  configure(config: ResolvedConfig): void {
    this.format = String(config['topic.format'] ?? '${topic}-${timestamp}');
    this.fmt = compileDateFormat(String(config['timestamp.format'] ?? 'yyyyMMdd'));
  }

  apply(r: SourceRecord): SourceRecord {
    const ts = this.fmt(r.timestamp ?? Date.now());
    return { ...r, topic: this.format.replaceAll('${topic}', r.topic).replaceAll('${timestamp}', ts) };
  }
}

export const timestampRouterPlugin: TransformPlugin = {
  id: 'TimestampRouter',
  aliases: [`${CONNECT_TRANSFORMS}TimestampRouter`],
  spec: timestampRouterSpec,
  create: () => new TimestampRouter(),
};
