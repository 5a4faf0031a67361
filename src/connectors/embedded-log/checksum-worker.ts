/**
 * Worker thread of the embedded log: fills in the checksums of the records framed in a write buffer it is handed
 * (see checksums.ts) and hands the buffer back. Messages: `{ id, ab, end }` → `{ id, ab, ok }`, `ab` transferred.
 */
import { parentPort } from 'node:worker_threads';
import { checksumRecords } from './format.js';

parentPort?.on('message', (m: { id: number; ab: ArrayBuffer; end: number }) => {
  let ok = true;
  try {
    checksumRecords(Buffer.from(m.ab, 0, m.end), 0, m.end);
  } catch {
    ok = false;
  }
  parentPort!.postMessage({ id: m.id, ab: m.ab, ok }, [m.ab]);
});
