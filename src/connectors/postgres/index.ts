/** PostgreSQL change data capture over logical replication (pgoutput), in Debezium's event format. */
import type { SourcePlugin } from '../../sdk/source.js';
import { postgresCdcSpec } from './config.js';
import { PostgresCdcConnector } from './connector.js';
import { PostgresCdcTask } from './task.js';

export const postgresCdcPlugin: SourcePlugin = {
  id: 'postgres-cdc',
  aliases: ['io.debezium.connector.postgresql.PostgresConnector', 'postgres', 'postgresql'],
  className: 'io.debezium.connector.postgresql.PostgresConnector',
  type: 'source',
  spec: postgresCdcSpec,
  createConnector: () => new PostgresCdcConnector(),
  createTask: () => new PostgresCdcTask(),
};

export { postgresCdcSpec } from './config.js';
export { PostgresCdcConnector } from './connector.js';
export { PostgresCdcTask } from './task.js';
export { ReplicationConnection } from './replication/connection.js';
export { decodePgOutput } from './pgoutput.js';
