/**
 * The small variant of the fault-injection suite (`npm run chaos` is the full one, see bench/chaos/harness.ts and
 * docs/guarantees.md): 2,000 single-row transactions while the `tributary server` child is killed with -9 three
 * times, on the embedded log (plus a PostgreSQL restart and a SIGSTOP longer than wal_sender_timeout) and on
 * Kafka (plus a kill -9 of the broker). Every committed change must be delivered, per key in commit order with
 * duplicates only as replayed suffixes, and confirmed_flush_lsn must never cover an event not yet in the platform.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDelivery, checkFlush, type DeliveredEvent } from '../../bench/chaos/checker.js';
import { runChaos, type ChaosReport } from '../../bench/chaos/harness.js';
import { formatReport } from '../../bench/chaos/main.js';
import { ownBrokerUnavailable, startOwnBroker } from '../connectors/kafka/broker-fixture.js';

const ev = (k: number, seq: number, offset: number, commitLsn: number | null = null, partition = 0): DeliveredEvent => ({ partition, offset, k, seq, commitLsn });
const seqs = (k: number, list: number[]) => list.map((seq, offset) => ev(k, seq, offset));
const pick = (f: { violations: number; tight: number }) => ({ violations: f.violations, tight: f.tight });
const committed = (k: number, n: number) => Array.from({ length: n }, (_, i) => ({ k, seq: i + 1 }));

test('the checker: replayed suffixes pass; gaps, reordering, skips inside a replay and a flush ahead of the platform are caught', () => {
  // 1..5 with a replay of 3..5 and another of 5: fine
  let r = checkDelivery(committed(1, 5), seqs(1, [1, 2, 3, 4, 5, 3, 4, 5, 5]));
  assert.deepEqual([r.missing, r.duplicated, r.outOfOrderKeys, r.replays], [0, 4, 0, 2]);
  // a replay may restart before its own end (killed again while replaying)
  r = checkDelivery(committed(1, 6), seqs(1, [1, 2, 3, 4, 2, 3, 1, 2, 3, 4, 5, 6]));
  assert.deepEqual([r.missing, r.outOfOrderKeys], [0, 0]);
  // a missing event is missing, not also out of order
  r = checkDelivery(committed(1, 5), seqs(1, [1, 2, 4, 5]));
  assert.deepEqual([r.missing, r.outOfOrderKeys], [1, 0]);
  // reordered: 4 before 3
  r = checkDelivery(committed(1, 5), seqs(1, [1, 2, 4, 3, 5]));
  assert.deepEqual([r.missing, r.outOfOrderKeys, r.nonSuffixDuplicateKeys], [0, 1, 0]);
  // a replay that skips: 1..5, then 2, 4, … — 3 was delivered before but not re-delivered with its run
  r = checkDelivery(committed(1, 6), seqs(1, [1, 2, 3, 4, 5, 2, 4, 5, 6]));
  assert.deepEqual([r.missing, r.outOfOrderKeys, r.nonSuffixDuplicateKeys], [0, 1, 1]);
  // a replay that stops short and jumps to new data: 1..5, 3, 6
  r = checkDelivery(committed(1, 6), seqs(1, [1, 2, 3, 4, 5, 3, 6]));
  assert.deepEqual([r.outOfOrderKeys, r.nonSuffixDuplicateKeys], [1, 1]);
  // never committed, and a key in two partitions
  r = checkDelivery(committed(1, 2), [ev(1, 1, 0), ev(1, 2, 0, null, 1), ev(1, 9, 1)]);
  assert.deepEqual([r.unexpected, r.outOfOrderKeys], [1, 1]);
  // keys are independent: interleaving across keys is not a problem
  r = checkDelivery([...committed(1, 2), ...committed(2, 2)], [ev(2, 1, 0), ev(1, 1, 1), ev(1, 2, 2), ev(2, 2, 3)]);
  assert.deepEqual([r.missing, r.outOfOrderKeys, r.duplicated], [0, 0, 0]);

  // flush: events committed at LSN 100, 200 (offsets 0, 1 of partition 0) and 300 (offset 0 of partition 1)
  const events = [ev(1, 1, 0, 100), ev(1, 2, 1, 200), ev(2, 1, 0, 300, 1), ev(1, 1, 2, 100) /* a later copy */];
  assert.deepEqual(pick(checkFlush(events, [{ at: 0, flush: 250, ends: [2, 0] }])), { violations: 0, tight: 1 }, 'offset 1 covered, end 2: tight');
  assert.deepEqual(pick(checkFlush(events, [{ at: 0, flush: 150, ends: [2, 0] }])), { violations: 0, tight: 0 }, 'offset 0 covered, offset 1 present but not covered');
  // transactions: a commit marker at offset 1, the records at 0 and 2; end offset 4 (marker at 3): covering 2 is tight
  const txEvents = [ev(1, 1, 0, 100), ev(1, 2, 2, 200)];
  assert.deepEqual(pick(checkFlush(txEvents, [{ at: 0, flush: 250, ends: [4] }])), { violations: 0, tight: 1 });
  assert.equal(checkFlush(events, [{ at: 0, flush: 201, ends: [1, 0] }]).violations, 1, 'the event at 200 was not in the platform');
  assert.equal(checkFlush(events, [{ at: 0, flush: 200, ends: [1, 0] }]).violations, 0, 'a flush at a commit LSN does not cover that commit');
  assert.equal(checkFlush(events, [{ at: 0, flush: 301, ends: [2, 0] }]).violations, 1, 'partition 1 was empty');
  assert.equal(checkFlush(events, [{ at: 0, flush: 301, ends: [2, 1] }, { at: 1, flush: 50, ends: [0, 0] }]).violations, 0);
});

function assertClean(r: ChaosReport, minKills: number): void {
  const text = formatReport(r);
  assert.equal(r.committed, 2000, text);
  assert.equal(r.missing, 0, text);
  assert.equal(r.unexpected, 0, text);
  assert.equal(r.outOfOrderKeys, 0, text);
  assert.equal(r.flushViolations, 0, text);
  assert.ok(r.flushSamples >= 20, `flush samples (${r.flushSamples})\n${text}`);
  assert.ok(r.faults.tributaryKills >= minKills, text);
  assert.deepEqual(r.failures, [], text);
  assert.ok(r.ok, text);
}

test('chaos, embedded log: 2,000 changes, 3 kill -9 of the server, a PostgreSQL restart, a SIGSTOP past wal_sender_timeout', { timeout: 180_000 }, async (t) => {
  const r = await runChaos({
    platform: 'embedded', rows: 2000, minutes: 0.4, kills: 3, pgRestarts: 1, pauses: 1, pauseSeconds: 7, walSenderTimeoutSeconds: 4,
    writers: 4, keys: 16, log: (s) => t.diagnostic(s),
  });
  t.diagnostic(formatReport(r));
  assertClean(r, 3);
  assert.equal(r.faults.pgRestarts, 1);
  assert.equal(r.faults.pauses, 1);
});

test('chaos, Kafka: 2,000 changes, 3 kill -9 of the server, a kill -9 of the broker', { timeout: 240_000 }, async (t) => {
  const skip = ownBrokerUnavailable();
  if (skip) return t.skip(skip);
  const broker = await startOwnBroker();
  try {
    const r = await runChaos({
      platform: 'kafka', broker, rows: 2000, minutes: 0.5, kills: 3, brokerKills: 1, pgRestarts: 0, pauses: 0,
      writers: 4, keys: 16, partitions: 3, log: (s) => t.diagnostic(s),
    });
    t.diagnostic(formatReport(r));
    assertClean(r, 3);
    assert.equal(r.faults.brokerKills, 1);
  } finally {
    await broker.stop();
  }
});
