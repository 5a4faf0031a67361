/**
 * Renders command results as ksqlDB's CLI prints them. Pure functions over the plain data of `results.ts`; each
 * returns text ending with a newline.
 */
import type { ConnectorAction } from './ast.js';
import type {
  ConnectorDescription,
  ConnectorListEntry,
  ConnectorPluginRow,
  PrintedRecord,
  TopicRow,
} from './results.js';

/**
 * A ksqlDB CLI table: a header row, a `-` line, the rows, a `-` line. Columns are left-aligned, padded to the
 * widest cell and separated by ` | `, with one space at each edge (trailing padding kept, as ksqlDB prints it).
 * A cell with line breaks continues on the following lines, other columns left blank there.
 * Returns an empty string when there are no headers.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  if (headers.length === 0) return '';
  const split = rows.map((row) => headers.map((_, i) => (row[i] ?? '').split(/\r\n|\n/)));
  const widths = headers.map((h, i) => Math.max(h.length, ...split.flatMap((cells) => cells[i].map((l) => l.length))));
  const line = (cells: readonly string[]) => ` ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} `;
  const separator = '-'.repeat(widths.reduce((sum, w) => sum + w + 3, -1));
  const out = [line(headers), separator];
  for (const cells of split) {
    const height = Math.max(...cells.map((c) => c.length));
    for (let k = 0; k < height; k++) out.push(line(cells.map((c) => c[k] ?? '')));
  }
  out.push(separator);
  return out.join('\n') + '\n';
}

/** One-cell `Message` table, as ksqlDB prints statement outcomes. */
export function renderMessage(message: string): string {
  return renderTable(['Message'], [[message]]);
}

/** CREATE … CONNECTOR: `Created connector <name>`. */
export function renderCreated(name: string): string {
  return renderMessage(`Created connector ${name}`);
}

/** DROP CONNECTOR: `Dropped connector "<name>"`. */
export function renderDropped(name: string): string {
  return renderMessage(`Dropped connector "${name}"`);
}

const ACTION_PAST: Record<ConnectorAction, string> = {
  pause: 'Paused',
  resume: 'Resumed',
  restart: 'Restarted',
  stop: 'Stopped',
};

/** PAUSE/RESUME/RESTART/STOP CONNECTOR: e.g. `Paused connector "<name>"`. */
export function renderConnectorAction(action: ConnectorAction, name: string): string {
  return renderMessage(`${ACTION_PAST[action]} connector "${name}"`);
}

/**
 * SHOW CONNECTORS' Status: the raw state unless RUNNING; when RUNNING, `RUNNING (n/m tasks RUNNING)`, or
 * `WARNING (n/m tasks RUNNING)` when some tasks are not running.
 */
export function connectorStatus(entry: Pick<ConnectorListEntry, 'state' | 'tasks'>): string {
  if (entry.state !== 'RUNNING') return entry.state;
  const running = entry.tasks.filter((t) => t.state === 'RUNNING').length;
  const total = entry.tasks.length;
  return `${running < total ? 'WARNING' : 'RUNNING'} (${running}/${total} tasks RUNNING)`;
}

/** SHOW CONNECTORS: `Connector Name | Type | Class | Status`. */
export function renderConnectorList(entries: readonly ConnectorListEntry[]): string {
  return renderTable(
    ['Connector Name', 'Type', 'Class', 'Status'],
    entries.map((e) => [e.name, e.type.toUpperCase(), e.className, connectorStatus(e)]),
  );
}

/** SHOW CONNECTOR PLUGINS: `Class | Type | Version`. */
export function renderConnectorPlugins(plugins: readonly ConnectorPluginRow[]): string {
  return renderTable(
    ['Class', 'Type', 'Version'],
    plugins.map((p) => [p.className, p.type.toUpperCase(), p.version]),
  );
}

/** A DESCRIBE line: label padded to 20, ` : `, value. */
const field = (label: string, value: string) => `${label.padEnd(20)} : ${value}\n`;

/**
 * DESCRIBE CONNECTOR: `Name`, `Class`, `Type`, `State`, `WorkerId` (+ `Trace` when set) and Tributary's extra
 * lines, then a `Task ID | State | Error Trace` table and a `Related Topics` table (each only when non-empty,
 * preceded by a blank line).
 */
export function renderConnectorDescription(d: ConnectorDescription): string {
  let out =
    field('Name', d.name) +
    field('Class', d.className) +
    field('Type', d.type) +
    field('State', d.state) +
    field('WorkerId', d.workerId);
  if (d.trace) out += field('Trace', d.trace);
  for (const extra of d.extras ?? []) out += field(extra.label, extra.value);
  if (d.tasks.length) {
    const rows = d.tasks.map((t) => [String(t.id), t.state, t.trace ?? '']);
    out += '\n' + renderTable(['Task ID', 'State', 'Error Trace'], rows);
  }
  if (d.topics.length) out += '\n' + renderTable(['Related Topics'], d.topics.map((t) => [t]));
  return out;
}

/** ksqlDB's replica summary: one number when every partition has the same count, else a comma list. */
function replicaSummary(replicas: number | readonly number[]): string {
  if (typeof replicas === 'number') return String(replicas);
  if (replicas.length === 0) return '0';
  return new Set(replicas).size === 1 ? String(replicas[0]) : replicas.join(', ');
}

/** SHOW TOPICS: `Kafka Topic | Partitions | Replicas`; EXTENDED adds `Consumers | ConsumerGroups`. */
export function renderTopics(topics: readonly TopicRow[], extended = false): string {
  const headers = ['Kafka Topic', 'Partitions', 'Replicas', ...(extended ? ['Consumers', 'ConsumerGroups'] : [])];
  return renderTable(
    headers,
    topics.map((t) => [
      t.name,
      String(t.partitions),
      replicaSummary(t.replicas),
      ...(extended ? [String(t.consumers ?? 0), String(t.consumerGroups ?? 0)] : []),
    ]),
  );
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** PRINT's rowtime: `yyyy/MM/dd HH:mm:ss.SSS Z` in UTC; `N/A` for a negative (absent) timestamp. */
export function formatRowtime(ms: number): string {
  if (ms < 0 || !Number.isFinite(ms)) return 'N/A';
  const d = new Date(ms);
  return (
    `${pad(d.getUTCFullYear(), 4)}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)} Z`
  );
}

/** PRINT's header lines: `Key format: …` and `Value format: …` (see `describeFormats`). */
export function renderPrintHeader(keyFormat: string, valueFormat: string): string {
  return `Key format: ${keyFormat}\nValue format: ${valueFormat}\n`;
}

/** One PRINT line: `rowtime: …, key: <k>, value: <v>, partition: <n>`; null prints `<null>`. */
export function renderPrintedRecord(r: PrintedRecord): string {
  const key = r.key ?? '<null>';
  const value = r.value ?? '<null>';
  return `rowtime: ${formatRowtime(r.timestamp)}, key: ${key}, value: ${value}, partition: ${r.partition}\n`;
}

/** A whole PRINT output: the header, then one line per record. */
export function renderPrint(keyFormat: string, valueFormat: string, records: readonly PrintedRecord[]): string {
  return renderPrintHeader(keyFormat, valueFormat) + records.map(renderPrintedRecord).join('');
}
