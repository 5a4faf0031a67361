import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { freePort } from '../../src/connectors/embedded-postgres/index.js';
import { MAIN } from '../helpers/server-process.js';

/**
 * `npm start` (the demo): events of postgres_cities appear within 30 s, inserts keep coming, and Ctrl-C stops it
 * cleanly — exit code 0 after Tributary and then its PostgreSQL stopped, not the embedded-postgres package's own
 * signal handler exiting with 130 in the middle of that stop.
 */
test('the demo prints postgres_cities events within 30 s, and SIGINT stops it cleanly with exit code 0', { timeout: 120_000 }, async () => {
  const child = spawn(process.execPath, [MAIN, 'demo', '--port', String(await freePort())], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  try {
    const t0 = Date.now();
    // the three seeded cities, then one the demo inserted after the connector started
    while (!(/"name":"Amsterdam"/.test(out) && /"name":"[A-Za-z ]+ \d+"/.test(out))) {
      assert.ok(Date.now() - t0 < 30_000, `no events within 30 s:\n${out}`);
      assert.equal(child.exitCode, null, `the demo exited:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(out, /rowtime: .*"schema":\{"type":"struct"/, 'events in Kafka Connect JSON with schema');
    child.kill('SIGINT');
    const { code, signal } = await exited;
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, out.slice(-2000));
    assert.match(out, /Stopping…\nStopped cleanly\.\n$/);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
