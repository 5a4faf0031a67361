import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { TributaryError } from '../sdk/errors.js';
import type { Worker } from '../runtime/worker.js';
import { redact } from '../runtime/secrets.js';
import { executeStatement, maskedStatementText } from '../commands/sql.js';
import { VERSION } from '../commands/index.js';
import { parseScript } from '../sql/parser.js';
import type { Entity, StatementError } from '../sql/entities.js';
import type { Logger } from '../sdk/logger.js';
import { authorize, guardListen, resolveAuth, resolveTls, type AuthOptions, type TlsOptions } from './auth.js';
import { handleMetrics } from './metrics.js';
import { handleRest } from './rest.js';
import { handleConsole } from './console/index.js';

const MAX_BODY = 4 * 1024 * 1024;

/** HTTP status for an error code (Kafka Connect / ksqlDB conventions). */
export function httpStatusOf(err: unknown): number {
  if (!(err instanceof TributaryError)) return 500;
  switch (err.code) {
    case 'config.invalid':
    case 'config.unknown_key':
    case 'config.missing_key':
    case 'sql.syntax':
    case 'sql.unsupported':
    case 'connector.unknown_class':
    case 'transform.invalid':
      return 400;
    case 'connector.not_found':
    case 'platform.topic_missing':
      return 404;
    case 'connector.exists':
    case 'connector.bad_state':
      return 409;
    default:
      return 500;
  }
}

export function errorBody(err: unknown, statementText?: string): StatementError {
  const te = err instanceof TributaryError ? err : null;
  const details = te?.details as { line?: number; column?: number } | undefined;
  const body: StatementError = {
    '@type': 'statement_error',
    error_code: httpStatusOf(err) * 100 + 1,
    message: redact(te ? te.message : err instanceof Error ? err.message : String(err)),
    entities: [],
  };
  if (statementText) body.statementText = redact(statementText);
  if (te?.hint) body.hint = redact(te.hint);
  if (details?.line) body.line = details.line;
  if (details?.column) body.column = details.column;
  return body;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new TributaryError('config.invalid', 'Request body too large');
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text ? JSON.parse(text) : {};
  } catch (e) {
    throw new TributaryError('config.invalid', `Request body is not valid JSON: ${(e as Error).message}`);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = redact(JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}

/**
 * The worker's HTTP endpoint: `POST /ksql` runs SQL statements (`{"ksql": "…;"}`) and answers with one entity per
 * statement; a script with PRINT streams newline-delimited JSON entities until the LIMIT or the client goes away.
 */
export function createHttpServer(worker: Worker, logger: Logger, opts: HttpServerOptions = {}): Server {
  // tokens and TLS from the options, else from the environment (see auth.ts)
  const auth = resolveAuth(opts.auth ?? {});
  const tls = resolveTls(opts.tls ?? {}, process.env, !opts.auth?.ignoreEnv);
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (!authorize(req, res, auth, server)) return;
    void handle(worker, req, res).catch((err) => {
      logger.error('request failed', { method: req.method, url: req.url, error: String(err) });
      if (!res.headersSent) send(res, httpStatusOf(err), errorBody(err));
      else res.end();
    });
  };
  const server: Server = tls ? (createHttpsServer(tls, listener) as unknown as Server) : createServer(listener);
  guardListen(server, auth);
  return server;
}

/** Security options of the HTTP server (the CLI maps its flags onto these). */
export interface HttpServerOptions {
  auth?: AuthOptions;
  tls?: TlsOptions;
}

async function handle(worker: Worker, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/info')) {
    return send(res, 200, { version: VERSION, commit: 'tributary', kafka_cluster_id: null, worker_id: worker.workerId, platform: worker.platform.kind });
  }
  if (req.method === 'GET' && url.pathname === '/healthcheck') {
    return send(res, 200, { isHealthy: true });
  }
  if (req.method === 'POST' && (url.pathname === '/ksql' || url.pathname === '/query')) {
    const body = (await readJson(req)) as { ksql?: unknown; sql?: unknown };
    const script = typeof body.ksql === 'string' ? body.ksql : typeof body.sql === 'string' ? body.sql : null;
    if (script === null) throw new TributaryError('config.invalid', 'Missing "ksql" in the request body', { hint: 'POST {"ksql": "SHOW CONNECTORS;"}' });
    let statements;
    try {
      statements = parseScript(script);
    } catch (err) {
      return send(res, httpStatusOf(err), errorBody(err));
    }
    const streaming = statements.some((s) => s.kind === 'print');
    if (!streaming) {
      const done: Entity[] = [];
      let current: string | undefined;
      try {
        for (const st of statements) {
          current = maskedStatementText(st);
          done.push(...(await executeStatement(worker, st, {})));
        }
      } catch (err) {
        const body = errorBody(err, current);
        body.entities = done;
        return send(res, httpStatusOf(err), body);
      }
      return send(res, 200, done);
    }
    const ac = new AbortController();
    res.on('close', () => ac.abort(new TributaryError('internal', 'client went away')));
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const line = (e: unknown) => res.write(redact(JSON.stringify(e)) + '\n');
    let current: string | undefined;
    try {
      // answers go out in statement order, each as soon as its statement has run
      for (const st of statements) {
        current = maskedStatementText(st);
        for (const e of await executeStatement(worker, st, { signal: ac.signal, onStream: line })) line(e);
      }
    } catch (err) {
      if (!ac.signal.aborted) line(errorBody(err, current));
    }
    res.end();
    return;
  }
  if ((await handleMetrics(worker, req, res, url)) || (await handleRest(worker, req, res, url)) || (await handleConsole(worker, req, res, url))) return;
  send(res, 404, { error_code: 404, message: `Unknown endpoint ${req.method} ${url.pathname}` });
}
