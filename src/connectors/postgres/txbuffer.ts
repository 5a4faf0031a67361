/**
 * Buffer for the chunks of one streamed (in-progress) transaction. Nothing is published before Stream Commit;
 * Stream Abort discards the transaction (or one subtransaction). Memory is bounded in bytes: beyond the limit the
 * messages go to a temporary file, read back in blocks on commit.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

export interface BufferedMessage {
  subxid: number;
  /** LSN of the change (XLogData start) */
  lsn: number;
  buf: Buffer;
}

const HDR = 16;
/** spill writes go through one buffer of this size (few system calls); replay reads blocks of this size into one reused buffer */
const BLOCK = 1 << 20;

export class StreamedTxBuffer {
  readonly xid: number;
  private mem: BufferedMessage[] = [];
  private memBytes = 0;
  private spillDir: string | null = null;
  private spillPath: string | null = null;
  private fd: number | null = null;
  private spilledBytes = 0;
  private spilledCount = 0;
  private wbuf: Buffer | null = null;
  private wlen = 0;
  private aborted = new Set<number>();
  count = 0;

  constructor(xid: number, private readonly memLimit: number, private readonly tmpDir: string) {
    this.xid = xid;
  }

  get bytes(): number {
    return this.memBytes + this.spilledBytes;
  }

  get spilled(): boolean {
    return this.fd !== null;
  }

  /** Copies buf[start, end) into the buffer (the source chunk is reused by the socket reader). */
  append(subxid: number, lsn: number, buf: Buffer, start: number, end: number): void {
    const len = end - start;
    this.count++;
    if (this.fd === null && this.memBytes + len <= this.memLimit) {
      const copy = Buffer.allocUnsafe(len);
      buf.copy(copy, 0, start, end);
      this.mem.push({ subxid, lsn, buf: copy });
      this.memBytes += len;
      return;
    }
    if (this.fd === null) {
      this.spillDir = mkdtempSync(join(this.tmpDir, `tributary-pgtx-${this.xid}-`));
      this.spillPath = join(this.spillDir, 'tx.bin');
      this.fd = openSync(this.spillPath, 'w', 0o600);
      for (const m of this.mem) this.writeRecord(m.subxid, m.lsn, m.buf, 0, m.buf.length);
      this.mem = [];
      this.memBytes = 0;
    }
    this.writeRecord(subxid, lsn, buf, start, end);
  }

  private writeRecord(subxid: number, lsn: number, buf: Buffer, start: number, end: number): void {
    const len = end - start;
    this.wbuf ??= Buffer.allocUnsafe(BLOCK);
    if (this.wlen + HDR + len > BLOCK) this.flushWrites();
    const w = this.wbuf;
    if (HDR + len > BLOCK) {
      // a message larger than the write buffer: header and body written directly
      const h = Buffer.allocUnsafe(HDR);
      h.writeUInt32BE(len, 0);
      h.writeUInt32BE(subxid, 4);
      h.writeDoubleBE(lsn, 8);
      writeSync(this.fd!, h);
      writeSync(this.fd!, buf, start, len);
    } else {
      w.writeUInt32BE(len, this.wlen);
      w.writeUInt32BE(subxid, this.wlen + 4);
      w.writeDoubleBE(lsn, this.wlen + 8);
      buf.copy(w, this.wlen + HDR, start, end);
      this.wlen += HDR + len;
    }
    this.spilledBytes += HDR + len;
    this.spilledCount++;
  }

  private flushWrites(): void {
    let off = 0;
    while (off < this.wlen) off += writeSync(this.fd!, this.wbuf!, off, this.wlen - off);
    this.wlen = 0;
  }

  /** a subtransaction aborted: its changes are dropped on replay */
  abortSub(subxid: number): void {
    this.aborted.add(subxid);
    if (this.fd === null) {
      const keep = this.mem.filter((m) => m.subxid !== subxid || m.subxid === 0);
      this.memBytes = keep.reduce((n, m) => n + m.buf.length, 0);
      this.mem = keep;
    }
  }

  isAborted(subxid: number): boolean {
    return this.aborted.has(subxid);
  }

  /**
   * Yields the buffered messages in order, reading a spill file in blocks into one reused buffer: a yielded
   * message's `buf` is valid only until the next iteration (the consumer decodes it before asking for more).
   */
  async *replay(): AsyncGenerator<BufferedMessage> {
    if (this.fd === null) {
      for (const m of this.mem) yield m;
      return;
    }
    this.flushWrites();
    this.wbuf = null;
    closeSync(this.fd);
    this.fd = -1;
    const fh = await open(this.spillPath!, 'r');
    try {
      let buf = Buffer.allocUnsafe(BLOCK);
      let have = 0;
      let fileOff = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, have, buf.length - have, fileOff);
        fileOff += bytesRead;
        have += bytesRead;
        let p = 0;
        while (p + HDR <= have) {
          const len = buf.readUInt32BE(p);
          if (p + HDR + len > have) break;
          const subxid = buf.readUInt32BE(p + 4);
          const lsn = buf.readDoubleBE(p + 8);
          yield { subxid, lsn, buf: buf.subarray(p + HDR, p + HDR + len) };
          p += HDR + len;
        }
        if (bytesRead === 0) break;
        const rest = have - p;
        if (rest > 0) {
          const need = rest >= HDR ? HDR + buf.readUInt32BE(p) : HDR;
          if (need > buf.length) {
            const next = Buffer.allocUnsafe(need);
            buf.copy(next, 0, p, have);
            buf = next;
          } else {
            buf.copyWithin(0, p, have);
          }
        } else if (buf.length > BLOCK) {
          buf = Buffer.allocUnsafe(BLOCK);
        }
        have = rest;
      }
    } finally {
      await fh.close();
    }
  }

  /** Releases memory and removes the spill file. */
  dispose(): void {
    if (this.fd !== null && this.fd >= 0) {
      try { closeSync(this.fd); } catch { /* already closed */ }
    }
    this.fd = null;
    this.wbuf = null;
    this.wlen = 0;
    if (this.spillDir) rmSync(this.spillDir, { recursive: true, force: true });
    this.spillDir = null;
    this.mem = [];
    this.memBytes = 0;
  }
}
