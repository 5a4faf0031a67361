/**
 * Issue #4, acceptance 3: Tributary's PostgreSQL CDC events compared byte for byte with Debezium 3.6.1's for the
 * same snapshot and the same changes (bench/debezium/compat.ts, `npm run compat -- debezium`).
 *
 * Every difference must be on bench/debezium/allowlist.json: `intended` ones are documented in
 * docs/debezium-compat.md; `bug` ones are allowed until fixed (remove the entry with the fix — the diagnostic
 * lists entries that matched nothing). Skipped when Java, Maven/a cached Debezium, or Kafka are missing, unless
 * `REQUIRE_DEBEZIUM=1`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getKafka } from '../connectors/kafka/broker-fixture.js';
import { setLogLevel } from '../../src/runtime/logger.js';
import { debeziumUnavailableReason, ensureConnectLibs, ensureDebeziumPlugin } from '../../bench/debezium/connect.js';
import { formatReport, runDebeziumCompat } from '../../bench/debezium/compat.js';
import { TABLES } from '../../bench/debezium/scenario.js';

setLogLevel((process.env.TRIBUTARY_LOG_LEVEL as 'warn') ?? 'error');
const required = process.env.REQUIRE_DEBEZIUM === '1' || process.env.REQUIRE_DEBEZIUM === 'true';

async function unavailable(): Promise<string | undefined> {
  const reason = debeziumUnavailableReason();
  if (reason) return reason;
  try {
    await ensureConnectLibs();
    await ensureDebeziumPlugin();
  } catch (e) {
    return `Debezium could not be obtained: ${(e as Error).message.split('\n')[0]}`;
  }
  const kafka = await getKafka();
  return kafka.bootstrap ? undefined : kafka.reason;
}

test('Debezium 3.6.1 and Tributary emit the same records for the same changes, apart from allowlisted differences', { timeout: 600_000 }, async (t) => {
  const reason = await unavailable();
  if (reason) {
    if (required) throw new Error(`REQUIRE_DEBEZIUM=1 but the comparison cannot run: ${reason}`);
    return t.skip(`Debezium comparison skipped: ${reason}`);
  }
  const kafka = await getKafka();
  const r = await runDebeziumCompat({ bootstrap: kafka.bootstrap!, log: (l) => t.diagnostic(l) });
  const report = formatReport(r);
  for (const line of report.split('\n')) t.diagnostic(line);

  // both connectors saw every table, with the same number of records and the same operations
  for (const tb of r.tables) {
    assert.ok(tb.debeziumEvents > 0, `Debezium wrote nothing for ${tb.table}`);
    assert.equal(tb.tributaryEvents, tb.debeziumEvents, `record count for ${tb.table}`);
    assert.equal(tb.ops.tributary, tb.ops.debezium, `operations for ${tb.table}`);
  }
  assert.deepEqual(r.tables.map((x) => x.table), TABLES.map((x) => x.name));
  // and every difference is a known one
  assert.equal(r.unexpected.length, 0, `differences not on bench/debezium/allowlist.json:\n${report}`);
});
