import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createHttpServer } from '../../src/server/http.js';
import { isLoopback, resolveAuth } from '../../src/server/auth.js';
import { createLogger } from '../../src/runtime/logger.js';
import { api, startServerApp, type ServerTestApp } from './helpers.js';

const ADMIN = 'admin-token-0123456789abcdef';
const READ = 'read-token-0123456789abcdef';

let app: ServerTestApp;
let dir: string;
const servers: Server[] = [];

before(async () => {
  delete process.env.TRIBUTARY_API_TOKEN;
  delete process.env.TRIBUTARY_API_READ_TOKEN;
  delete process.env.TRIBUTARY_API_TOKEN_FILE;
  app = await startServerApp();
  dir = mkdtempSync(join(tmpdir(), 'tributary-auth-'));
});

after(async () => {
  for (const s of servers) {
    s.closeAllConnections?.();
    await new Promise((r) => s.close(() => r(undefined)));
  }
  await app?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function listen(server: Server, host: string): Promise<number> {
  servers.push(server);
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, host, () => res());
  });
  return (server.address() as AddressInfo).port;
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('API security', () => {
  test('loopback addresses are recognised', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '[::1]', '::ffff:127.0.0.1']) assert.equal(isLoopback(h), true, h);
    for (const h of ['0.0.0.0', '::', '', undefined, '10.0.0.1', 'example.com', '::ffff:10.0.0.1']) assert.equal(isLoopback(h), false, String(h));
  });

  test('the default server binds loopback and needs no token there', async () => {
    assert.match(app.url, /^http:\/\/127\.0\.0\.1:/);
    assert.equal((await api(app.url, 'GET', '/connectors')).status, 200);
  });

  test('listening on a non-loopback address without a token is refused with a clear error', async () => {
    const server = createHttpServer(app.worker, createLogger(), { auth: { ignoreEnv: true } });
    await assert.rejects(listen(server, '0.0.0.0'), /Refusing to listen on 0\.0\.0\.0 without an API token/);
    const dataDir = mkdtempSync(join(dir, 'app-'));
    const { startApp } = await import('../../src/server/app.js');
    await assert.rejects(startApp({ dataDir, port: 0, host: '0.0.0.0', logger: createLogger() }), /TRIBUTARY_API_TOKEN/);
  });

  test('on 0.0.0.0 a request without a valid token is refused, an admin token may do anything and a read token only GET', async () => {
    const server = createHttpServer(app.worker, createLogger(), { auth: { token: ADMIN, readToken: READ, ignoreEnv: true } });
    const port = await listen(server, '0.0.0.0');
    const base = `http://127.0.0.1:${port}`;
    const none = await api(base, 'GET', '/connectors');
    assert.equal(none.status, 401);
    assert.equal(none.body.error_code, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal((await api(base, 'GET', '/connectors', undefined, bearer('wrong-token-0123456789'))).status, 401);
    assert.equal((await api(base, 'POST', '/ksql', { ksql: 'SHOW CONNECTORS;' })).status, 401);
    assert.equal((await api(base, 'GET', '/metrics')).status, 401);
    assert.equal((await api(base, 'GET', '/connectors', undefined, bearer(ADMIN))).status, 200);
    assert.equal((await api(base, 'GET', '/connectors', undefined, bearer(READ))).status, 200);
    const readWrite = await api(base, 'PUT', '/admin/loggers/root', { level: 'ERROR' }, bearer(READ));
    assert.equal(readWrite.status, 403);
    assert.equal(readWrite.body.error_code, 403);
    assert.equal((await api(base, 'POST', '/ksql', { ksql: 'SHOW CONNECTORS;' }, bearer(READ))).status, 403);
    assert.equal((await api(base, 'PUT', '/admin/loggers/root', { level: 'ERROR' }, bearer(ADMIN))).status, 200);
    assert.equal((await api(base, 'POST', '/ksql', { ksql: 'SHOW CONNECTORS;' }, bearer(ADMIN))).status, 200);
    // probes need no token and learn nothing but counts
    const health = await api(base, 'GET', '/health');
    assert.equal(health.status, 200);
  });

  test('tokens come from a token file with admin and read lines', async () => {
    const file = join(dir, 'tokens');
    writeFileSync(file, `# tokens\nadmin ${ADMIN}\nread ${READ}\n`);
    const auth = resolveAuth({ tokenFile: file, ignoreEnv: true });
    assert.deepEqual(auth.tokens.map((t) => t.role), ['admin', 'read']);
    const server = createHttpServer(app.worker, createLogger(), { auth: { tokenFile: file, ignoreEnv: true } });
    const port = await listen(server, '0.0.0.0');
    const base = `http://127.0.0.1:${port}`;
    assert.equal((await api(base, 'GET', '/connectors')).status, 401);
    assert.equal((await api(base, 'GET', '/connectors', undefined, bearer(ADMIN))).status, 200);
    assert.equal((await api(base, 'DELETE', '/connectors/x', undefined, bearer(READ))).status, 403);
    assert.throws(() => resolveAuth({ token: 'short', ignoreEnv: true }), /too short/);
  });

  test('tokens come from the environment', () => {
    const auth = resolveAuth({}, { TRIBUTARY_API_TOKEN: ADMIN, TRIBUTARY_API_READ_TOKEN: READ });
    assert.deepEqual(auth.tokens.map((t) => t.role), ['admin', 'read']);
  });

  test('with a key and a certificate the server speaks HTTPS and still wants the token', async (t) => {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    } catch {
      return t.skip('openssl is not available');
    }
    chmodSync(key, 0o600);
    const server = createHttpServer(app.worker, createLogger(), { auth: { token: ADMIN, ignoreEnv: true }, tls: { keyFile: key, certFile: cert } });
    const port = await listen(server, '0.0.0.0');
    const get = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((res, rej) => {
        const req = httpsRequest({ host: '127.0.0.1', port, path: '/connectors', headers, ca: readFileSync(cert) }, (r) => {
          let body = '';
          r.on('data', (c) => (body += c));
          r.on('end', () => res({ status: r.statusCode ?? 0, body }));
        });
        req.on('error', rej);
        req.end();
      });
    assert.equal((await get({})).status, 401);
    const ok = await get(bearer(ADMIN));
    assert.equal(ok.status, 200);
    assert.ok(Array.isArray(JSON.parse(ok.body)));
    chmodSync(key, 0o644);
    assert.throws(() => createHttpServer(app.worker, createLogger(), { auth: { token: ADMIN, ignoreEnv: true }, tls: { keyFile: key, certFile: cert } }), /readable by group or others/);
  });
});
