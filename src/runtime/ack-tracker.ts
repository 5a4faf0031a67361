import { partitionKey, type SourceOffset, type SourcePartition } from '../sdk/record.js';

interface Batch {
  seq: number;
  acked: boolean;
  /** last offset per partition within the batch */
  offsets: Map<string, { partition: SourcePartition; offset: SourceOffset }>;
  records: number;
  bytes: number;
}

/**
 * Tracks batches in flight and yields the offsets that may be committed: the ack invariant lives here.
 * A batch's offsets become committable only when it and every batch before it are acknowledged; acks that
 * arrive out of order wait for the gap to close.
 */
export class AckTracker {
  #seq = 0;
  #queue: Batch[] = [];
  /** committable offsets not yet taken by `drainCommittable` */
  #ready = new Map<string, { partition: SourcePartition; offset: SourceOffset }>();
  inflightRecords = 0;
  inflightBytes = 0;

  /** registers a batch in poll order; returns its id */
  add(records: Array<{ sourcePartition: SourcePartition; sourceOffset: SourceOffset }>, bytes: number): number {
    const offsets = new Map<string, { partition: SourcePartition; offset: SourceOffset }>();
    // the last record of each run of one partition object carries that run's offset: one entry per run, not per record
    const n = records.length;
    for (let i = 0; i < n; i++) {
      const p = records[i]!.sourcePartition;
      if (i + 1 < n && records[i + 1]!.sourcePartition === p) continue;
      const k = partitionKey(p);
      offsets.set(k, { partition: p, offset: records[i]!.sourceOffset });
    }
    const b: Batch = { seq: ++this.#seq, acked: false, offsets, records: records.length, bytes };
    this.#queue.push(b);
    this.inflightRecords += b.records;
    this.inflightBytes += bytes;
    return b.seq;
  }

  /** the offsets a batch covers (last offset per source partition in it), e.g. to commit them with the batch */
  offsetsOf(seq: number): Array<{ partition: SourcePartition; offset: SourceOffset }> {
    const b = this.#queue.find((x) => x.seq === seq);
    return b ? [...b.offsets.values()] : [];
  }

  ack(seq: number): void {
    const b = this.#queue.find((x) => x.seq === seq);
    if (!b) return;
    b.acked = true;
    while (this.#queue.length && this.#queue[0]!.acked) {
      const head = this.#queue.shift()!;
      this.inflightRecords -= head.records;
      this.inflightBytes -= head.bytes;
      for (const [k, v] of head.offsets) this.#ready.set(k, v);
    }
  }

  /** offsets safe to commit since the last call */
  drainCommittable(): Array<{ partition: SourcePartition; offset: SourceOffset }> {
    const out = [...this.#ready.values()];
    this.#ready.clear();
    return out;
  }

  get pending(): number {
    return this.#queue.length;
  }

  /** forget unacknowledged batches (after a failure, they will be polled or resent again) */
  reset(): void {
    this.#queue = [];
    this.inflightRecords = 0;
    this.inflightBytes = 0;
  }
}
