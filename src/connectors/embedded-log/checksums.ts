/**
 * Record checksums computed off the main thread. CRC-32 of every record written is a large part of the embedded
 * log's CPU cost (zlib's crc32 runs at ~2 GB/s: ~0.4 µs for a 650-byte record), and the main thread also runs the
 * sources and converters. A write cycle of at least OFFLOAD_MIN_BYTES hands its write buffer (transferred, not
 * copied: copies into shared memory are several times slower) to one worker thread per process and gets it back
 * with the checksums filled in, while the main thread goes on converting. Smaller cycles, and all of them when the
 * thread cannot be started, are checksummed inline.
 */
import { Worker } from 'node:worker_threads';
import { checksumRecords } from './format.js';

export const OFFLOAD_MIN_BYTES = 64 * 1024;

interface Request {
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
}

let worker: Worker | null = null;
let started: Promise<boolean> | null = null;
/** the thread runs (buffers are handed to it only then, so a thread that cannot start loses nothing) */
let online = false;
let disabled = process.env.TRIBUTARY_LOG_CHECKSUM_THREAD === '0';
let nextId = 1;
const pending = new Map<number, Request>();

function getWorker(): Worker | null {
  if (disabled) return null;
  if (worker) return online ? worker : null;
  try {
    // execArgv: the parent's flags (e.g. --input-type, --eval) may not apply to a worker started from a file
    const w = new Worker(new URL('./checksum-worker.js', import.meta.url), { execArgv: [] });
    started = new Promise<boolean>((resolve) => {
      w.once('online', () => {
        if (worker === w) online = true;
        resolve(online);
      });
      w.once('exit', () => resolve(false));
      w.once('error', () => resolve(false));
    });
    w.on('message', (m: { id: number; ab: ArrayBuffer; ok: boolean }) => {
      const r = pending.get(m.id);
      if (!r) return;
      pending.delete(m.id);
      if (pending.size === 0) w.unref();
      const b = Buffer.from(m.ab);
      if (!m.ok) {
        r.reject(new Error('the checksum thread could not read the records it was given'));
        return;
      }
      r.resolve(b);
    });
    const gone = (why: unknown) => {
      if (worker === w) {
        worker = null;
        online = false;
      }
      disabled = true; // a thread that failed once is not trusted again: inline from now on
      for (const [id, r] of pending) {
        pending.delete(id);
        r.reject(new Error(`the checksum thread stopped: ${String((why as Error)?.message ?? why)}`));
      }
    };
    w.on('error', gone);
    w.on('exit', gone);
    w.unref(); // ref'd only while it owes an answer (after the listeners: adding a 'message' listener refs again)
    worker = w;
    return null; // inline until it is online
  } catch {
    disabled = true;
    return null;
  }
}

/** Starts the thread (if it is not running); resolves true once it takes work, false if it cannot run. */
export function startChecksumThread(): Promise<boolean> {
  getWorker();
  return disabled || !started ? Promise.resolve(false) : started;
}

/**
 * Fills in the checksum of every record framed in `buf[0, end)` (`buf` as `encodeInto(…, false)` left it). Inline
 * (returns undefined) for small cycles or buffers that are views of a larger memory; otherwise `buf` is handed to
 * the thread — it is unusable (detached) from this call on — and the promise gives the buffer back, checksums in.
 * A rejection (the thread died holding it) means the buffer's content is lost: nothing of it was written.
 */
export function fillChecksums(buf: Buffer, end: number): Promise<Buffer> | undefined {
  const whole = buf.byteOffset === 0 && buf.length === buf.buffer.byteLength && !(buf.buffer instanceof SharedArrayBuffer);
  const w = whole && end >= OFFLOAD_MIN_BYTES ? getWorker() : null;
  if (!w) {
    checksumRecords(buf, 0, end);
    return undefined;
  }
  return new Promise<Buffer>((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    w.ref();
    try {
      const ab = buf.buffer as ArrayBuffer;
      w.postMessage({ id, ab, end }, [ab]);
    } catch (e) {
      // not transferred (still ours): compute here
      pending.delete(id);
      if (pending.size === 0) w.unref();
      if (buf.buffer.byteLength === 0) {
        reject(e as Error);
        return;
      }
      checksumRecords(buf, 0, end);
      resolve(buf);
    }
  });
}
