/**
 * Reading the platform from outside the Tributary process, for the chaos checker: the end offsets of a topic
 * (sampled right after the slot's confirmed_flush_lsn) and every record of a topic at the end of the run.
 *
 * - Embedded log: the server's `<data-dir>/log`, opened read-only (no writer lock), as `tributary sql` PRINT does.
 *   The end offset counts the records in the files.
 * - Kafka: @platformatic/kafka directly (not Tributary's platform, so the reader is independent of the code under
 *   test). End offsets are ListOffsets(latest): the high watermark — records acknowledged with acks=all — or, with
 *   `readCommitted`, the last stable offset; reading uses isolation level read_committed in that case.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Admin, Consumer, FetchIsolationLevels, MessagesStreamModes } from '@platformatic/kafka';
import { createEmbeddedLog, type EmbeddedLog } from '../../src/connectors/embedded-log/index.js';
import { createKafkaPlatform } from '../../src/connectors/kafka/platform.js';
import { readCommitted } from '../../src/connectors/kafka/transactions.js';
import { createLogger } from '../../src/runtime/logger.js';

export interface ReadRecord {
  partition: number;
  offset: number;
  /** record timestamp (ms): for CDC events the source commit time */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
}

export interface PlatformProbe {
  /** end offset of each partition of `topic`, or null when the topic does not exist yet */
  endOffsets(topic: string): Promise<number[] | null>;
  /** every record of `topic` up to its end offsets at call time, in offset order per partition */
  readAll(topic: string, timeoutMs?: number): Promise<ReadRecord[]>;
  close(): Promise<void>;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}

export async function embeddedProbe(dataDir: string): Promise<PlatformProbe> {
  const dir = join(dataDir, 'log');
  let log: EmbeddedLog | null = null;
  const open = async () => (log ??= await createEmbeddedLog({ dir, readOnly: true }));
  return {
    async endOffsets(topic) {
      const l = await open();
      if (!(await l.describeTopic(topic))) return null;
      return l.endOffsets(topic);
    },
    async readAll(topic) {
      const l = await open();
      if (!(await l.describeTopic(topic))) return [];
      const ends = await l.endOffsets(topic);
      const out: ReadRecord[] = [];
      for (let p = 0; p < ends.length; p++) {
        for (let off = 0; off < ends[p]!; ) {
          const batch = await l.readPartition(topic, p, off, 5000);
          if (!batch.length) break;
          for (const r of batch) out.push({ partition: p, offset: Number(r.offset), timestamp: Number(r.timestamp), key: r.key, value: r.value });
          off = Number(batch.at(-1)!.offset) + 1;
        }
      }
      return out;
    },
    async close() {
      await log?.close();
      log = null;
    },
  };
}

export function kafkaProbe(bootstrap: string, opts: { readCommitted: boolean }): PlatformProbe {
  const isolationLevel = opts.readCommitted ? FetchIsolationLevels.READ_COMMITTED : FetchIsolationLevels.READ_UNCOMMITTED;
  const base = () => ({
    clientId: `tributary-chaos-${randomBytes(3).toString('hex')}`,
    bootstrapBrokers: bootstrap.split(','),
    strict: false,
    timeout: 3000,
    connectTimeout: 2000,
    retries: 1,
    retryDelay: 200,
  });
  let consumer: Consumer | null = null;
  let admin: Admin | null = null;
  const getConsumer = () => (consumer ??= new Consumer({ ...base(), groupId: `tributary-chaos-${randomBytes(6).toString('hex')}`, autocommit: false, isolationLevel }));
  const getAdmin = () => (admin ??= new Admin(base()));
  // after an error (a broker restart, a timeout) start from fresh clients
  const reset = async () => {
    const c = consumer;
    const a = admin;
    consumer = null;
    admin = null;
    await (c?.close(true as boolean) as unknown as Promise<void> | undefined)?.catch(() => undefined);
    await a?.close().catch(() => undefined);
  };
  const exists = async (topic: string) => (await withTimeout(getAdmin().listTopics({ includeInternals: false }), 4000, 'listTopics')).includes(topic);

  return {
    async endOffsets(topic) {
      try {
        if (!(await exists(topic))) return null;
        const ends = await withTimeout(getConsumer().listOffsets({ topics: [topic], isolationLevel }), 4000, 'listOffsets');
        const offs = ends.get(topic);
        return offs ? offs.map((o) => Number(o)) : null;
      } catch (e) {
        await reset();
        throw e;
      }
    },
    async readAll(topic, timeoutMs = 300_000) {
      if (!(await exists(topic))) return [];
      if (opts.readCommitted) {
        // read_committed through Tributary's reader (transactional records held until their marker): the stream
        // consumer's own read_committed filter drops committed records between two aborts of one producer id
        const out: ReadRecord[] = [];
        const settings = createKafkaPlatform({ 'bootstrap.servers': bootstrap }, createLogger({ component: 'chaos' })).settings;
        await readCommitted(settings, topic, (key, value, partition, offset, timestamp) => out.push({ partition, offset: Number(offset), timestamp, key, value }));
        out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
        return out;
      }
      const ends = (await getConsumer().listOffsets({ topics: [topic], isolationLevel })).get(topic)!.map((o) => Number(o));
      const out: ReadRecord[] = [];
      const remaining = new Map<number, number>();
      ends.forEach((end, p) => end > 0 && remaining.set(p, end));
      if (!remaining.size) return out;
      const reader = new Consumer({ ...base(), timeout: 30_000, retries: 5, groupId: `tributary-chaos-read-${randomBytes(6).toString('hex')}`, autocommit: false, maxWaitTime: 300, isolationLevel });
      try {
        const stream = await reader.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false });
        // under read_committed, transaction markers take offsets that are never delivered: the last record of a
        // partition may lie below end - 1, so an idle stream after every partition was seen also ends the read
        let lastAt = Date.now();
        const deadline = Date.now() + timeoutMs;
        const idle = setInterval(() => {
          if (Date.now() > deadline || (opts.readCommitted && Date.now() - lastAt > 5000)) void stream.close();
        }, 250);
        try {
          for await (const m of stream) {
            lastAt = Date.now();
            const end = remaining.get(m.partition);
            const offset = Number(m.offset);
            if (end === undefined || offset >= end) continue;
            out.push({ partition: m.partition, offset, timestamp: Number(m.timestamp), key: (m.key as Buffer | null | undefined) ?? null, value: (m.value as Buffer | null | undefined) ?? null });
            if (offset + 1 >= end) remaining.delete(m.partition);
            if (!remaining.size) break;
          }
        } finally {
          clearInterval(idle);
          await stream.close().catch(() => undefined);
        }
        if (remaining.size && !opts.readCommitted) throw new Error(`timed out reading partitions ${[...remaining.keys()].join(', ')} of ${topic} to their end offsets`);
      } finally {
        await (reader.close(true as boolean) as unknown as Promise<void>).catch(() => undefined);
      }
      out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
      return out;
    },
    close: reset,
  };
}
