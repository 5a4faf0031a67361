/**
 * pgoutput logical decoding messages (protocol versions 1–4), decoded straight from the received Buffer.
 * Tuple data is text format: each column is a string, `null` ('n'), or `undefined` for an unchanged TOASTed value
 * ('u', which the server sends instead of the value when the column was not modified).
 */
import { readLsn, readPgTimestampUs, type Lsn } from './lsn.js';

/** text value, null, or undefined = unchanged TOAST value */
export type TupleValue = string | null | undefined;

export interface RelColumn {
  /** bit 1 = part of the replica identity key */
  flags: number;
  name: string;
  typeOid: number;
  typmod: number;
}

export interface BeginMsg { tag: 'begin'; finalLsn: Lsn; commitTsUs: number; xid: number }
export interface CommitMsg { tag: 'commit'; flags: number; commitLsn: Lsn; endLsn: Lsn; commitTsUs: number }
export interface OriginMsg { tag: 'origin'; lsn: Lsn; name: string }
export interface RelationMsg { tag: 'relation'; xid: number; oid: number; namespace: string; name: string; replicaIdentity: string; columns: RelColumn[] }
export interface TypeMsg { tag: 'type'; xid: number; oid: number; namespace: string; name: string }
export interface InsertMsg { tag: 'insert'; xid: number; relid: number; newTuple: TupleValue[] }
export interface UpdateMsg { tag: 'update'; xid: number; relid: number; keyTuple: TupleValue[] | null; oldTuple: TupleValue[] | null; newTuple: TupleValue[] }
export interface DeleteMsg { tag: 'delete'; xid: number; relid: number; keyTuple: TupleValue[] | null; oldTuple: TupleValue[] | null }
export interface TruncateMsg { tag: 'truncate'; xid: number; options: number; relids: number[] }
export interface LogicalMessageMsg { tag: 'message'; xid: number; transactional: boolean; lsn: Lsn; prefix: string; content: Buffer }
export interface StreamStartMsg { tag: 'stream_start'; xid: number; firstSegment: boolean }
export interface StreamStopMsg { tag: 'stream_stop' }
export interface StreamCommitMsg { tag: 'stream_commit'; xid: number; flags: number; commitLsn: Lsn; endLsn: Lsn; commitTsUs: number }
export interface StreamAbortMsg { tag: 'stream_abort'; xid: number; subxid: number }
export interface OtherMsg { tag: 'other'; code: number }

export type PgOutputMessage =
  | BeginMsg | CommitMsg | OriginMsg | RelationMsg | TypeMsg | InsertMsg | UpdateMsg | DeleteMsg | TruncateMsg
  | LogicalMessageMsg | StreamStartMsg | StreamStopMsg | StreamCommitMsg | StreamAbortMsg | OtherMsg;

export const MsgCode = {
  Begin: 0x42, // B
  Commit: 0x43, // C
  Origin: 0x4f, // O
  Relation: 0x52, // R
  Type: 0x59, // Y
  Insert: 0x49, // I
  Update: 0x55, // U
  Delete: 0x44, // D
  Truncate: 0x54, // T
  Message: 0x4d, // M
  StreamStart: 0x53, // S
  StreamStop: 0x45, // E
  StreamCommit: 0x63, // c
  StreamAbort: 0x41, // A
} as const;

/** Messages that carry a transaction id right after the type byte when sent inside a streamed block. */
export function carriesXidInStream(code: number): boolean {
  return code === MsgCode.Relation || code === MsgCode.Type || code === MsgCode.Insert || code === MsgCode.Update
    || code === MsgCode.Delete || code === MsgCode.Truncate;
}

let pos = 0;

function cstring(buf: Buffer): string {
  const z = buf.indexOf(0, pos);
  const s = buf.toString('utf8', pos, z);
  pos = z + 1;
  return s;
}

function tuple(buf: Buffer): TupleValue[] {
  const n = buf.readUInt16BE(pos);
  pos += 2;
  const out: TupleValue[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const kind = buf[pos++];
    if (kind === 0x74 /* t */ || kind === 0x62 /* b */) {
      const len = buf.readUInt32BE(pos);
      pos += 4;
      out[i] = kind === 0x74 ? buf.toString('utf8', pos, pos + len) : buf.toString('latin1', pos, pos + len);
      pos += len;
    } else if (kind === 0x6e /* n */) {
      out[i] = null;
    } else {
      out[i] = undefined; // 'u' unchanged TOAST
    }
  }
  return out;
}

/**
 * Decodes one pgoutput message from buf[start, end). `inStream`: the message was sent between Stream Start and
 * Stream Stop, so data messages carry the (sub)transaction id.
 */
export function decodePgOutput(buf: Buffer, start: number, end: number, inStream: boolean): PgOutputMessage {
  const code = buf[start]!;
  pos = start + 1;
  let xid = 0;
  if (inStream && carriesXidInStream(code)) {
    xid = buf.readUInt32BE(pos);
    pos += 4;
  }
  switch (code) {
    case MsgCode.Begin: {
      const finalLsn = readLsn(buf, pos);
      const commitTsUs = readPgTimestampUs(buf, pos + 8);
      return { tag: 'begin', finalLsn, commitTsUs, xid: buf.readUInt32BE(pos + 16) };
    }
    case MsgCode.Commit:
      return { tag: 'commit', flags: buf[pos]!, commitLsn: readLsn(buf, pos + 1), endLsn: readLsn(buf, pos + 9), commitTsUs: readPgTimestampUs(buf, pos + 17) };
    case MsgCode.Origin: {
      const lsn = readLsn(buf, pos);
      pos += 8;
      return { tag: 'origin', lsn, name: cstring(buf) };
    }
    case MsgCode.Relation: {
      const oid = buf.readUInt32BE(pos);
      pos += 4;
      const namespace = cstring(buf);
      const name = cstring(buf);
      const replicaIdentity = String.fromCharCode(buf[pos++]!);
      const n = buf.readUInt16BE(pos);
      pos += 2;
      const columns: RelColumn[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const flags = buf[pos++]!;
        const cname = cstring(buf);
        const typeOid = buf.readUInt32BE(pos);
        const typmod = buf.readInt32BE(pos + 4);
        pos += 8;
        columns[i] = { flags, name: cname, typeOid, typmod };
      }
      return { tag: 'relation', xid, oid, namespace, name, replicaIdentity, columns };
    }
    case MsgCode.Type: {
      const oid = buf.readUInt32BE(pos);
      pos += 4;
      const namespace = cstring(buf);
      return { tag: 'type', xid, oid, namespace, name: cstring(buf) };
    }
    case MsgCode.Insert: {
      const relid = buf.readUInt32BE(pos);
      pos += 5; // relid + 'N'
      return { tag: 'insert', xid, relid, newTuple: tuple(buf) };
    }
    case MsgCode.Update: {
      const relid = buf.readUInt32BE(pos);
      pos += 4;
      let keyTuple: TupleValue[] | null = null;
      let oldTuple: TupleValue[] | null = null;
      let k = buf[pos++];
      if (k === 0x4b /* K */) {
        keyTuple = tuple(buf);
        k = buf[pos++];
      } else if (k === 0x4f /* O */) {
        oldTuple = tuple(buf);
        k = buf[pos++];
      }
      return { tag: 'update', xid, relid, keyTuple, oldTuple, newTuple: tuple(buf) };
    }
    case MsgCode.Delete: {
      const relid = buf.readUInt32BE(pos);
      pos += 4;
      const k = buf[pos++];
      const t = tuple(buf);
      return { tag: 'delete', xid, relid, keyTuple: k === 0x4b ? t : null, oldTuple: k === 0x4f ? t : null };
    }
    case MsgCode.Truncate: {
      const n = buf.readUInt32BE(pos);
      const options = buf[pos + 4]!;
      pos += 5;
      const relids: number[] = new Array(n);
      for (let i = 0; i < n; i++) {
        relids[i] = buf.readUInt32BE(pos);
        pos += 4;
      }
      return { tag: 'truncate', xid, options, relids };
    }
    case MsgCode.Message: {
      // inside a streamed block a transactional message carries the xid; flags bit 1 = transactional
      if (inStream) {
        // xid present only for transactional messages; they are never emitted by us, so only decode the top level
        return { tag: 'other', code };
      }
      const flags = buf[pos++]!;
      const lsn = readLsn(buf, pos);
      pos += 8;
      const prefix = cstring(buf);
      const len = buf.readUInt32BE(pos);
      pos += 4;
      return { tag: 'message', xid: 0, transactional: (flags & 1) === 1, lsn, prefix, content: buf.subarray(pos, pos + len) };
    }
    case MsgCode.StreamStart:
      return { tag: 'stream_start', xid: buf.readUInt32BE(pos), firstSegment: buf[pos + 4] === 1 };
    case MsgCode.StreamStop:
      return { tag: 'stream_stop' };
    case MsgCode.StreamCommit:
      return {
        tag: 'stream_commit',
        xid: buf.readUInt32BE(pos),
        flags: buf[pos + 4]!,
        commitLsn: readLsn(buf, pos + 5),
        endLsn: readLsn(buf, pos + 13),
        commitTsUs: readPgTimestampUs(buf, pos + 21),
      };
    case MsgCode.StreamAbort:
      return { tag: 'stream_abort', xid: buf.readUInt32BE(pos), subxid: buf.readUInt32BE(pos + 4) };
    default:
      void end;
      return { tag: 'other', code };
  }
}
