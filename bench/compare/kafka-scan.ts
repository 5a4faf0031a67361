/**
 * What the comparison reads back from Kafka, with @platformatic/kafka directly (independent of both systems):
 * end offsets while a run is in progress, and a streaming scan of a topic's records (timestamps, sizes, the
 * row's `born_us`) without keeping them in memory.
 *
 * The broker runs with `log.message.timestamp.type=LogAppendTime`, so a record's timestamp is the time the broker
 * appended it: the same clock for every system, and the end point of commit-to-Kafka latency.
 */
import { randomBytes } from 'node:crypto';
import { Consumer, MessagesStreamModes } from '@platformatic/kafka';

const base = (bootstrap: string) => ({ clientId: `tributary-compare-${randomBytes(3).toString('hex')}`, bootstrapBrokers: bootstrap.split(','), strict: false });

/** Keeps one consumer for offset look-ups during a run (cheap to poll every 100 ms). */
export class OffsetWatcher {
  readonly #consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  constructor(bootstrap: string) {
    this.#consumer = new Consumer({ ...base(bootstrap), groupId: `tributary-compare-${randomBytes(6).toString('hex')}` });
  }

  /** records in `topic` (sum of end offsets over partitions), 0 while it does not exist */
  async count(topic: string): Promise<number> {
    try {
      const ends = await this.#consumer.listOffsets({ topics: [topic] });
      return (ends.get(topic) ?? []).reduce((n, o) => n + Number(o), 0);
    } catch {
      return 0;
    }
  }

  async close(): Promise<void> {
    await (this.#consumer.close(true as boolean) as unknown as Promise<void>).catch(() => undefined);
  }
}

export interface ScannedRecord {
  /** broker log-append time, ms since the epoch */
  timestamp: number;
  offset: number;
  keyBytes: number;
  valueBytes: number;
  value: Buffer | null;
}

/**
 * Calls `fn` for records `[from, to)` of partition 0 of `topic`, in offset order. Rejects when they cannot all
 * be read within `timeoutMs`.
 */
export async function scanTopic(bootstrap: string, topic: string, from: number, to: number, fn: (r: ScannedRecord) => void, timeoutMs = 300_000): Promise<void> {
  if (to <= from) return;
  const consumer = new Consumer({ ...base(bootstrap), groupId: `tributary-compare-${randomBytes(6).toString('hex')}`, autocommit: false, maxWaitTime: 200, maxBytes: 16 * 1048576 });
  try {
    const stream = await consumer.consume({
      topics: [topic], mode: MessagesStreamModes.MANUAL, offsets: [{ topic, partition: 0, offset: BigInt(from) }], autocommit: false,
    });
    let next = from;
    const timer = setTimeout(() => void stream.close(), timeoutMs);
    try {
      for await (const m of stream) {
        const offset = Number(m.offset);
        if (offset < next) continue;
        const key = m.key as Buffer | null | undefined;
        const value = (m.value as Buffer | null | undefined) ?? null;
        fn({ timestamp: Number(m.timestamp), offset, keyBytes: key?.length ?? 0, valueBytes: value?.length ?? 0, value });
        next = offset + 1;
        if (next >= to) break;
      }
    } finally {
      clearTimeout(timer);
      await stream.close().catch(() => undefined);
    }
    if (next < to) throw new Error(`timed out reading ${topic} offsets ${from}..${to} (got to ${next})`);
  } finally {
    await (consumer.close(true as boolean) as unknown as Promise<void>).catch(() => undefined);
  }
}
