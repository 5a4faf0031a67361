/**
 * Kafka's produce request (v9) holding one record batch (magic 2), written straight into one Buffer.
 *
 * The client libraries build a batch from many small buffers (one writer per record, one buffer per varint) and
 * concatenate them twice (for the CRC and for the socket): at tens of thousands of records per second that is a
 * large share of Tributary's CPU and garbage. Here the size of the whole request is computed first, one buffer
 * of that size is allocated, every field is written in place, and the CRC-32C is taken over it once.
 *
 * Layouts (https://kafka.apache.org/documentation/#recordbatch and the Produce request in Kafka's protocol guide):
 *
 *   ProduceRequest v9 => transactional_id acks timeout_ms [topic_data] TAG_BUFFER   (flexible: compact types)
 *     topic_data => name [partition_data] TAG_BUFFER
 *       partition_data => index records TAG_BUFFER
 *   RecordBatch => baseOffset:int64 batchLength:int32 partitionLeaderEpoch:int32 magic:int8 crc:uint32
 *                  attributes:int16 lastOffsetDelta:int32 baseTimestamp:int64 maxTimestamp:int64
 *                  producerId:int64 producerEpoch:int16 baseSequence:int32 records:[Record] (int32 count)
 *   Record => length:varint attributes:int8 timestampDelta:varlong offsetDelta:varint key:varbytes
 *             value:varbytes headers:[headerKey:varstring headerValue:varbytes] (varint count)
 *
 * The CRC-32C covers attributes through the end of the batch; with compression the records (only) are
 * compressed and the batch's attribute bits name the codec.
 */
import { compressionsAlgorithms, crc32c } from '@platformatic/kafka';
import type { Header, PlatformRecord } from '../../sdk/record.js';
import type { CompressionType } from './config.js';

/** bytes of the batch header before the first record (baseOffset … record count) */
const BATCH_HEADER = 61;
/** offset of the attributes field: where the CRC starts */
const CRC_START = 21;
const CODEC_BITS: Record<CompressionType, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

/** Size of an unsigned varint (values below 2^53). */
function uvarintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** zigzag of a signed integer (|v| < 2^52) as a non-negative number */
const zigzag = (v: number): number => (v >= 0 ? v * 2 : -v * 2 - 1);

function writeUvarint(buf: Buffer, pos: number, v: number): number {
  while (v >= 128) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v = v >= 2 ** 31 ? Math.floor(v / 128) : v >>> 7;
  }
  buf[pos++] = v;
  return pos;
}

/** Size of a varint-length-prefixed byte string as records and headers hold it (null: length -1, one byte). */
const varBytesSize = (b: Uint8Array | null): number => (b ? uvarintSize(zigzag(b.length)) + b.length : 1);

/** Writes a varint-length-prefixed byte string (null: zigzag(-1)); returns the position after it. */
function writeVarBytes(buf: Buffer, pos: number, b: Uint8Array | null): number {
  if (!b) {
    buf[pos] = 1;
    return pos + 1;
  }
  pos = writeUvarint(buf, pos, zigzag(b.length));
  buf.set(b, pos);
  return pos + b.length;
}

/** Per-record sizes worked out in one pass, reused by the writing pass. */
interface Sizing {
  /** body size of each record (after its length varint) */
  bodies: number[];
  /** each record's encoded headers (count and entries) */
  headerBlocks: Buffer[];
  /** all records' bytes, length varints included */
  total: number;
  baseTimestamp: number;
  maxTimestamp: number;
}

const NO_HEADERS: Buffer = Buffer.from([0]);

/** A record's headers as written in a batch: count, then each key and value with varint lengths. */
function encodeHeaders(hs: readonly Header[]): Buffer {
  const keys = hs.map((h) => Buffer.from(h.key, 'utf8'));
  const values = hs.map((h) => (h.value === null ? null : typeof h.value === 'string' ? Buffer.from(h.value, 'utf8') : h.value));
  let n = uvarintSize(zigzag(hs.length));
  for (let i = 0; i < hs.length; i++) n += varBytesSize(keys[i]!) + varBytesSize(values[i]!);
  const b = Buffer.allocUnsafe(n);
  let pos = writeUvarint(b, 0, zigzag(hs.length));
  for (let i = 0; i < hs.length; i++) pos = writeVarBytes(b, writeVarBytes(b, pos, keys[i]!), values[i]!);
  return b;
}

function size(records: readonly PlatformRecord[]): Sizing {
  const bodies = new Array<number>(records.length);
  const headerBlocks = new Array<Buffer>(records.length);
  const baseTimestamp = records[0]!.timestamp;
  let maxTimestamp = baseTimestamp;
  let total = 0;
  // records of one source usually share one headers array (context headers): encoded once per batch
  let lastHeaders: readonly Header[] | undefined;
  let lastBlock: Buffer = NO_HEADERS;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
    let n = 1 + uvarintSize(zigzag(r.timestamp - baseTimestamp)) + uvarintSize(zigzag(i));
    n += varBytesSize(r.key) + varBytesSize(r.value);
    const hs = r.headers;
    let block = NO_HEADERS;
    if (hs && hs.length) {
      if (hs !== lastHeaders) {
        lastHeaders = hs;
        lastBlock = encodeHeaders(hs);
      }
      block = lastBlock;
    }
    headerBlocks[i] = block;
    n += block.length;
    bodies[i] = n;
    total += uvarintSize(zigzag(n)) + n;
  }
  return { bodies, headerBlocks, total, baseTimestamp, maxTimestamp };
}

/** Writes the records (as sized) at `pos`; returns the position after them. */
function writeRecords(buf: Buffer, pos: number, records: readonly PlatformRecord[], s: Sizing): number {
  const base = s.baseTimestamp;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    pos = writeUvarint(buf, pos, zigzag(s.bodies[i]!));
    buf[pos++] = 0; // record attributes: unused
    pos = writeUvarint(buf, pos, zigzag(r.timestamp - base));
    pos = writeUvarint(buf, pos, zigzag(i));
    pos = writeVarBytes(buf, writeVarBytes(buf, pos, r.key), r.value);
    const h = s.headerBlocks[i]!;
    if (h.length === 1) buf[pos++] = h[0]!;
    else {
      buf.set(h, pos);
      pos += h.length;
    }
  }
  return pos;
}

export interface BatchOptions {
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  compression: CompressionType;
  /** set the transactional bit (records of a transaction) */
  transactional?: boolean;
}

export interface ProduceRequestOptions extends BatchOptions {
  topic: string;
  partition: number;
  /** -1 = all in-sync replicas */
  acks: number;
  timeoutMs: number;
  transactionalId?: string | null;
}

/**
 * The body of a Produce v9 request (everything after the request header) writing `records` (at least one, all
 * for `topic`/`partition`, in order) as one batch. For {@link KafkaRecordBatchDriver} and tests.
 */
export function encodeProduceRequest(records: readonly PlatformRecord[], o: ProduceRequestOptions): Buffer {
  if (records.length === 0) throw new Error('a record batch needs at least one record');
  const s = size(records);
  let compressed: Buffer | undefined;
  if (o.compression !== 'none') {
    const raw = Buffer.allocUnsafe(s.total);
    writeRecords(raw, 0, records, s);
    const algo = (compressionsAlgorithms as Record<string, { compressSync(b: Buffer): Buffer | Uint8Array }>)[o.compression];
    if (!algo) throw new Error(`unsupported compression '${o.compression}'`);
    const c = algo.compressSync(raw);
    compressed = Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
  }
  const recordsBytes = compressed ? compressed.length : s.total;
  const batchBytes = BATCH_HEADER + recordsBytes;
  const topic = Buffer.from(o.topic, 'utf8');
  const txId = o.transactionalId == null ? null : Buffer.from(o.transactionalId, 'utf8');
  const head =
    (txId ? uvarintSize(txId.length + 1) + txId.length : 1) + // transactional_id
    2 + 4 + // acks, timeout_ms
    1 + uvarintSize(topic.length + 1) + topic.length + // topic_data count, name
    1 + 4 + uvarintSize(batchBytes + 1); // partition_data count, index, records length
  const total = head + batchBytes + 3; // partition, topic and request tagged fields
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  if (txId) {
    pos = writeUvarint(buf, pos, txId.length + 1);
    pos += txId.copy(buf, pos);
  } else buf[pos++] = 0;
  pos = buf.writeInt16BE(o.acks, pos);
  pos = buf.writeInt32BE(o.timeoutMs, pos);
  buf[pos++] = 2; // one topic
  pos = writeUvarint(buf, pos, topic.length + 1);
  pos += topic.copy(buf, pos);
  buf[pos++] = 2; // one partition
  pos = buf.writeInt32BE(o.partition, pos);
  pos = writeUvarint(buf, pos, batchBytes + 1);
  const batch = pos;
  pos = buf.writeBigInt64BE(0n, pos); // baseOffset: assigned by the broker
  pos = buf.writeInt32BE(batchBytes - 12, pos); // batchLength: after this field
  pos = buf.writeInt32BE(-1, pos); // partitionLeaderEpoch: not known to producers
  buf[pos++] = 2; // magic
  pos += 4; // crc, below
  pos = buf.writeInt16BE(CODEC_BITS[o.compression] | (o.transactional ? 0x10 : 0), pos);
  pos = buf.writeInt32BE(records.length - 1, pos);
  pos = buf.writeBigInt64BE(BigInt(s.baseTimestamp), pos);
  pos = buf.writeBigInt64BE(BigInt(s.maxTimestamp), pos);
  pos = buf.writeBigInt64BE(o.producerId, pos);
  pos = buf.writeInt16BE(o.producerEpoch, pos);
  pos = buf.writeInt32BE(o.baseSequence, pos);
  pos = buf.writeInt32BE(records.length, pos);
  pos = compressed ? pos + compressed.copy(buf, pos) : writeRecords(buf, pos, records, s);
  if (pos !== batch + batchBytes) throw new Error(`record batch size mismatch: wrote ${pos - batch} of ${batchBytes} bytes`);
  buf.writeUInt32BE(crc32c(buf.subarray(batch + CRC_START, pos)) >>> 0, batch + 17);
  buf[pos++] = 0; // partition_data tagged fields
  buf[pos++] = 0; // topic_data tagged fields
  buf[pos++] = 0; // request tagged fields
  return buf;
}

/** Kafka's producer sequence after `n` more records (sequences wrap from 2^31-1 to 0). */
export function nextSequence(seq: number, n: number): number {
  return (seq + n) % 2 ** 31;
}
