import assert from 'node:assert/strict';
import { test } from 'node:test';
import { murmur2, partitionForKey, toPositive } from '../../../src/connectors/kafka/murmur2.js';

// Vectors computed with Apache Kafka 4.1.1's own org.apache.kafka.common.utils.Utils.murmur2 (kafka-clients jar,
// via jshell): key (UTF-8) → signed hash → toPositive(hash) % 7.
const vectors: Array<[string, number, number]> = [
  ['', 275646681, 2],
  ['0', 971027396, 3],
  ['1', -1993445489, 2],
  ['a', -1563381124, 5],
  ['ab', 316155434, 0],
  ['abc', 479470107, 4],
  ['abcd', -1323649548, 5],
  ['abcde', 461995741, 4],
  ['128', -326012175, 3],
  ['2187', -1508407203, 0],
  ['16384', -325739742, 3],
  ['78125', -1654490814, 5],
  ['279936', 1462227128, 5],
  ['823543', -2014198330, 5],
  ['2097152', 607668903, 2],
  ['4782969', -1182699775, 4],
  ['10000000', -1830336757, 5],
  ['100:48069', 1009543857, 0],
  ['city-42', -16398268, 4],
  ['{"city_id":42}', 1402862359, 3],
  ['héllo wörld ✓', -1290846696, 3],
  ['The quick brown fox jumps over the lazy dog', 495243318, 3],
];

test('murmur2 matches the Java client for known keys of every length remainder', () => {
  for (const [key, hash] of vectors) assert.equal(murmur2(Buffer.from(key, 'utf8')), hash, `key ${JSON.stringify(key)}`);
});

test('murmur2 matches the Java client for all 256 byte values in one key', () => {
  const b = new Uint8Array(256);
  for (let i = 0; i < 256; i++) b[i] = i;
  assert.equal(murmur2(b), -1948347274);
});

test('partitionForKey uses toPositive and modulo like the Java default partitioner', () => {
  for (const [key, , p7] of vectors) assert.equal(partitionForKey(Buffer.from(key, 'utf8'), 7), p7, `key ${JSON.stringify(key)}`);
  assert.equal(toPositive(-1), 0x7fffffff);
  assert.equal(toPositive(-2147483648), 0);
});
