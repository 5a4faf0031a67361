/**
 * Plain data that command execution hands to the renderers in `render.ts`. Secrets are masked before these are
 * built; the renderers print what they are given.
 */

/** Connector kinds as Kafka Connect reports them. */
export type ConnectorType = 'source' | 'sink';

/** Status of one task (Kafka Connect `GET /connectors/{n}/status` shape). */
export interface TaskStatus {
  id: number;
  /** UNASSIGNED, RUNNING, PAUSED, FAILED, RESTARTING or STOPPED. */
  state: string;
  workerId?: string;
  /** Error trace when FAILED. */
  trace?: string;
}

/** One row of SHOW CONNECTORS. */
export interface ConnectorListEntry {
  name: string;
  type: ConnectorType | 'unknown';
  className: string;
  /** The connector's own state (RUNNING, PAUSED, FAILED…). */
  state: string;
  tasks: Pick<TaskStatus, 'id' | 'state'>[];
}

/** One row of SHOW CONNECTOR PLUGINS. */
export interface ConnectorPluginRow {
  className: string;
  type: ConnectorType | 'unknown';
  version: string;
}

/** A labelled line under DESCRIBE CONNECTOR's header, e.g. `{ label: 'Snapshot', value: '40% (4/10 tables)' }`. */
export interface DescriptionLine {
  label: string;
  value: string;
}

/** What DESCRIBE CONNECTOR shows. */
export interface ConnectorDescription {
  name: string;
  className: string;
  type: ConnectorType | 'unknown';
  state: string;
  workerId: string;
  /** The connector's error trace when FAILED. */
  trace?: string;
  tasks: TaskStatus[];
  /** Topics the connector has written to. */
  topics: string[];
  /** Tributary extras (snapshot progress, lag, last position…), printed after the ksqlDB lines. */
  extras?: DescriptionLine[];
}

/** One row of SHOW TOPICS. */
export interface TopicRow {
  name: string;
  partitions: number;
  /** Replicas of each partition, or one count for all (the embedded log has 1). */
  replicas: number | number[];
  /** SHOW TOPICS EXTENDED only. */
  consumers?: number;
  /** SHOW TOPICS EXTENDED only. */
  consumerGroups?: number;
}

/** One record printed by PRINT, key and value already turned into text (see `formatDetection.ts`). */
export interface PrintedRecord {
  /** Record timestamp, ms since the epoch; negative when the record has none (printed `N/A`). */
  timestamp: number;
  partition: number;
  key: string | null;
  value: string | null;
}
