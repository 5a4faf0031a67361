/**
 * What the comparison reads back from Kafka, with @platformatic/kafka directly (independent of both systems):
 * end offsets while a run is in progress, and a streaming scan of a topic's records (timestamps, sizes, the
 * row's `born_us`) without keeping them in memory.
 *
 * The broker runs with `log.message.timestamp.type=LogAppendTime`, so a record's timestamp is the time the broker
 * appended it: the same clock for every system, and the end point of commit-to-Kafka latency.
 */
import { randomBytes } from 'node:crypto';
import { Consumer } from '@platformatic/kafka';

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

/** timestamp-type bit of a record batch's attributes: set when the broker stamped it (LogAppendTime) */
const LOG_APPEND_TIME = 0x08;

/**
 * Calls `fn` for records `[from, to)` of partition 0 of `topic`, in offset order, each with its broker
 * timestamp. Uses raw Fetch requests: the stream consumer of @platformatic/kafka reports a batch's create times
 * even when the broker stamped it with LogAppendTime (batch attribute bit 3, in `maxTimestamp`), as Java's
 * consumer reads it. Rejects when the records cannot all be read within `timeoutMs`.
 */
export async function scanTopic(bootstrap: string, topic: string, from: number, to: number, fn: (r: ScannedRecord) => void, timeoutMs = 300_000): Promise<void> {
  if (to <= from) return;
  const consumer = new Consumer({ ...base(bootstrap), groupId: `tributary-compare-${randomBytes(6).toString('hex')}` });
  try {
    const md = await consumer.metadata({ topics: [topic], forceUpdate: true });
    const t = md.topics.get(topic);
    if (!t) throw new Error(`topic ${topic} does not exist`);
    const leader = t.partitions[0]!.leader;
    let next = BigInt(from);
    const end = Date.now() + timeoutMs;
    while (next < BigInt(to)) {
      if (Date.now() > end) throw new Error(`timed out reading ${topic} offsets ${from}..${to} (got to ${next})`);
      const res = await consumer.fetch({
        node: leader, maxWaitTime: 200, minBytes: 1, maxBytes: 32 * 1048576,
        topics: [{ topicId: t.id, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: next, lastFetchedEpoch: -1, partitionMaxBytes: 16 * 1048576 }] }],
      });
      for (const tr of res.responses) {
        for (const p of tr.partitions) {
          if (p.errorCode) throw new Error(`fetching ${topic}: error code ${p.errorCode}`);
          for (const batch of p.records ?? []) {
            const appendTime = (batch.attributes & LOG_APPEND_TIME) !== 0;
            for (const r of batch.records) {
              const offset = batch.firstOffset + BigInt(r.offsetDelta);
              if (offset < next || offset >= BigInt(to)) continue;
              const timestamp = Number(appendTime ? batch.maxTimestamp : batch.firstTimestamp + r.timestampDelta);
              fn({ timestamp, offset: Number(offset), keyBytes: r.key?.length ?? 0, valueBytes: r.value?.length ?? 0, value: r.value });
              next = offset + 1n;
            }
            // control batches and compacted gaps: continue after the batch
            const after = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
            if (after > next) next = after;
          }
        }
      }
    }
  } finally {
    await (consumer.close(true as boolean) as unknown as Promise<void>).catch(() => undefined);
  }
}
