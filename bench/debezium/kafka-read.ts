/**
 * Reading whole topics back from Kafka for comparisons, with @platformatic/kafka directly (not through
 * Tributary's platform, so the reader is independent of the code under comparison).
 */
import { randomBytes } from 'node:crypto';
import { Admin, Consumer, MessagesStreamModes } from '@platformatic/kafka';

export interface ReadRecord {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<[string, Buffer | null]>;
}

const base = (bootstrap: string) => ({ clientId: `tributary-compat-${randomBytes(3).toString('hex')}`, bootstrapBrokers: bootstrap.split(','), strict: false });

/** Names of the topics that exist (internal ones excluded). */
export async function listTopics(bootstrap: string): Promise<string[]> {
  const admin = new Admin(base(bootstrap));
  try {
    return await admin.listTopics({ includeInternals: false });
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** Number of records in each topic (sum over partitions of end offsets; no compaction or transactions here). */
export async function topicCounts(bootstrap: string, topics: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const existing = new Set(await listTopics(bootstrap));
  const present = topics.filter((t) => existing.has(t));
  for (const t of topics) out.set(t, 0);
  if (!present.length) return out;
  const consumer = new Consumer({ ...base(bootstrap), groupId: `tributary-compat-${randomBytes(6).toString('hex')}` });
  try {
    const ends = await consumer.listOffsets({ topics: present });
    for (const [t, offs] of ends) out.set(t, offs.reduce((n, o) => n + Number(o), 0));
  } finally {
    await (consumer.close(true as boolean) as unknown as Promise<void>).catch(() => undefined);
  }
  return out;
}

/**
 * Every record of `topics` from the beginning up to their end offsets at call time, in offset order per
 * partition. Topics that do not exist give an empty list.
 */
export async function readTopics(bootstrap: string, topics: string[], timeoutMs = 60_000): Promise<Map<string, ReadRecord[]>> {
  const out = new Map<string, ReadRecord[]>(topics.map((t) => [t, []]));
  const existing = new Set(await listTopics(bootstrap));
  const present = topics.filter((t) => existing.has(t));
  if (!present.length) return out;
  const consumer = new Consumer({ ...base(bootstrap), groupId: `tributary-compat-${randomBytes(6).toString('hex')}`, autocommit: false, maxWaitTime: 200 });
  try {
    const ends = await consumer.listOffsets({ topics: present });
    const remaining = new Map<string, bigint>();
    for (const [t, offs] of ends) offs.forEach((o, p) => o > 0n && remaining.set(`${t}:${p}`, o));
    if (!remaining.size) return out;
    const stream = await consumer.consume({ topics: present, mode: MessagesStreamModes.EARLIEST, autocommit: false });
    const timer = setTimeout(() => void stream.close(), timeoutMs);
    try {
      for await (const m of stream) {
        const headers: Array<[string, Buffer | null]> = [];
        for (const [k, v] of m.headers as Map<Buffer, Buffer | null>) headers.push([Buffer.from(k).toString('utf8'), v ?? null]);
        const key = `${m.topic}:${m.partition}`;
        const end = remaining.get(key);
        if (end === undefined || m.offset >= end) continue;
        out.get(m.topic)!.push({
          topic: m.topic,
          partition: m.partition,
          offset: m.offset,
          timestamp: m.timestamp,
          key: (m.key as Buffer | null | undefined) ?? null,
          value: (m.value as Buffer | null | undefined) ?? null,
          headers,
        });
        if (m.offset + 1n >= end) remaining.delete(key);
        if (!remaining.size) break;
      }
    } finally {
      clearTimeout(timer);
      await stream.close().catch(() => undefined);
    }
    if (remaining.size) throw new Error(`timed out reading ${[...remaining.keys()].join(', ')} to their end offsets`);
  } finally {
    await (consumer.close(true as boolean) as unknown as Promise<void>).catch(() => undefined);
  }
  for (const recs of out.values()) recs.sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset));
  return out;
}
