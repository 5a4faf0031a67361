import { TributaryError } from '../sdk/errors.js';
import { isSecretKey, maskUrl } from '../runtime/secrets.js';
import type { Worker } from '../runtime/worker.js';
import { parseScript } from '../sql/parser.js';
import type { Statement } from '../sql/ast.js';
import type { Entity } from '../sql/entities.js';
import { describeConnector, listConnectors, listPlugins, listTopics, printTopic, resolveTopic } from './index.js';

/**
 * Runs a SQL script against the worker. The whole script is parsed first (a syntax error runs nothing); then
 * statements run in order and each yields an entity. PRINT streams: its records go to `onStream` as they arrive.
 */
export async function executeScript(
  worker: Worker,
  script: string,
  opts: { signal?: AbortSignal; onStream?: (e: Entity) => void } = {},
): Promise<Entity[]> {
  const statements = parseScript(script);
  const out: Entity[] = [];
  for (const st of statements) {
    out.push(...(await executeStatement(worker, st, opts)));
  }
  return out;
}

/**
 * The statement as echoed back in answers: values of secret keys replaced by [hidden] (located by the parser's
 * spans, so a password that also appears as, say, a user name elsewhere is masked only where it is the password),
 * and passwords inside URLs masked.
 */
export function maskedStatementText(st: Statement): string {
  let text = st.text;
  if (st.kind === 'createConnector') {
    const cuts = st.properties
      .filter((p) => isSecretKey(p.key))
      .map((p) => {
        const start = p.valueSpan.offset - st.span.offset;
        return [start, literalEnd(text, start)] as const;
      })
      .sort((a, b) => b[0] - a[0]);
    for (const [a, b] of cuts) if (a >= 0 && b > a) text = text.slice(0, a) + "'[hidden]'" + text.slice(b);
  }
  return maskUrl(text);
}

function literalEnd(text: string, start: number): number {
  const q = text[start];
  if (q !== "'" && q !== '"') {
    const m = /^[^\s,)]+/.exec(text.slice(start));
    return start + (m ? m[0].length : 0);
  }
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === q) {
      if (text[i + 1] === q) i++;
      else return i + 1;
    }
  }
  return text.length;
}

export async function executeStatement(worker: Worker, st: Statement, opts: { signal?: AbortSignal; onStream?: (e: Entity) => void }): Promise<Entity[]> {
  const statementText = maskedStatementText(st);
  switch (st.kind) {
    case 'createConnector': {
      if (st.connectorType !== 'source') {
        throw new TributaryError('sql.unsupported', 'Sink connectors are not supported yet', { hint: 'Tributary runs source connectors: CREATE SOURCE CONNECTOR …' });
      }
      const { created, record } = await worker.create(st.name.value, st.config, { ifNotExists: st.ifNotExists });
      return [{ '@type': 'connector_info', statementText, name: record.name, created, info: { name: record.name, config: worker.maskedConfig(record.name), type: 'source' } }];
    }
    case 'dropConnector': {
      const dropped = await worker.delete(st.name.value, { ifExists: st.ifExists });
      return [{ '@type': 'drop_connector', statementText, connectorName: st.name.value, dropped }];
    }
    case 'listConnectors': {
      const all = listConnectors(worker);
      return [{ '@type': 'connector_list', statementText, connectors: st.scope === 'sink' ? [] : all }];
    }
    case 'listConnectorPlugins':
      return [{ '@type': 'connector_plugins', statementText, plugins: listPlugins(worker) }];
    case 'describeConnector':
      return [{ '@type': 'connector_description', statementText, description: describeConnector(worker, st.name.value) }];
    case 'listTopics':
      return [{ '@type': 'kafka_topics', statementText, topics: await listTopics(worker.platform, st.extended), extended: st.extended }];
    case 'connectorAction': {
      const name = st.name.value;
      if (st.action === 'pause') await worker.pause(name);
      else if (st.action === 'resume') await worker.resume(name);
      else if (st.action === 'stop') await worker.stop(name);
      else await worker.restart(name, { includeTasks: true });
      return [{ '@type': 'connector_action', statementText, action: st.action, name }];
    }
    case 'print': {
      const topic = await resolveTopic(worker.platform, st.topic.value, st.topic.quoted);
      const entities: Entity[] = [];
      const emit = (e: Entity) => (opts.onStream ? opts.onStream(e) : entities.push(e));
      await printTopic(worker.platform, topic, { fromBeginning: st.fromBeginning, limit: st.limit, interval: st.interval, signal: opts.signal }, (e) => {
        if (e.header) emit({ '@type': 'print_header', statementText, ...e.header });
        if (e.record) emit({ '@type': 'print_record', record: e.record });
      });
      return entities;
    }
  }
}
