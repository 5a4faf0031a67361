/**
 * Record checksums computed off the main thread. CRC-32 of every record written is a large part of the embedded
 * log's CPU cost (zlib's crc32 runs at ~2 GB/s; ~0.4 µs for a 650-byte record), and the main thread also runs the
 * sources and converters. Write cycles of at least OFFLOAD_MIN_BYTES, framed in a SharedArrayBuffer, are
 * checksummed by one worker thread per process while the main thread goes on converting; smaller ones, and all of
 * them if the thread cannot be used, are checksummed inline. Either way a write cycle only writes once its
 * checksums are filled in.
 */
import { Worker } from 'node:worker_threads';
import { checksumRecords } from './format.js';

export const OFFLOAD_MIN_BYTES = 64 * 1024;

interface Request {
  buf: Buffer;
  start: number;
  end: number;
  resolve: () => void;
}

let worker: Worker | null = null;
let disabled = process.env.TRIBUTARY_LOG_CHECKSUM_THREAD === '0';
let nextId = 1;
const pending = new Map<number, Request>();

function settleInline(): void {
  for (const [id, r] of pending) {
    pending.delete(id);
    checksumRecords(r.buf, r.start, r.end);
    r.resolve();
  }
}

function getWorker(): Worker | null {
  if (disabled) return null;
  if (worker) return worker;
  try {
    const w = new Worker(new URL('./checksum-worker.js', import.meta.url));
    w.unref(); // never keeps the process alive; requests in flight keep their own promise
    w.on('message', (m: { id: number; ok: boolean }) => {
      const r = pending.get(m.id);
      if (!r) return;
      pending.delete(m.id);
      if (!m.ok) checksumRecords(r.buf, r.start, r.end);
      r.resolve();
    });
    const gone = () => {
      if (worker === w) worker = null;
      disabled = true; // a thread that failed once is not trusted again; inline from now on
      settleInline();
    };
    w.on('error', gone);
    w.on('exit', gone);
    worker = w;
    return w;
  } catch {
    disabled = true;
    return null;
  }
}

/**
 * Fills in the checksum of every record framed in `buf[start, end)`. `buf` must not be touched until the promise
 * resolves. Never rejects: any failure of the thread falls back to computing inline.
 */
export function fillChecksums(buf: Buffer, start: number, end: number): Promise<void> | undefined {
  const shared = buf.buffer instanceof SharedArrayBuffer;
  const w = shared && end - start >= OFFLOAD_MIN_BYTES ? getWorker() : null;
  if (!w) {
    checksumRecords(buf, start, end);
    return undefined;
  }
  return new Promise<void>((resolve) => {
    const id = nextId++;
    pending.set(id, { buf, start, end, resolve });
    try {
      w.ref(); // keep the thread alive while it owes an answer
      w.postMessage({ id, sab: buf.buffer, start: buf.byteOffset + start, end: buf.byteOffset + end });
    } catch {
      pending.delete(id);
      checksumRecords(buf, start, end);
      resolve();
    }
  }).finally(() => {
    if (pending.size === 0) worker?.unref();
  });
}
