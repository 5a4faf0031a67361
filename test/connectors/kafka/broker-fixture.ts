/**
 * A Kafka broker for tests.
 *
 * ```ts
 * const kafka = await getKafka();
 * test('…', async (t) => {
 *   if (!kafka.bootstrap) return t.skip(kafka.reason);
 *   …
 * });
 * ```
 *
 * - `KAFKA_BOOTSTRAP_SERVERS` set: that cluster is used as is.
 * - Otherwise one broker per test process is started with `startBroker` on a free port in a temporary folder and
 *   stopped (and its folder removed) when the process exits.
 * - No Java or Maven (and no cached Kafka): `{bootstrap: null, reason}` so tests skip, unless `REQUIRE_KAFKA=1`,
 *   where that (and any start failure) throws.
 */
import { rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { brokerUnavailableReason, startBroker, tempBrokerDir, type BrokerHandle, type BrokerOptions } from '../../../src/connectors/kafka/broker.js';
import { createLogger } from '../../../src/runtime/logger.js';

export type KafkaFixture = { bootstrap: string; reason?: undefined; broker?: BrokerHandle } | { bootstrap: null; reason: string; broker?: undefined };

let shared: Promise<KafkaFixture> | undefined;
const required = () => process.env.REQUIRE_KAFKA === '1' || process.env.REQUIRE_KAFKA === 'true';

/** Bootstrap servers of the test broker (shared by the whole test process), or null with the reason to skip. */
export function getKafka(): Promise<KafkaFixture> {
  shared ??= (async (): Promise<KafkaFixture> => {
    const env = process.env.KAFKA_BOOTSTRAP_SERVERS;
    if (env) return { bootstrap: env };
    const reason = brokerUnavailableReason();
    if (reason) {
      if (required()) throw new Error(`REQUIRE_KAFKA=1 but no Kafka broker can be started: ${reason}`);
      return { bootstrap: null, reason: `Kafka tests skipped: ${reason} (set KAFKA_BOOTSTRAP_SERVERS or install a JDK and Maven)` };
    }
    try {
      const broker = await startOwnBroker();
      return { bootstrap: broker.bootstrap, broker };
    } catch (e) {
      if (required()) throw e;
      return { bootstrap: null, reason: `Kafka tests skipped: could not start a broker: ${(e as Error).message}` };
    }
  })();
  return shared;
}

/**
 * Why this process cannot start a broker of its own (for tests that stop or kill one), or undefined when it can.
 * With `REQUIRE_KAFKA=1` the absence throws instead.
 */
export function ownBrokerUnavailable(): string | undefined {
  const reason = brokerUnavailableReason();
  if (reason && required()) throw new Error(`REQUIRE_KAFKA=1 but no Kafka broker can be started: ${reason}`);
  return reason ? `needs a broker of its own: ${reason}` : undefined;
}

/**
 * Starts a broker of its own (free port, temporary folder), for tests that stop, kill or restart it. The folder
 * is removed when the process exits; call `stop()` when done.
 */
export async function startOwnBroker(opts: BrokerOptions = {}): Promise<BrokerHandle> {
  const dir = opts.dir ?? tempBrokerDir();
  const broker = await startBroker({
    port: 0,
    dir,
    heap: '384m',
    logger: process.env.TRIBUTARY_LOG_LEVEL === 'debug' ? createLogger({ component: 'test-kafka' }) : undefined,
    ...opts,
  });
  process.once('exit', () => {
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  });
  killOnSignals();
  return broker;
}

let signalsHooked = false;
/** 'exit' does not run on SIGINT/SIGTERM: turn those into an exit so the brokers are killed and folders removed. */
function killOnSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => process.exit(sig === 'SIGINT' ? 130 : 143));
  }
}

/** A random topic name for one test. */
export function randomTopic(prefix = 'test'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
