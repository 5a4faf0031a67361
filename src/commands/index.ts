import { TributaryError } from '../sdk/errors.js';
import type { Platform } from '../sdk/platform.js';
import type { StoredRecord } from '../sdk/record.js';
import type { Worker } from '../runtime/worker.js';
import type { ConnectorDescription, ConnectorListEntry, ConnectorPluginRow, TopicRow, PrintedRecord } from '../sql/results.js';
import { describeFormats, formatNext, initialFormatState, type FormatState } from '../sql/formatDetection.js';

/**
 * The one command layer under SQL, REST and CLI: each management action is a function of the worker here, and
 * every transport only parses, calls one of these and formats the answer. Secrets are masked in what they return.
 */
export function listConnectors(worker: Worker): ConnectorListEntry[] {
  return worker.names().map((name) => {
    const st = worker.status(name);
    return {
      name,
      type: 'source' as const,
      className: worker.pluginOf(name).className,
      state: st.connector.state,
      tasks: st.tasks.map((t) => ({ id: t.id, state: t.state })),
    };
  });
}

export function listPlugins(worker: Worker): ConnectorPluginRow[] {
  return worker.plugins.sources.map((p) => ({ className: p.className, type: p.type, version: VERSION }));
}

export const VERSION = '0.1.0';

export function describeConnector(worker: Worker, name: string): ConnectorDescription {
  const st = worker.status(name);
  const details = worker.details(name);
  const extras: Array<{ label: string; value: string }> = [];
  details.tasks.forEach((t) => {
    const m = t.metrics;
    extras.push({ label: `Task ${t.id} records`, value: `polled ${m.recordsPolled}, written ${m.recordsWritten}, filtered ${m.recordsFiltered}, in flight ${t.inflightRecords}` });
    if (t.lastError) extras.push({ label: `Task ${t.id} retrying`, value: t.lastError });
    for (const [k, v] of Object.entries(t.source)) extras.push({ label: `Task ${t.id} ${k}`, value: typeof v === 'string' ? v : JSON.stringify(v) });
  });
  const d: ConnectorDescription = {
    name,
    className: worker.pluginOf(name).className,
    type: 'source',
    state: st.connector.state,
    workerId: st.connector.worker_id,
    tasks: st.tasks.map((t) => ({ id: t.id, state: t.state, workerId: t.worker_id, trace: t.trace })),
    topics: worker.topics(name),
    extras,
  };
  if (st.connector.trace) d.trace = st.connector.trace;
  return d;
}

export async function listTopics(platform: Platform, extended: boolean): Promise<TopicRow[]> {
  const topics = await platform.listTopics();
  return topics
    .filter((t) => !t.name.startsWith('__'))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((t) => {
      const row: TopicRow = { name: t.name, partitions: t.partitions, replicas: t.replicas };
      if (extended) {
        row.consumers = t.consumers ?? 0;
        row.consumerGroups = t.consumerGroups ?? 0;
      }
      return row;
    });
}

/** Finds a topic by exact name, or case-insensitively for unquoted names (ksqlDB upper-cases those). */
export async function resolveTopic(platform: Platform, name: string, quoted: boolean): Promise<string> {
  const topics = (await platform.listTopics()).map((t) => t.name);
  if (topics.includes(name)) return name;
  if (!quoted) {
    const ci = topics.find((t) => t.toLowerCase() === name.toLowerCase());
    if (ci) return ci;
  }
  throw new TributaryError('platform.topic_missing', `Could not find topic '${name}', or the KSQL user does not have permissions to list the topic. Topic names are case-sensitive.`, {
    hint: 'SHOW TOPICS lists them; quote the name to keep its case',
  });
}

/**
 * PRINT: reads a topic and hands each record to `emit` as ksqlDB prints it; the header (detected key and value
 * formats) is emitted once, before the first record.
 */
export async function printTopic(
  platform: Platform,
  topic: string,
  opts: { fromBeginning: boolean; limit?: number; interval?: number; signal?: AbortSignal },
  emit: (e: { header?: { keyFormat: string; valueFormat: string }; record?: PrintedRecord }) => void,
): Promise<void> {
  let ks: FormatState = initialFormatState;
  let vs: FormatState = initialFormatState;
  let seen = 0;
  let printed = 0;
  const every = Math.max(1, opts.interval ?? 1);
  await platform.read(topic, {
    fromBeginning: opts.fromBeginning,
    limit: opts.limit === undefined ? undefined : opts.limit * every,
    signal: opts.signal,
    onRecord: (r: StoredRecord) => {
      if (seen++ % every !== 0) return;
      const k = formatNext(ks, r.key);
      const v = formatNext(vs, r.value);
      ks = k.state;
      vs = v.state;
      if (printed++ === 0) emit({ header: { keyFormat: describeFormats(ks), valueFormat: describeFormats(vs) } });
      emit({ record: { timestamp: r.timestamp, partition: r.partition, key: r.key === null ? null : k.text, value: r.value === null ? null : v.text } });
    },
  });
}
