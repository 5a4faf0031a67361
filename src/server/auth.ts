import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TributaryError } from '../sdk/errors.js';

/**
 * Security of the management API.
 *
 * - The server binds 127.0.0.1 unless told otherwise.
 * - Listening on any other address requires at least one token; `guardListen` makes `listen()` fail with a clear
 *   error otherwise, and every request is refused when that guard was bypassed.
 * - When tokens are configured, every request (loopback included) needs `Authorization: Bearer <token>`, except
 *   `GET /health` (liveness/readiness probes; it reveals no names, configs or data) and the static console page.
 * - An admin token may do everything; a read-only token may only GET (and HEAD).
 * - TLS: give a key and a certificate file and the server speaks HTTPS.
 */
export type Role = 'admin' | 'read';

export interface AuthOptions {
  /** admin token (default: env TRIBUTARY_API_TOKEN) */
  token?: string;
  /** read-only token (default: env TRIBUTARY_API_READ_TOKEN) */
  readToken?: string;
  /**
   * a file of tokens (default: env TRIBUTARY_API_TOKEN_FILE): one per line, `admin <token>` or `read <token>`;
   * a line holding only a token is an admin token; blank lines and `#` comments are ignored
   */
  tokenFile?: string;
  /** read nothing from the environment (tests, embedding) */
  ignoreEnv?: boolean;
}

export interface TlsOptions {
  /** PEM private key file (default: env TRIBUTARY_TLS_KEY) */
  keyFile?: string;
  /** PEM certificate (chain) file (default: env TRIBUTARY_TLS_CERT) */
  certFile?: string;
}

export interface ResolvedAuth {
  tokens: Array<{ role: Role; digest: Buffer }>;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Collects the configured tokens from options, a token file and the environment. */
export function resolveAuth(opts: AuthOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedAuth {
  const tokens: ResolvedAuth['tokens'] = [];
  const add = (role: Role, t: string | undefined) => {
    const v = t?.trim();
    if (!v) return;
    if (v.length < 16) {
      throw new TributaryError('config.invalid', `API ${role} token is too short (${v.length} characters)`, { hint: 'use at least 16 random characters, e.g. `openssl rand -hex 32`' });
    }
    tokens.push({ role, digest: digest(v) });
  };
  const useEnv = !opts.ignoreEnv;
  add('admin', opts.token ?? (useEnv ? env.TRIBUTARY_API_TOKEN : undefined));
  add('read', opts.readToken ?? (useEnv ? env.TRIBUTARY_API_READ_TOKEN : undefined));
  const file = opts.tokenFile ?? (useEnv ? env.TRIBUTARY_API_TOKEN_FILE : undefined);
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new TributaryError('config.invalid', `Cannot read the API token file ${file}: ${(err as Error).message}`, { cause: err });
    }
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const m = /^(admin|read)\s+(\S+)$/i.exec(line);
      if (m) add(m[1]!.toLowerCase() as Role, m[2]);
      else if (/^\S+$/.test(line)) add('admin', line);
      else throw new TributaryError('config.invalid', `Bad line in the API token file ${file}`, { hint: 'each line is `admin <token>`, `read <token>` or a bare admin token' });
    }
  }
  return { tokens };
}

/** Reads the TLS key and certificate (options or env TRIBUTARY_TLS_KEY / TRIBUTARY_TLS_CERT); null → plain HTTP. */
export function resolveTls(opts: TlsOptions = {}, env: NodeJS.ProcessEnv = process.env, useEnv = true): { key: Buffer; cert: Buffer } | null {
  const keyFile = opts.keyFile ?? (useEnv ? env.TRIBUTARY_TLS_KEY : undefined);
  const certFile = opts.certFile ?? (useEnv ? env.TRIBUTARY_TLS_CERT : undefined);
  if (!keyFile && !certFile) return null;
  if (!keyFile || !certFile) {
    throw new TributaryError('config.invalid', 'TLS needs both a key file and a certificate file', { hint: 'set both (TRIBUTARY_TLS_KEY and TRIBUTARY_TLS_CERT)' });
  }
  const read = (f: string, what: string) => {
    try {
      return readFileSync(f);
    } catch (err) {
      throw new TributaryError('config.invalid', `Cannot read the TLS ${what} file ${f}: ${(err as Error).message}`, { cause: err });
    }
  };
  try {
    const st = statSync(keyFile);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      // a readable key is a leak waiting to happen; refuse rather than warn
      throw new TributaryError('config.invalid', `TLS key file ${keyFile} is readable by group or others`, { hint: `chmod 600 ${keyFile}` });
    }
  } catch (err) {
    if (err instanceof TributaryError) throw err;
  }
  return { key: read(keyFile, 'key'), cert: read(certFile, 'certificate') };
}

/** Is this host (a listen address or a name) a loopback one? Empty / undefined means every interface. */
export function isLoopback(host: string | undefined | null): boolean {
  if (!host) return false;
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h.startsWith('::ffff:')) h = h.slice(7);
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^0{0,4}(:0{0,4}){6}:0{0,3}1$/.test(h);
  return false;
}

/** Throws (clearly) when listening on `host` would expose the API without a token. */
export function assertListenAllowed(host: string | undefined, auth: ResolvedAuth): void {
  if (isLoopback(host) || auth.tokens.length > 0) return;
  throw new TributaryError('config.invalid', `Refusing to listen on ${host || 'all interfaces'} without an API token: the REST API would be open to the network. Set TRIBUTARY_API_TOKEN (or TRIBUTARY_API_TOKEN_FILE), or listen on 127.0.0.1`, {
    hint: 'TRIBUTARY_API_TOKEN is the admin token, TRIBUTARY_API_READ_TOKEN a read-only one; a token file holds `admin <token>` / `read <token>` lines',
  });
}

/**
 * Makes `server.listen(port, host, …)` fail with the error of `assertListenAllowed` (emitted as the server's
 * 'error' event, as a busy port would be) instead of exposing an unauthenticated API.
 */
export function guardListen(server: Server, auth: ResolvedAuth): void {
  const original = server.listen.bind(server) as (...args: unknown[]) => Server;
  (server as { listen: (...args: unknown[]) => Server }).listen = (...args: unknown[]) => {
    let host: string | undefined;
    const first = args[0];
    if (first && typeof first === 'object') {
      const o = first as { host?: string; path?: string };
      host = o.path ? 'localhost' : o.host; // a unix socket is local
    } else if (typeof first === 'string' && !/^\d+$/.test(first)) {
      host = 'localhost'; // a unix socket path
    } else if (typeof args[1] === 'string') {
      host = args[1];
    }
    try {
      assertListenAllowed(host, auth);
    } catch (err) {
      process.nextTick(() => server.emit('error', err));
      return server;
    }
    return original(...args);
  };
}

function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error_code: status, message }));
}

/** The role the request's bearer token grants, or null (no / unknown token). */
export function roleOf(req: IncomingMessage, auth: ResolvedAuth): Role | null {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  if (!m) return null;
  const d = digest(m[1]!);
  let role: Role | null = null;
  for (const t of auth.tokens) {
    if (timingSafeEqual(t.digest, d) && (role === null || t.role === 'admin')) role = t.role;
  }
  return role;
}

/**
 * Checks a request; answers 401/403 itself (Connect's error body) and returns false when it must not proceed.
 * `server` tells on which address we listen (a wildcard or non-loopback address always needs a token).
 */
export function authorize(req: IncomingMessage, res: ServerResponse, auth: ResolvedAuth, server: Server): boolean {
  const path = (req.url ?? '/').split('?')[0];
  const method = req.method ?? 'GET';
  const readOnly = method === 'GET' || method === 'HEAD';
  // probes, and the console page itself (static; its data calls carry the token)
  if (readOnly && (path === '/health' || path === '/health/live' || path === '/health/ready' || path === '/console' || path === '/console/')) return true;
  const addr = server.address() as AddressInfo | string | null;
  const exposed = addr !== null && typeof addr === 'object' && !isLoopback(addr.address);
  if (auth.tokens.length === 0) {
    if (!exposed) return true;
    sendError(res, 403, 'This server listens on a non-loopback address without an API token; every request is refused. Set TRIBUTARY_API_TOKEN and restart.');
    return false;
  }
  const role = roleOf(req, auth);
  if (role === null) {
    const given = req.headers.authorization !== undefined;
    sendError(res, 401, given ? 'Invalid API token' : 'Authentication required: send Authorization: Bearer <token>', { 'www-authenticate': 'Bearer realm="tributary"' });
    return false;
  }
  if (role === 'read' && !readOnly) {
    sendError(res, 403, `The read-only token may not ${method} ${path}; use an admin token`);
    return false;
  }
  return true;
}
