import type pg from 'pg';
import type { ResolvedConfig } from '../../sdk/config.js';
import { TributaryError } from '../../sdk/errors.js';
import type { Logger } from '../../sdk/logger.js';
import type { SourceRecord } from '../../sdk/record.js';
import type { SourceTask, SourceTaskContext } from '../../sdk/source.js';
import { sleep } from '../../runtime/retry.js';
import type { TableRef } from './catalog.js';
import { connectPg, type JdbcConnectionSettings } from './pg-connect.js';
import { TableQuerier, type FetchResult, type QuerierSettings } from './querier.js';
import type { NumericMapping } from './pg-types.js';
import type { Mode } from './spec.js';
import { parseJdbcUrl } from './url.js';

export function connectionSettings(c: ResolvedConfig): JdbcConnectionSettings {
  return {
    url: c['connection.url'] as string,
    user: (c['connection.user'] as string | null) ?? null,
    password: (c['connection.password'] as string | null) ?? null,
    rootCert: (c['connection.sslrootcert'] as string | null) ?? null,
  };
}

export function querierSettings(c: ResolvedConfig): QuerierSettings {
  const t = parseJdbcUrl(c['connection.url'] as string);
  let numeric = c['numeric.mapping'] as NumericMapping;
  if (numeric === 'none' && c['numeric.precision.mapping'] === true) numeric = 'precision_only';
  const quote = c['quote.sql.identifiers'] === 'always' && c['sql.quote.identifiers'] !== false;
  return {
    mode: c['mode'] as Mode,
    topicPrefix: c['topic.prefix'] as string,
    incrementingColumn: (c['incrementing.column.name'] as string) ?? '',
    timestampColumns: (c['timestamp.column.name'] as string[]) ?? [],
    timestampInitial: (c['timestamp.initial'] as number | null) ?? null,
    timestampDelayMs: (c['timestamp.delay.interval.ms'] as number) ?? 0,
    validateNonNull: c['validate.non.null'] !== false,
    batchMaxRows: c['batch.max.rows'] as number,
    numericMapping: numeric,
    timeZone: c['db.timezone'] as string,
    querySuffix: (c['query.suffix'] as string) ?? '',
    quote,
    database: t.database || ((c['connection.user'] as string | null) ?? t.params['user'] ?? 'postgres'),
  };
}

/**
 * Polls its assigned tables (or the custom query) round-robin: a table that returned a full batch is read again
 * at once; one that is caught up waits poll.interval.ms. One connection per task.
 */
export class JdbcSourceTask implements SourceTask {
  #cfg!: ResolvedConfig;
  #ctx!: SourceTaskContext;
  #log!: Logger;
  #client: pg.Client | null = null;
  #queriers: TableQuerier[] = [];
  #pollInterval = 5000;
  #stopping = false;
  /**
   * Batches of a table with a backlog requested ahead, in order, while the runtime converts and writes the current
   * one (at most READ_AHEAD, and no more once those that arrived hold READ_AHEAD_BYTES; each requested only once the
   * one before it arrived, since it starts where that ended)
   */
  #ahead: ReadAhead[] = [];

  async start(config: ResolvedConfig, ctx: SourceTaskContext): Promise<void> {
    this.#cfg = config;
    this.#ctx = ctx;
    this.#log = ctx.logger;
    this.#pollInterval = config['poll.interval.ms'] as number;
    const s = querierSettings(config);
    const query = (config['query'] as string) || '';
    if (query) {
      this.#queriers = [new TableQuerier({ ...s }, null, query)];
    } else {
      const tables = parseTables(config['tables']);
      this.#queriers = tables.map((t) => new TableQuerier({ ...s }, t, null));
    }
    for (const q of this.#queriers) q.rawValues = ctx.rawStructs === true;
    await this.#connect();
  }

  async #connect(): Promise<pg.Client> {
    if (this.#client) return this.#client;
    const attempts = (this.#cfg['connection.attempts'] as number) ?? 3;
    const backoff = (this.#cfg['connection.backoff.ms'] as number) ?? 10000;
    let last: unknown;
    for (let i = 0; i < attempts; i++) {
      try {
        this.#client = await connectPg(connectionSettings(this.#cfg));
        this.#client.on('error', () => this.#drop());
        return this.#client;
      } catch (err) {
        last = err;
        if (err instanceof TributaryError && !err.retriable) throw err;
        if (i + 1 < attempts) {
          this.#log.warn('connection attempt failed', { attempt: i + 1, of: attempts, error: (err as Error).message });
          await sleep(Math.min(backoff, 30_000));
        }
      }
    }
    throw last;
  }

  #drop(): void {
    // batches read ahead stay queued: those that arrived moved their querier's position and must still be returned;
    // those still on the way fail with the connection and are surfaced in order by poll
    const c = this.#client;
    this.#client = null;
    for (const q of this.#queriers) q.reset();
    void c?.end().catch(() => undefined);
  }

  async poll(signal: AbortSignal): Promise<SourceRecord[]> {
    const next = this.#ahead.shift();
    if (next) return this.#after(next.q, () => next.p);
    if (!this.#queriers.length) {
      await sleep(1000, signal).catch(() => undefined);
      return [];
    }
    let q = this.#queriers.find((x) => x.busy);
    if (!q) {
      q = this.#queriers.reduce((a, b) => (b.nextPollAt < a.nextPollAt ? b : a));
      const wait = q.nextPollAt - Date.now();
      if (wait > 0) {
        await sleep(Math.min(wait, 1000), signal).catch(() => undefined);
        return [];
      }
    }
    const querier = q;
    return this.#after(querier, async () => {
      const client = await this.#connect();
      if (!querier.initialized) await querier.init(client, await this.#ctx.offset(querier.partition));
      return querier.fetch(client);
    });
  }

  /**
   * Runs one fetch. While a table's batches come back full, the next ones are requested at once (up to READ_AHEAD
   * ahead) so that the database works on them while the runtime converts and writes this one; each starts where
   * the one before it ended (the querier's position moves when a batch arrives, not when it is acknowledged).
   */
  async #after(q: TableQuerier, fetch: () => Promise<FetchResult>): Promise<SourceRecord[]> {
    try {
      const { records, full } = await fetch();
      q.nextPollAt = full ? 0 : Date.now() + this.#pollInterval;
      if (full) {
        if (this.#ahead.length === 0) this.#readAhead(q);
        else this.#extendReadAhead();
      } else {
        // rotate so that tables with backlogs share the task fairly
        this.#queriers.push(...this.#queriers.splice(this.#queriers.indexOf(q), 1));
      }
      return records;
    } catch (err) {
      if (err instanceof TributaryError && err.retriable) this.#drop();
      throw err;
    }
  }

  /** requests q's next batch ahead of the runtime's poll (on the current connection) */
  #readAhead(q: TableQuerier): void {
    const client = this.#client;
    if (!client || this.#stopping) return;
    const e: ReadAhead = { q, p: q.fetch(client), result: null, extended: false };
    e.p.then(
      (r) => {
        e.result = r;
        this.#extendReadAhead();
      },
      () => undefined, // surfaced by the poll that takes it
    );
    this.#ahead.push(e);
  }

  /** requests one more batch ahead when the last one requested came back full and there is room */
  #extendReadAhead(): void {
    const last = this.#ahead[this.#ahead.length - 1];
    if (!last || last.extended || !last.result?.full || this.#ahead.length >= READ_AHEAD) return;
    if (this.#aheadBytes() >= READ_AHEAD_BYTES) return; // wide rows: fewer batches ahead (the next poll asks again)
    last.extended = true;
    this.#readAhead(last.q);
  }

  /** bytes of the rows of the batches read ahead that arrived */
  #aheadBytes(): number {
    let bytes = 0;
    for (const e of this.#ahead) bytes += e.result?.bytes ?? 0;
    return bytes;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    // one at a time: a batch that arrives may request the next one until #stopping is seen
    while (this.#ahead.length) await this.#ahead.shift()!.p.catch(() => undefined);
    for (const q of this.#queriers) await q.release();
    const c = this.#client;
    this.#client = null;
    await c?.end().catch(() => undefined);
  }

  status(): Record<string, unknown> {
    return { tables: this.#queriers.map((q) => q.label), readAhead: { batches: this.#ahead.length, bytes: this.#aheadBytes() } };
  }
}

/** a batch requested ahead: `result` once it arrived; `extended` once the one after it was requested */
interface ReadAhead {
  q: TableQuerier;
  p: Promise<FetchResult>;
  result: FetchResult | null;
  extended: boolean;
}

/**
 * Batches requested ahead of the runtime's polls: with two, the database always has the next batch to work on while
 * one waits to be polled (the runtime lets network reads in while it converts a batch, see TaskRunner#dispatch).
 * Four made no difference that the machine's noise let through (three A/B pairs of 1M-row incrementing runs).
 * Memory: at most this many batches of batch.max.rows rows besides the one being converted, and no new one once
 * those that arrived hold READ_AHEAD_BYTES of rows (wide rows: one ahead at a time).
 */
const READ_AHEAD = 2;
const READ_AHEAD_BYTES = 8 * 1024 * 1024;

export function parseTables(v: unknown): TableRef[] {
  if (Array.isArray(v)) return v as TableRef[];
  if (typeof v === 'string' && v) return JSON.parse(v) as TableRef[];
  return [];
}
