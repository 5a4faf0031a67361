/**
 * Log sequence numbers as JavaScript numbers (exact below 2^53 bytes of WAL, i.e. 8 PiB — far beyond any
 * cluster's lifetime WAL volume; parse/format still handle the full 64-bit text form for display).
 */
export type Lsn = number;

const TWO32 = 4294967296;

export function parseLsn(text: string): Lsn {
  const slash = text.indexOf('/');
  if (slash < 0) throw new Error(`invalid LSN '${text}'`);
  const hi = parseInt(text.slice(0, slash), 16);
  const lo = parseInt(text.slice(slash + 1), 16);
  if (!Number.isFinite(hi) || !Number.isFinite(lo)) throw new Error(`invalid LSN '${text}'`);
  return hi * TWO32 + lo;
}

export function formatLsn(lsn: Lsn): string {
  const hi = Math.floor(lsn / TWO32);
  const lo = lsn - hi * TWO32;
  return `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()}`;
}

export function readLsn(buf: Buffer, off: number): Lsn {
  return buf.readUInt32BE(off) * TWO32 + buf.readUInt32BE(off + 4);
}

export function writeLsn(buf: Buffer, off: number, lsn: Lsn): void {
  const hi = Math.floor(lsn / TWO32);
  buf.writeUInt32BE(hi, off);
  buf.writeUInt32BE(lsn - hi * TWO32, off + 4);
}

/** Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01). */
export const PG_EPOCH_OFFSET_US = 946684800000000;

/** Reads a PostgreSQL TimestampTz (int64 µs since 2000-01-01) as µs since the Unix epoch (a safe integer). */
export function readPgTimestampUs(buf: Buffer, off: number): number {
  const hi = buf.readInt32BE(off);
  const lo = buf.readUInt32BE(off + 4);
  return hi * TWO32 + lo + PG_EPOCH_OFFSET_US;
}

export function nowPgTimestamp(buf: Buffer, off: number): void {
  const us = Date.now() * 1000 - PG_EPOCH_OFFSET_US;
  const hi = Math.floor(us / TWO32);
  buf.writeInt32BE(hi, off);
  buf.writeUInt32BE(us - hi * TWO32, off + 4);
}
