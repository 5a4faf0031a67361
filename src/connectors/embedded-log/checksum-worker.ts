/**
 * Worker thread of the embedded log: fills in the checksums of records framed in a shared write buffer (see
 * checksums.ts). Messages: `{ id, sab, start, end }` → `{ id, ok }`.
 */
import { parentPort } from 'node:worker_threads';
import { checksumRecords } from './format.js';

parentPort?.on('message', (m: { id: number; sab: SharedArrayBuffer; start: number; end: number }) => {
  let ok = true;
  try {
    checksumRecords(Buffer.from(m.sab), m.start, m.end);
  } catch {
    ok = false;
  }
  parentPort!.postMessage({ id: m.id, ok });
});
