import type { PlatformRecord, SourceOffset, SourcePartition, StoredRecord } from './record.js';

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
 * Errors carry `retriable` (TributaryError) so the runtime can back off and resend. A platform reads the records'
 * key, value and header bytes only until the promise `send` returned settles: the runtime lets converters reuse that
 * memory once a send is acknowledged (see Converter.retainBytes).
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
  /**
   * Exactly-once writing for one task (KIP-618), on platforms with transactions. Opening fences every earlier
   * writer with the same id. Absent: the platform cannot give exactly-once, and CREATE refuses
   * `exactly.once.support=required`.
   */
  transactional?(opts: { transactionalId: string; offsetsTopic: string }): TransactionalWriter;
}

/** One source offset as kept in a platform's offsets topic (Kafka Connect's key `["<connector>", partition]`). */
export interface CommittedOffset {
  partition: SourcePartition;
  offset: SourceOffset | null;
}

/**
 * Writes batches of records together with the source offsets that cover them, atomically: after a crash at any
 * instant either both are visible (read_committed) or neither. Calls of `write` are committed in call order.
 */
export interface TransactionalWriter {
  /** fences earlier writers with this id (their open transactions are aborted); call once before anything else */
  open(): Promise<void>;
  /** the connector's committed offsets, as read_committed readers see them */
  readOffsets(connector: string): Promise<CommittedOffset[]>;
  /**
   * One transaction: the records and the connector's offsets; resolves when committed. After a write fails,
   * every later write rejects too (nothing may be committed behind an aborted batch, since its offsets would
   * skip it) until {@link resume} is called — by the runtime, once it resends from the first failed batch.
   */
  write(records: PlatformRecord[], connector: string, offsets: CommittedOffset[]): Promise<void>;
  resume(): void;
  close(): Promise<void>;
}
