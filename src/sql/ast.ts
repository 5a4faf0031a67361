/**
 * Syntax tree of Tributary's SQL management language: the ksqlDB connector statements plus PAUSE, RESUME,
 * RESTART and STOP CONNECTOR. Plain data, produced by {@link parseScript} in `parser.ts`.
 */

/** A position in the script: 1-based line and column, 0-based character offset. */
export interface Span {
  line: number;
  column: number;
  offset: number;
}

/** A connector or topic name as written. */
export interface Name {
  /**
   * The resolved name. Unquoted names are upper-cased (ksqlDB's rule) for connectors; for PRINT topics see
   * {@link PrintStatement.topic}.
   */
  value: string;
  /** True when written 'single-quoted', "double-quoted" or `backquoted`: then `value` is kept exactly. */
  quoted: boolean;
  /** The name's source text, quotes included. */
  raw: string;
  span: Span;
}

/** How a property value was written. */
export type LiteralKind = 'string' | 'number' | 'boolean' | 'null' | 'variable';

/** One `key = literal` entry of a WITH clause. */
export interface Property {
  /** The key exactly as written, without its quotes. Keys are case-sensitive. */
  key: string;
  /**
   * The value as the runtime receives it: strings unescaped, numbers as written, booleans as `true`/`false`,
   * variables as their text `${name}`; `null` for NULL.
   */
  value: string | null;
  kind: LiteralKind;
  span: Span;
  valueSpan: Span;
}

interface StatementBase {
  /** Where the statement starts. */
  span: Span;
  /** The statement's source text, from its first token through its `;` (if any). */
  text: string;
}

/** `CREATE SOURCE|SINK CONNECTOR [IF NOT EXISTS] name WITH (…)` */
export interface CreateConnectorStatement extends StatementBase {
  kind: 'createConnector';
  connectorType: 'source' | 'sink';
  ifNotExists: boolean;
  name: Name;
  /** Properties in the order written (keys are unique). */
  properties: Property[];
  /** The properties as a connector config: NULL-valued keys are left out (unset, so the default applies). */
  config: Record<string, string>;
}

/** `DROP CONNECTOR [IF EXISTS] name` */
export interface DropConnectorStatement extends StatementBase {
  kind: 'dropConnector';
  ifExists: boolean;
  name: Name;
}

/** `SHOW|LIST [SOURCE|SINK] CONNECTORS` */
export interface ListConnectorsStatement extends StatementBase {
  kind: 'listConnectors';
  scope: 'all' | 'source' | 'sink';
}

/** `SHOW|LIST CONNECTOR PLUGINS` */
export interface ListConnectorPluginsStatement extends StatementBase {
  kind: 'listConnectorPlugins';
}

/** `DESCRIBE CONNECTOR name` */
export interface DescribeConnectorStatement extends StatementBase {
  kind: 'describeConnector';
  name: Name;
}

/** `SHOW|LIST [ALL] TOPICS [EXTENDED]` */
export interface ListTopicsStatement extends StatementBase {
  kind: 'listTopics';
  all: boolean;
  extended: boolean;
}

/** `PRINT topic [FROM BEGINNING] [INTERVAL|SAMPLE n] [LIMIT n]` */
export interface PrintStatement extends StatementBase {
  kind: 'print';
  /**
   * The topic. Quoted: `value` is exact. Unquoted: `value` is the text as written (not upper-cased); resolve it
   * against existing topics case-insensitively, preferring an exact match.
   */
  topic: Name;
  fromBeginning: boolean;
  /** Print every n-th record (INTERVAL and SAMPLE are synonyms). */
  interval?: number;
  limit?: number;
}

/** Connector lifecycle actions; STOP is a Tributary extension (Kafka Connect's `PUT …/stop`). */
export type ConnectorAction = 'pause' | 'resume' | 'restart' | 'stop';

/** `PAUSE|RESUME|RESTART|STOP CONNECTOR name` */
export interface ConnectorActionStatement extends StatementBase {
  kind: 'connectorAction';
  action: ConnectorAction;
  name: Name;
}

/** Any statement of the language; switch on `kind`. */
export type Statement =
  | CreateConnectorStatement
  | DropConnectorStatement
  | ListConnectorsStatement
  | ListConnectorPluginsStatement
  | DescribeConnectorStatement
  | ListTopicsStatement
  | PrintStatement
  | ConnectorActionStatement;
