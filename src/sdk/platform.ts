import type { PlatformRecord, StoredRecord } from './record.js';

export interface TopicInfo {
  name: string;
  partitions: number;
  replicas: number;
  /** consumer groups (EXTENDED) */
  consumers?: number;
  consumerGroups?: number;
}

export interface TopicSpec {
  partitions?: number;
  replicationFactor?: number;
  configs?: Record<string, string>;
}

/**
 * An event streaming platform (embedded log, Kafka, …) that a worker writes to.
 *
 * `send` resolves only when every record in the batch is durably acknowledged (fsync'd for the embedded log,
 * `acks=all` for Kafka); it rejects if any record could not be written. Several `send` calls may be in flight;
 * records of one call to one topic partition keep their order, and calls are ordered per partition in call order.
 * Errors carry `retriable` (TributaryError) so the runtime can back off and resend.
 */
export interface Platform {
  readonly kind: string;
  send(records: PlatformRecord[]): Promise<void>;
  /** creates the topic if missing (no-op if present) */
  ensureTopic(name: string, spec?: TopicSpec): Promise<void>;
  listTopics(): Promise<TopicInfo[]>;
  /**
   * Reads records from a topic, across its partitions. `fromBeginning=false` waits for new records only.
   * Stops after `limit` records or when `signal` aborts.
   */
  read(topic: string, opts: { fromBeginning: boolean; limit?: number; signal?: AbortSignal; onRecord: (r: StoredRecord) => void }): Promise<void>;
  close(): Promise<void>;
  /**
   * A view of this platform for one connector, with the connector's client overrides applied (Kafka:
   * `producer.override.*` through an allowlist). Throws TributaryError `config.invalid` naming the key for an
   * override that is not allowed or has a bad value, so CREATE can refuse it. Returns `this` when nothing is
   * overridden. A view holds its own clients, opened lazily; closing it leaves this platform open.
   */
  forConnector?(config: Record<string, string>): Platform;
}
