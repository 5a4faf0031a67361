import type pg from 'pg';
import type { ConfigProblem, ResolvedConfig } from '../../sdk/config.js';
import { TributaryError } from '../../sdk/errors.js';
import type { ConnectorContext, SourceConnector } from '../../sdk/source.js';
import { listTables, nameMatches, selectTables, type TableRef } from './catalog.js';
import { connectPg } from './pg-connect.js';
import { TableQuerier } from './querier.js';
import { connectionSettings, querierSettings } from './task.js';

async function capturedTables(client: pg.Client, c: ResolvedConfig): Promise<TableRef[]> {
  const all = await listTables(client, { types: c['table.types'] as string[], schemaPattern: (c['schema.pattern'] as string | null) ?? null });
  return selectTables(all, c['table.whitelist'] as string[], c['table.blacklist'] as string[]);
}

/** Lists the tables to capture and spreads them over at most tasks.max tasks; watches for new tables. */
export class JdbcSourceConnector implements SourceConnector {
  #cfg!: ResolvedConfig;
  #ctx!: ConnectorContext;
  #tables: TableRef[] = [];
  #timer: NodeJS.Timeout | null = null;

  async start(config: ResolvedConfig, ctx: ConnectorContext): Promise<void> {
    this.#cfg = config;
    this.#ctx = ctx;
    if (config['query']) return;
    const client = await connectPg(connectionSettings(config));
    try {
      this.#tables = await capturedTables(client, config);
    } finally {
      await client.end().catch(() => undefined);
    }
    if (!this.#tables.length) ctx.logger.warn('no tables match the configuration yet; watching for new ones');
    const every = config['table.poll.interval.ms'] as number;
    if (every > 0) {
      this.#timer = setInterval(() => void this.#refresh(), every);
      this.#timer.unref();
    }
  }

  async #refresh(): Promise<void> {
    try {
      const client = await connectPg(connectionSettings(this.#cfg));
      let now: TableRef[];
      try {
        now = await capturedTables(client, this.#cfg);
      } finally {
        await client.end().catch(() => undefined);
      }
      const key = (ts: TableRef[]) => ts.map((t) => `${t.schema}.${t.table}`).join('\n');
      if (key(now) !== key(this.#tables)) {
        this.#ctx.logger.info('table set changed; reconfiguring tasks', { tables: now.length });
        this.#tables = now;
        this.#ctx.requestTaskReconfiguration();
      }
    } catch (err) {
      this.#ctx.logger.warn('table list refresh failed', { error: (err as Error).message });
    }
  }

  async taskConfigs(maxTasks: number): Promise<Array<Record<string, unknown>>> {
    if (this.#cfg['query']) return [{}];
    const n = Math.max(1, Math.min(maxTasks, this.#tables.length));
    const groups: TableRef[][] = Array.from({ length: n }, () => []);
    this.#tables.forEach((t, i) => groups[i % n]!.push(t));
    return groups.map((g) => ({ tables: g }));
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  status(): Record<string, unknown> {
    return { tables: this.#tables.map((t) => `${t.schema}.${t.table}`) };
  }
}

/**
 * CREATE-time checks with I/O: connect and log in, find the tables, and check each table's mode columns, so a
 * wrong password, an unreachable host, a missing table or a nullable incrementing column fail the statement.
 */
export async function checkJdbc(c: ResolvedConfig): Promise<ConfigProblem[]> {
  let client: pg.Client;
  try {
    client = await connectPg(connectionSettings(c));
  } catch (err) {
    const e = err as TributaryError;
    return [{ key: e.code === 'source.auth' ? 'connection.password' : 'connection.url', message: e.message, hint: e.hint }];
  }
  try {
    const problems: ConfigProblem[] = [];
    const s = querierSettings(c);
    if (c['query']) {
      await new TableQuerier({ ...s }, null, c['query'] as string).init(client, null);
      return problems;
    }
    const tables = await capturedTables(client, c);
    for (const name of c['table.whitelist'] as string[]) {
      if (!tables.some((t) => nameMatches(name, t))) {
        problems.push({ key: 'table.whitelist', message: `Table '${name}' not found (or not readable by the connector's user)`, hint: 'check the name, its schema and SELECT privilege' });
      }
    }
    for (const t of tables) {
      try {
        await new TableQuerier({ ...s }, t, null).init(client, null);
      } catch (err) {
        const e = err as TributaryError;
        if (e.key && (c['table.whitelist'] as string[]).length === 0 && e.key !== 'connection.url') {
          // with no whitelist, tables that cannot be read in this mode are reported but do not block the others
          problems.push({ key: e.key, message: e.message, hint: e.hint });
        } else problems.push({ key: e.key ?? 'connection.url', message: e.message, hint: e.hint });
      }
    }
    return problems;
  } catch (err) {
    const e = err instanceof TributaryError ? err : new TributaryError('source.query', String(err));
    return [{ key: e.key ?? 'connection.url', message: e.message, hint: e.hint }];
  } finally {
    await client.end().catch(() => undefined);
  }
}
