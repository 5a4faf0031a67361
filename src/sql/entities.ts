import type { ConnectorDescription, ConnectorListEntry, ConnectorPluginRow, PrintedRecord, TopicRow } from './results.js';
import {
  renderConnectorAction,
  renderConnectorDescription,
  renderConnectorList,
  renderConnectorPlugins,
  renderCreated,
  renderDropped,
  renderMessage,
  renderPrintHeader,
  renderPrintedRecord,
  renderTopics,
} from './render.js';

/**
 * What the statement endpoint (`POST /ksql`) answers per statement, in the spirit of ksqlDB's REST entities
 * (`@type` names as ksqlDB uses them where one exists). The CLI renders them with `renderEntity`.
 */
export type Entity =
  | { '@type': 'connector_info'; statementText: string; name: string; created: boolean; info: { name: string; config: Record<string, string>; type: string } }
  | { '@type': 'drop_connector'; statementText: string; connectorName: string; dropped: boolean }
  | { '@type': 'connector_list'; statementText: string; connectors: ConnectorListEntry[] }
  | { '@type': 'connector_plugins'; statementText: string; plugins: ConnectorPluginRow[] }
  | { '@type': 'connector_description'; statementText: string; description: ConnectorDescription }
  | { '@type': 'kafka_topics'; statementText: string; topics: TopicRow[]; extended: boolean }
  | { '@type': 'connector_action'; statementText: string; action: 'pause' | 'resume' | 'restart' | 'stop'; name: string }
  | { '@type': 'print_header'; statementText: string; keyFormat: string; valueFormat: string }
  | { '@type': 'print_record'; record: PrintedRecord }
  | { '@type': 'message'; statementText: string; message: string };

export interface StatementError {
  '@type': 'statement_error';
  error_code: number;
  message: string;
  statementText?: string;
  hint?: string;
  line?: number;
  column?: number;
  entities: Entity[];
}

export function renderEntity(e: Entity): string {
  switch (e['@type']) {
    case 'connector_info':
      return e.created ? renderCreated(e.name) : renderMessage(`Connector ${e.name} already exists`);
    case 'drop_connector':
      return e.dropped ? renderDropped(e.connectorName) : renderMessage(`Connector ${e.connectorName} does not exist`);
    case 'connector_list':
      return renderConnectorList(e.connectors);
    case 'connector_plugins':
      return renderConnectorPlugins(e.plugins);
    case 'connector_description':
      return renderConnectorDescription(e.description);
    case 'kafka_topics':
      return renderTopics(e.topics, e.extended);
    case 'connector_action':
      return renderConnectorAction(e.action, e.name);
    case 'print_header':
      return renderPrintHeader(e.keyFormat, e.valueFormat);
    case 'print_record':
      return renderPrintedRecord(e.record);
    case 'message':
      return renderMessage(e.message);
  }
}
