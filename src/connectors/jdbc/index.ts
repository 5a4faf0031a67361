import type { SourcePlugin } from '../../sdk/source.js';
import { JdbcSourceConnector, checkJdbc } from './connector.js';
import { jdbcSourceSpec } from './spec.js';
import { JdbcSourceTask } from './task.js';

/** Query-polling source with Confluent's JDBC source connector keys (PostgreSQL dialect). */
export const jdbcSourcePlugin: SourcePlugin = {
  id: 'jdbc',
  aliases: ['io.confluent.connect.jdbc.JdbcSourceConnector', 'JdbcSourceConnector', 'jdbc-source'],
  className: 'io.confluent.connect.jdbc.JdbcSourceConnector',
  type: 'source',
  spec: jdbcSourceSpec,
  createConnector: () => new JdbcSourceConnector(),
  createTask: () => new JdbcSourceTask(),
  check: checkJdbc,
  // tasks may run in worker threads: a JdbcSourceTask needs nothing but its config and context
  threadModule: { url: import.meta.url, exportName: 'jdbcSourcePlugin' },
};
