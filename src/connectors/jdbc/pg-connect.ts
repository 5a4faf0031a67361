import pg from 'pg';
import { TributaryError } from '../../sdk/errors.js';
import { clientConfig, parseJdbcUrl } from './url.js';

/** Every value arrives as PostgreSQL's text; column codecs parse it exactly (no Date/float rounding). */
const rawTypes = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

export interface JdbcConnectionSettings {
  url: string;
  user: string | null;
  password: string | null;
  rootCert?: string | null;
}

/** Maps a node-postgres/network error to a TributaryError: auth/config problems are permanent, the rest retriable. */
export function classifyPgError(err: unknown, where: string): TributaryError {
  if (err instanceof TributaryError) return err;
  const e = err as { code?: string; message?: string; errno?: number };
  const code = e.code ?? '';
  const msg = e.message ?? String(err);
  if (code === '28P01' || code === '28000') {
    return new TributaryError('source.auth', `${where}: authentication failed (${msg})`, { hint: 'check connection.user and connection.password', cause: err });
  }
  if (code === '3D000') return new TributaryError('source.connection', `${where}: ${msg}`, { hint: 'check the database name in connection.url', cause: err });
  if (code === '42P01' || code === '42703' || code === '42501' || code === '42601' || code === '42883' || code === '42804') {
    return new TributaryError('source.query', `${where}: ${msg}`, { cause: err, hint: code === '42501' ? 'grant SELECT on the table to the connector\'s user' : undefined });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new TributaryError('source.connection', `${where}: host not found (${msg})`, { retriable: true, hint: 'check the host name in connection.url', cause: err });
  }
  if (code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'ECONNRESET' || code === 'EPIPE' || code.startsWith('08') || code === '57P01' || code === '57P03' || /timeout|terminat|Connection/i.test(msg)) {
    return new TributaryError('source.connection', `${where}: cannot reach the database (${msg})`, { retriable: true, hint: 'check that PostgreSQL is running and the host/port in connection.url', cause: err });
  }
  if (code === '40001' || code === '40P01' || code === '55P03' || code === '53300') {
    return new TributaryError('source.query', `${where}: ${msg}`, { retriable: true, cause: err });
  }
  return new TributaryError('source.query', `${where}: ${msg}`, { cause: err, retriable: code === '' });
}

/** Opens a client with session settings Tributary relies on (UTC output, ISO dates, hex bytea). */
export async function connectPg(s: JdbcConnectionSettings): Promise<pg.Client> {
  const cfg = clientConfig(s.url, s.user, s.password, s.rootCert);
  const sslmode = (parseJdbcUrl(s.url).params['sslmode'] ?? '').toLowerCase();
  const open = async (c: pg.ClientConfig) => {
    const client = new pg.Client({ ...c, types: rawTypes });
    client.on('error', () => undefined); // errors surface on the next query
    try {
      await client.connect();
      await client.query("SET TimeZone='UTC'; SET DateStyle='ISO, YMD'; SET IntervalStyle='iso_8601'; SET bytea_output='hex'; SET extra_float_digits=3");
    } catch (e) {
      await client.end().catch(() => undefined);
      throw e;
    }
    return client;
  };
  try {
    return await open(cfg);
  } catch (err) {
    if ((sslmode === 'prefer' || sslmode === 'allow') && /does not support SSL/i.test(String((err as Error).message))) {
      try {
        return await open({ ...cfg, ssl: false });
      } catch (e2) {
        throw classifyPgError(e2, `Connecting to ${cfg.host}:${cfg.port}`);
      }
    }
    throw classifyPgError(err, `Connecting to ${cfg.host}:${cfg.port}`);
  }
}

/** Quotes an identifier for PostgreSQL: doubles embedded quotes, so no name can break out of it. */
export function quoteIdent(name: string): string {
  if (name.includes('\u0000')) throw new TributaryError('config.invalid', 'Identifier contains a NUL character');
  return '"' + name.replace(/"/g, '""') + '"';
}

/** Quotes a string literal (for places that take no bind parameters, e.g. AT TIME ZONE). */
export function quoteLiteral(s: string): string {
  if (s.includes('\u0000')) throw new TributaryError('config.invalid', 'Literal contains a NUL character');
  return "'" + s.replace(/'/g, "''") + "'";
}
