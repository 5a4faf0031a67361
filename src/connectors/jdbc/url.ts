import { readFileSync } from 'node:fs';
import type { ClientConfig } from 'pg';
import { TributaryError } from '../../sdk/errors.js';

export interface JdbcTarget {
  host: string;
  port: number;
  database: string;
  params: Record<string, string>;
}

/** Parses `jdbc:postgresql://host[:port][,host2…]/database?k=v&…` (the first host is used). */
export function parseJdbcUrl(url: string): JdbcTarget {
  const m = /^jdbc:postgresql:\/\/([^/?]*)(?:\/([^?]*))?(?:\?(.*))?$/i.exec(url.trim());
  if (!m) {
    throw new TributaryError('config.invalid', `Cannot parse connection.url`, { key: 'connection.url', hint: 'expected jdbc:postgresql://host:port/database' });
  }
  const firstHost = (m[1] ?? '').split(',')[0] ?? '';
  let host = firstHost || 'localhost';
  let port = 5432;
  const hp = /^\[([^\]]+)\](?::(\d+))?$/.exec(host) ?? /^([^:]+)(?::(\d+))?$/.exec(host);
  if (hp) {
    host = hp[1]!;
    if (hp[2]) port = Number(hp[2]);
  }
  const params: Record<string, string> = {};
  for (const kv of (m[3] ?? '').split('&')) {
    if (!kv) continue;
    const i = kv.indexOf('=');
    const k = decodeURIComponent(i < 0 ? kv : kv.slice(0, i));
    params[k] = i < 0 ? '' : decodeURIComponent(kv.slice(i + 1));
  }
  return { host, port, database: decodeURIComponent(m[2] ?? ''), params };
}

/**
 * node-postgres client settings for a JDBC URL plus connection.user/password (which win over the URL's).
 * sslmode follows libpq/pgJDBC: disable, allow/prefer (try TLS without verification), require (TLS, no
 * verification), verify-ca, verify-full (TLS with the CA from sslrootcert; verify-full also checks the host name).
 */
export function clientConfig(url: string, user: string | null, password: string | null, rootCert?: string | null): ClientConfig {
  const t = parseJdbcUrl(url);
  const sslmode = (t.params['sslmode'] ?? (t.params['ssl'] === 'true' ? 'verify-full' : 'disable')).toLowerCase();
  const cfg: ClientConfig = {
    host: t.host,
    port: t.port,
    database: t.database || undefined,
    user: user ?? t.params['user'] ?? undefined,
    password: password ?? t.params['password'] ?? undefined,
    application_name: t.params['ApplicationName'] ?? 'tributary',
    connectionTimeoutMillis: Number(t.params['connectTimeout'] ?? 10) * 1000,
    keepAlive: true,
  };
  const ca = rootCert ?? t.params['sslrootcert'];
  switch (sslmode) {
    case 'disable':
      break;
    case 'allow':
    case 'prefer':
    case 'require':
      cfg.ssl = { rejectUnauthorized: false };
      break;
    case 'verify-ca':
      cfg.ssl = { rejectUnauthorized: true, ca: ca ? readFileSync(ca, 'utf8') : undefined, checkServerIdentity: () => undefined };
      break;
    case 'verify-full':
      cfg.ssl = { rejectUnauthorized: true, ca: ca ? readFileSync(ca, 'utf8') : undefined };
      break;
    default:
      throw new TributaryError('config.invalid', `Unknown sslmode '${sslmode}' in connection.url`, { key: 'connection.url', hint: 'one of disable, allow, prefer, require, verify-ca, verify-full' });
  }
  return cfg;
}
