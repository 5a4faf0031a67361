/**
 * Kafka's default partitioner for keyed records: `toPositive(murmur2(keyBytes)) % numPartitions`, bit-for-bit the
 * same as the Java client (`org.apache.kafka.common.utils.Utils.murmur2`), so a key lands in the same partition
 * number in the embedded log as it would in Kafka. Records without a key are spread round-robin.
 */

import { murmur2, partitionForKey, toPositive } from '../kafka/murmur2.js';

// one implementation of Kafka's murmur2 partitioning serves both platforms
export { murmur2, partitionForKey, toPositive };

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
