/**
 * Kafka's default partitioner for keyed records: `toPositive(murmur2(keyBytes)) % numPartitions`, bit-for-bit the
 * same as the Java client (`org.apache.kafka.common.utils.Utils.murmur2`), so a key lands in the same partition
 * number in the embedded log as it would in Kafka. Records without a key are spread round-robin.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 hash (32-bit, signed result like Java's `int`). */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest > 0) {
    // Java's switch falls through 3 → 2 → 1
    if (rest === 3) h ^= data[tail + 2]! << 16;
    if (rest >= 2) h ^= data[tail + 1]! << 8;
    h ^= data[tail]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not `Math.abs`, which differs for negative numbers). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** Partition of a keyed record, as Kafka's default partitioner computes it. */
export function partitionForKey(key: Uint8Array, numPartitions: number): number {
  return toPositive(murmur2(key)) % numPartitions;
}

/**
 * Chooses partitions for one topic: the explicit partition when given (checked against the partition count),
 * murmur2 of the key otherwise, and round-robin for null keys (a counter kept per topic).
 */
export class Partitioner {
  #next = 0;

  constructor(readonly numPartitions: number) {}

  /** Returns the partition, or throws a RangeError for an explicit partition out of range. */
  choose(explicit: number | undefined, key: Uint8Array | null): number {
    if (explicit !== undefined && explicit !== null) {
      if (!Number.isInteger(explicit) || explicit < 0 || explicit >= this.numPartitions) {
        throw new RangeError(`partition ${String(explicit)} is out of range (topic has ${this.numPartitions})`);
      }
      return explicit;
    }
    if (this.numPartitions === 1) return 0;
    if (key !== null) return partitionForKey(key, this.numPartitions);
    const p = this.#next;
    this.#next = (p + 1) % this.numPartitions;
    return p;
  }
}
