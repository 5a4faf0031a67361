import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onStopSignal } from '../../src/cli/signals.js';

test('onStopSignal: the first signal stops, the same one again at once is ignored, one after the grace period forces', async () => {
  const stops: string[] = [];
  let forced = 0;
  const off = onStopSignal(
    (s) => stops.push(s),
    () => forced++,
  );
  try {
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGINT', 'SIGINT');
    assert.deepEqual(stops, ['SIGINT']);
    assert.equal(forced, 0, 'a repeat within the grace period is the same request');
    process.emit('SIGTERM', 'SIGTERM');
    assert.equal(forced, 1, 'another signal forces');
    await new Promise((r) => setTimeout(r, 1100));
    process.emit('SIGINT', 'SIGINT');
    assert.equal(forced, 2, 'the same signal after the grace period forces');
    assert.deepEqual(stops, ['SIGINT']);
  } finally {
    off();
  }
});
