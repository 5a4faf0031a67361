/**
 * Reads the rows of one statement straight off the wire, without a string, array or object per row.
 *
 * node-postgres opens the connection (TLS, every auth method) and runs every other statement. For the statement
 * that returns a batch of rows, a `RawRowsQuery` (a node-postgres "submittable", so the client's queue and state stay
 * consistent) takes the socket's data over for the duration of that statement: it sends the protocol messages
 * itself, copies what arrives into one buffer per result and notes where each DataRow starts. At ReadyForQuery it
 * hands the socket back and lets node-postgres read that ReadyForQuery (and anything after it) itself.
 *
 * Messages (PostgreSQL frontend/backend protocol v3): simple query `Q`; or, for a prepared statement, `P` (once per
 * connection and name), `B`, `E`, `S`. Results are in text format — a field's bytes are PostgreSQL's text output —
 * except for the timestamp and date columns a request asks in binary (`RowsRequest.binary`); `RowBlock.text` gives
 * those fields as the text format would have sent them.
 */
import type pg from 'pg';
import type { Socket } from 'node:net';
import { smallUnscaledAscii } from '../../converters/json-bytes.js';
import { BIN_DATE, BIN_TIMESTAMPTZ, dateBinaryText, timestampBinaryText } from './pg-types.js';

/** Rows of one result as PostgreSQL sent them: DataRow payloads (`int16 count`, then per field `int32 len`, bytes). */
export class RowBlock {
  constructor(
    readonly buf: Buffer,
    /** position in `buf` of each row's payload (its field count) */
    readonly rowAt: Int32Array,
    readonly count: number,
    /** bytes of the result (all its messages) */
    readonly size: number,
    /** per field, its binary format (RowsRequest.binary); null when every field is text */
    readonly binary: Uint8Array | null = null,
  ) {}

  #view: DataView<ArrayBufferLike> | undefined;
  /** a DataView of `buf` (for readers of several bytes at a time) */
  get view(): DataView<ArrayBufferLike> {
    return (this.#view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length));
  }

  /**
   * Position of field `f` of row `r`: the position of its int32 length (the bytes follow it; length -1 = NULL).
   */
  fieldAt(r: number, f: number): number {
    const b = this.buf;
    let p = this.rowAt[r]! + 2;
    for (let i = 0; i < f; i++) {
      const len = b.readInt32BE(p);
      p += 4 + (len > 0 ? len : 0);
    }
    return p;
  }

  /**
   * Field `f` of row `r` as a number when its text is an integer of at most 15 digits (exactly `Number(text)`); NaN
   * otherwise (NULL, other text, larger numbers).
   */
  smallInt(r: number, f: number): number {
    const p = this.fieldAt(r, f);
    const len = this.buf.readInt32BE(p);
    return len < 0 || (this.binary !== null && this.binary[f]) ? NaN : smallUnscaledAscii(this.buf, p + 4, p + 4 + len, 0);
  }

  /** Whether field `f` of row `r` is NULL. */
  isNull(r: number, f: number): boolean {
    return this.buf.readInt32BE(this.fieldAt(r, f)) < 0;
  }

  /** Field `f` of row `r` as text, or null. */
  text(r: number, f: number): string | null {
    const p = this.fieldAt(r, f);
    const len = this.buf.readInt32BE(p);
    return len < 0 ? null : this.#fieldText(f, p + 4, len);
  }

  /** the text of field `f` whose `len` bytes are at `p` */
  #fieldText(f: number, p: number, len: number): string {
    const bin = this.binary !== null ? this.binary[f]! : 0;
    if (bin === BIN_DATE) return dateBinaryText(this.buf, p, len);
    if (bin !== 0) return timestampBinaryText(this.buf, p, len, bin === BIN_TIMESTAMPTZ);
    return this.buf.toString('utf8', p, p + len);
  }

  /** Every field of row `r` as text (null for NULL), as node-postgres returns a row in array mode with raw types. */
  texts(r: number, n: number): Array<string | null> {
    const b = this.buf;
    const out = new Array<string | null>(n);
    let p = this.rowAt[r]! + 2;
    for (let i = 0; i < n; i++) {
      const len = b.readInt32BE(p);
      p += 4;
      if (len < 0) out[i] = null;
      else {
        out[i] = this.#fieldText(i, p, len);
        p += len;
      }
    }
    return out;
  }
}

/** An ErrorResponse as node-postgres reports one: message, SQLSTATE `code`, and the other fields it names. */
export class PgServerError extends Error {
  code?: string;
  severity?: string;
  detail?: string;
  hint?: string;
  position?: string;
  constructor(fields: Map<string, string>) {
    super(fields.get('M') ?? 'server error');
    this.name = 'error';
    this.code = fields.get('C');
    this.severity = fields.get('V') ?? fields.get('S');
    this.detail = fields.get('D');
    this.hint = fields.get('H');
    this.position = fields.get('P');
  }
}

/** Prepared statement names this reader has parsed, per connection (node-postgres keeps its own, apart). */
const prepared = new WeakMap<object, Set<string>>();

type Listener = (chunk: Buffer) => void;

function cstringSize(s: string): number {
  return Buffer.byteLength(s, 'utf8') + 1;
}

/**
 * Frontend messages for one statement: `Q`; or `[P] B E S` for a named statement with text parameters; or, with
 * `maxRows` > 0 (named statements only), `[P] B E H`: the first `maxRows` rows, the portal left open for more.
 */
export function statementMessages(req: RowsRequest, parse: boolean, maxRows = 0): Buffer {
  if (req.name === undefined) {
    const len = 4 + cstringSize(req.text);
    const b = Buffer.allocUnsafe(1 + len);
    b[0] = 0x51; // Q
    b.writeInt32BE(len, 1);
    const q = 5 + b.write(req.text, 5, 'utf8');
    b[q] = 0;
    return b;
  }
  const name = req.name;
  const params = (req.values ?? []).map((v) => (v === null || v === undefined ? null : Buffer.from(String(v), 'utf8')));
  const parseLen = parse ? 4 + cstringSize(name) + cstringSize(req.text) + 2 : 0;
  const binary = binaryFormats(req);
  const bindLen = 4 + 1 + cstringSize(name) + 2 + 2 + params.reduce((a, p) => a + 4 + (p ? p.length : 0), 0) + 2 + (binary ? 2 * binary.length : 0);
  const b = Buffer.allocUnsafe((parse ? 1 + parseLen : 0) + 1 + bindLen + EXECUTE_BYTES);
  let p = 0;
  const cstr = (s: string) => {
    p += b.write(s, p, 'utf8');
    b[p++] = 0;
  };
  if (parse) {
    b[p++] = 0x50; // P
    b.writeInt32BE(parseLen, p);
    p += 4;
    cstr(name);
    cstr(req.text);
    b.writeInt16BE(0, p); // parameter types: inferred (the SQL casts them)
    p += 2;
  }
  b[p++] = 0x42; // B
  b.writeInt32BE(bindLen, p);
  p += 4;
  cstr(''); // unnamed portal
  cstr(name);
  b.writeInt16BE(0, p); // parameter formats: all text
  p += 2;
  b.writeInt16BE(params.length, p);
  p += 2;
  for (const v of params) {
    if (v === null) {
      b.writeInt32BE(-1, p);
      p += 4;
    } else {
      b.writeInt32BE(v.length, p);
      p += 4;
      v.copy(b, p);
      p += v.length;
    }
  }
  if (binary) {
    // result formats: one per column, 1 (binary) where asked
    b.writeInt16BE(binary.length, p);
    p += 2;
    for (let i = 0; i < binary.length; i++, p += 2) b.writeInt16BE(binary[i] ? 1 : 0, p);
  } else {
    b.writeInt16BE(0, p); // result formats: all text
    p += 2;
  }
  executeInto(b, p, maxRows);
  return b;
}

/** bytes of `executeInto`'s messages */
const EXECUTE_BYTES = 15;

/**
 * `E` for the unnamed portal, at most `maxRows` rows (0 = all), then `S` (Sync) after all rows or `H` (Flush: the
 * portal stays open for more): EXECUTE_BYTES at `p`.
 */
function executeInto(b: Buffer, p: number, maxRows: number): void {
  b[p] = 0x45; // E
  b.writeInt32BE(4 + 1 + 4, p + 1);
  b[p + 5] = 0; // unnamed portal
  b.writeInt32BE(maxRows, p + 6);
  b[p + 10] = maxRows > 0 ? 0x48 : 0x53;
  b.writeInt32BE(4, p + 11);
}

/** `E` `H` for the next `maxRows` rows of the open portal */
function executeMessages(maxRows: number): Buffer {
  const b = Buffer.allocUnsafe(EXECUTE_BYTES);
  executeInto(b, 0, maxRows);
  return b;
}

const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);

/** the request's per-column result formats when it asks any column in binary (named statements only), else null */
function binaryFormats(req: RowsRequest): Uint8Array | null {
  return req.name !== undefined && req.binary && req.binary.some((x) => x !== 0) ? req.binary : null;
}

export interface RowsRequest {
  text: string;
  /** a prepared statement name (parsed once per connection); undefined runs `text` as a simple query */
  name?: string;
  /** text parameters (prepared statements only) */
  values?: unknown[];
  /** every row must have this many fields */
  fields: number;
  /**
   * Per result column, 0 for text or the binary format it is asked in (BIN_TIMESTAMP, BIN_TIMESTAMPTZ, BIN_DATE of pg-types;
   * one entry per column the statement returns). Named statements only: a simple query reads all in text.
   */
  binary?: Uint8Array;
  /** bytes to start the result's buffer with (it grows as needed) */
  sizeHint?: number;
}

/**
 * node-postgres submittable (the interface pg-cursor uses): runs `req` with the socket's data taken over. With
 * `maxRows` 0, one result: it settles once node-postgres has read the statement's ReadyForQuery. With `maxRows` > 0,
 * a portal read `maxRows` rows at a time (see `RowStream`): each Execute's rows are a block of their own, and the
 * socket stays taken until `close` (Sync) or an error.
 */
class RawRowsQuery {
  #acc: Buffer;
  #len = 0;
  #read = 0;
  #rowAt = new Int32Array(1024);
  #count = 0;
  #error: Error | null = null;
  #socket: Socket | null = null;
  #saved: Listener[] = [];
  #onData: Listener = (chunk) => this.#data(chunk);
  #parsedName: string | null = null;
  #set: Set<string> | null = null;
  /** single result: settles with it; portal: settles when the portal is closed (ReadyForQuery) */
  readonly promise: Promise<RowBlock>;
  #resolve!: (b: RowBlock) => void;
  #reject!: (e: Error) => void;
  /** portal: blocks read and not yet taken, and takers waiting for one */
  #blocks: Array<{ block: RowBlock; last: boolean }> = [];
  #takers: Array<{ resolve: (b: { block: RowBlock; last: boolean }) => void; reject: (e: Error) => void }> = [];
  #synced = false;
  #ended = false;
  /** portal: Executes and the Sync asked for before node-postgres submitted the query (sent by submit) */
  #submitted = false;
  #moreAsked = 0;
  #closeAsked = false;
  /** the request's result formats (`binaryFormats`), given to every block */
  readonly #binary: Uint8Array | null;

  constructor(
    readonly req: RowsRequest,
    readonly maxRows = 0,
    /** rows of the first Execute (a portal's), when not maxRows */
    readonly firstRows = maxRows,
  ) {
    // the size the previous result of this statement needed: one buffer per result, not a doubling series
    this.#acc = Buffer.allocUnsafeSlow(req.sizeHint && req.sizeHint > 0 ? req.sizeHint : 64 * 1024);
    this.#binary = binaryFormats(req);
    this.promise = new Promise<RowBlock>((res, rej) => {
      this.#resolve = res;
      this.#reject = rej;
    });
  }

  /** called by node-postgres when the query's turn comes (the connection is idle) */
  submit(connection: { stream: Socket }): Error | undefined {
    const socket = connection.stream;
    this.#socket = socket;
    this.#saved = socket.listeners('data') as Listener[];
    socket.removeAllListeners('data');
    socket.on('data', this.#onData);
    let set = prepared.get(connection);
    if (!set) prepared.set(connection, (set = new Set()));
    this.#set = set;
    const parse = this.req.name !== undefined && !set.has(this.req.name);
    if (parse) this.#parsedName = this.req.name!;
    this.#submitted = true;
    socket.write(statementMessages(this.req, parse, this.firstRows));
    for (; this.#moreAsked > 0; this.#moreAsked--) socket.write(executeMessages(this.maxRows));
    if (this.#closeAsked) this.#sync();
    return undefined;
  }

  /** portal: asks for the next `maxRows` rows (ignored once the portal ended or is being closed) */
  more(): void {
    if (this.#ended || this.#synced || this.#closeAsked) return;
    if (!this.#submitted) this.#moreAsked++; // still in node-postgres' queue: sent on submit
    else this.#socket?.write(executeMessages(this.maxRows));
  }

  /** portal: the rows of the next Execute; `last` when the portal has no more rows */
  next(): Promise<{ block: RowBlock; last: boolean }> {
    const b = this.#blocks.shift();
    if (b) return Promise.resolve(b);
    if (this.#ended) return Promise.reject(this.#error ?? new Error('the portal has no more rows'));
    return new Promise((resolve, reject) => this.#takers.push({ resolve, reject }));
  }

  /** portal: ends it (Sync); settles once node-postgres has the connection back */
  close(): Promise<void> {
    this.#sync();
    return this.promise.then(() => undefined);
  }

  #sync(): void {
    if (this.#synced) return;
    if (!this.#submitted) {
      this.#closeAsked = true; // sent on submit, after the statement
      return;
    }
    if (!this.#socket) return;
    this.#synced = true;
    this.#socket.write(SYNC);
  }

  #giveBack(rest: Buffer | null): void {
    const s = this.#socket;
    if (!s) return;
    this.#socket = null;
    s.removeListener('data', this.#onData);
    for (const l of this.#saved) s.on('data', l);
    if (rest && rest.length) for (const l of this.#saved) l.call(s, rest);
  }

  #data(chunk: Buffer): void {
    let rest: Buffer | null;
    try {
      this.#append(chunk);
      rest = this.#parse();
    } catch (e) {
      // a protocol violation: the connection cannot be trusted any more
      this.#error ??= e as Error;
      const s = this.#socket;
      this.#giveBack(null);
      s?.destroy(e as Error);
      return;
    }
    // outside the try: node-postgres handles the ReadyForQuery (and may start its next query) in this call
    if (rest) this.#giveBack(rest);
  }

  /** a whole message node-postgres should see although the socket is ours (notices, parameter changes, notifications) */
  #forward(msg: Buffer): void {
    const s = this.#socket;
    if (s) for (const l of this.#saved) l.call(s, Buffer.from(msg));
  }

  #append(chunk: Buffer): void {
    const need = this.#len + chunk.length;
    if (need > this.#acc.length) {
      let n = this.#acc.length * 2;
      while (n < need) n *= 2;
      const grown = Buffer.allocUnsafeSlow(n);
      this.#acc.copy(grown, 0, 0, this.#len);
      this.#acc = grown;
    }
    chunk.copy(this.#acc, this.#len);
    this.#len = need;
  }

  /** portal: the rows framed so far are one block; what follows `end` starts the next one's buffer */
  #finishBlock(end: number, last: boolean): void {
    const block = new RowBlock(this.#acc, this.#rowAt, this.#count, end, this.#binary);
    const next = Buffer.allocUnsafeSlow(Math.max(end + (end >> 3), this.#len - end, 1024));
    this.#acc.copy(next, 0, end, this.#len);
    this.#acc = next;
    this.#len -= end;
    this.#rowAt = new Int32Array(Math.max(16, this.#count));
    this.#count = 0;
    if (last) this.#ended = true;
    const t = this.#takers.shift();
    if (t) t.resolve({ block, last });
    else this.#blocks.push({ block, last });
  }

  /** Frames what arrived; at ReadyForQuery returns the bytes from it on (node-postgres reads them), else null. */
  #parse(): Buffer | null {
    let b = this.#acc;
    let end = this.#len;
    let p = this.#read;
    while (end - p >= 5) {
      const type = b[p]!;
      const len = b.readInt32BE(p + 1);
      if (len < 4) throw new Error(`protocol error: message length ${len}`);
      if (end - p < 1 + len) break;
      const body = p + 5;
      switch (type) {
        case 0x44: {
          // DataRow
          const n = b.readInt16BE(body);
          if (n !== this.req.fields) throw new Error(`protocol error: a row of ${n} fields, expected ${this.req.fields}`);
          if (this.#count === this.#rowAt.length) {
            const grown = new Int32Array(this.#rowAt.length * 2);
            grown.set(this.#rowAt);
            this.#rowAt = grown;
          }
          this.#rowAt[this.#count++] = body;
          break;
        }
        case 0x31: // ParseComplete
          if (this.#parsedName !== null) this.#set?.add(this.#parsedName);
          break;
        case 0x45: // ErrorResponse
          this.#error ??= new PgServerError(errorFields(b, body, p + 1 + len));
          // a portal's server skips everything until a Sync
          if (this.maxRows > 0) this.#sync();
          break;
        case 0x5a: // ReadyForQuery: node-postgres reads it (and what follows) and calls handleReadyForQuery
          this.#read = p;
          return b.subarray(p, end);
        case 0x4e: // NoticeResponse
        case 0x53: // ParameterStatus
        case 0x41: // NotificationResponse
          this.#forward(b.subarray(p, p + 1 + len));
          break;
        case 0x73: // PortalSuspended: this Execute's rows are complete, more may follow
        case 0x43: // CommandComplete
          if (this.maxRows > 0) {
            this.#finishBlock(p + 1 + len, type === 0x43);
            b = this.#acc;
            end = this.#len;
            p = 0;
            continue;
          }
          break;
        case 0x54: // RowDescription
        case 0x32: // BindComplete
        case 0x49: // EmptyQueryResponse
        case 0x6e: // NoData
          break;
        default:
          // anything else means the stream is not where this reader thinks it is
          throw new Error(`protocol error: unexpected message '${String.fromCharCode(type)}' (0x${type.toString(16)}) in a result`);
      }
      p += 1 + len;
    }
    this.#read = p;
    return null;
  }

  handleReadyForQuery(): void {
    this.#ended = true;
    if (this.#error) {
      this.#reject(this.#error);
      for (const t of this.#takers.splice(0)) t.reject(this.#error);
    } else {
      this.#resolve(new RowBlock(this.#acc, this.#rowAt, this.#count, this.#len, this.#binary));
      // a portal closed before its rows were taken: nothing more comes
      const gone = new Error('the portal was closed');
      for (const t of this.#takers.splice(0)) t.reject(gone);
    }
  }

  /** the connection failed (node-postgres reports it to the active query) */
  handleError(err: Error): void {
    this.#giveBack(null);
    this.#error ??= err;
    this.#ended = true;
    this.#reject(this.#error);
    for (const t of this.#takers.splice(0)) t.reject(this.#error);
  }

  // node-postgres may call these on a submittable; the socket is ours while they could apply
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}
}

function errorFields(b: Buffer, from: number, to: number): Map<string, string> {
  const m = new Map<string, string>();
  let p = from;
  while (p < to && b[p] !== 0) {
    const code = String.fromCharCode(b[p]!);
    const z = b.indexOf(0, p + 1);
    if (z < 0 || z >= to) break;
    m.set(code, b.toString('utf8', p + 1, z));
    p = z + 1;
  }
  return m;
}

/** Runs one statement on `client` and returns its rows as PostgreSQL sent them. */
export function readRows(client: pg.Client, req: RowsRequest): Promise<RowBlock> {
  const q = new RawRowsQuery(req);
  (client as unknown as { query(s: unknown): unknown }).query(q);
  return q.promise;
}

/**
 * A named statement's rows read through its portal, `maxRows` at a time (`firstRows` the first time): `next` gives
 * the rows of each Execute in order, `more` asks for the next ones (several may be asked for before the first
 * arrives: the server works on them meanwhile), `close` ends the portal and gives the connection back to
 * node-postgres (nothing else runs on it until then). A server error rejects `next` and ends the portal.
 */
export interface RowStream {
  next(): Promise<{ block: RowBlock; last: boolean }>;
  more(): void;
  close(): Promise<void>;
}

export function streamRows(client: pg.Client, req: RowsRequest & { name: string }, maxRows: number, firstRows = maxRows): RowStream {
  if (!(maxRows > 0 && firstRows > 0)) throw new RangeError('maxRows and firstRows must be positive');
  const q = new RawRowsQuery(req, maxRows, firstRows);
  q.promise.catch(() => undefined); // errors reach the stream's takers (and close's caller)
  (client as unknown as { query(s: unknown): unknown }).query(q);
  return q;
}
