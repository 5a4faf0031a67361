/**
 * `npm run compat -- debezium [--bootstrap HOST:PORT] [--set key=value …] [--keep] [--json] [--log-level L]`
 *
 * Runs bench/debezium/compat.ts and prints the difference report; exits 1 when a difference is not on the
 * allowlist (bench/debezium/allowlist.json), 0 otherwise. Kafka: `--bootstrap`, else `KAFKA_BOOTSTRAP_SERVERS`,
 * else the broker of `npm run kafka -- start` at 127.0.0.1:9092 when it answers, else a throwaway broker.
 */
import { rmSync, statSync } from 'node:fs';
import { metadataBrokerCount, startBroker, tempBrokerDir, type BrokerHandle } from '../../src/connectors/kafka/broker.js';
import { setLogLevel, setLogSink } from '../../src/runtime/logger.js';
import { formatReport, runDebeziumCompat } from './compat.js';
import { debeziumUnavailableReason } from './connect.js';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const USAGE = `usage: npm run compat -- debezium [--bootstrap HOST:PORT] [--set key=value …] [--keep] [--json]

  Debezium ${'3.6.1.Final'} (Kafka Connect standalone) and Tributary read the same PostgreSQL changes into the same
  Kafka broker; their records are compared byte for byte. Exit 1 on a difference not in bench/debezium/allowlist.json.

  --bootstrap H:P   Kafka (default: KAFKA_BOOTSTRAP_SERVERS, else 127.0.0.1:9092 if it answers, else a throwaway broker)
  --set k=v         connector property for both connectors (repeatable), e.g. --set decimal.handling.mode=string
  --keep            keep topics, the Connect run folder and log
  --json            print the result as JSON after the report
  --log-level L     Tributary's log level (default warn; logs go to a file in the temp folder)`;

async function main(argv: string[]): Promise<number> {
  const [which, ...rest] = argv;
  if (which !== 'debezium') {
    process.stderr.write(`${which && which !== '--help' ? `unknown comparison '${which}'\n\n` : ''}${USAGE}\n`);
    return which === '--help' ? 0 : 2;
  }
  let bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS;
  const extra: Record<string, string> = {};
  let keep = false;
  let json = false;
  let level = 'warn';
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const val = () => {
      const v = a.includes('=') && a.startsWith('--bootstrap=') ? a.slice(a.indexOf('=') + 1) : rest[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--bootstrap' || a.startsWith('--bootstrap=')) bootstrap = val();
    else if (a === '--set') {
      const kv = rest[++i] ?? '';
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new Error(`--set needs key=value, got '${kv}'`);
      extra[kv.slice(0, eq)] = kv.slice(eq + 1);
    } else if (a === '--keep') keep = true;
    else if (a === '--json') json = true;
    else if (a === '--log-level') level = rest[++i] ?? 'warn';
    else throw new Error(`unknown argument '${a}'\n\n${USAGE}`);
  }
  const reason = debeziumUnavailableReason();
  if (reason) {
    process.stderr.write(`cannot run Debezium here: ${reason}\n`);
    return 2;
  }
  let own: BrokerHandle | undefined;
  if (!bootstrap) {
    if (await metadataBrokerCount(9092).then((n) => n > 0, () => false)) bootstrap = '127.0.0.1:9092';
    else {
      process.stderr.write('starting a throwaway Kafka broker…\n');
      const dir = tempBrokerDir();
      own = await startBroker({ port: 0, dir, heap: '384m' });
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      bootstrap = own.bootstrap;
    }
  }
  const logFile = path.join(tmpdir(), `tributary-compat-${process.pid}.log`);
  const logStream = createWriteStream(logFile);
  setLogSink((line) => logStream.write(line + '\n'));
  setLogLevel(level as 'warn');
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  progress(`Kafka ${bootstrap}`);
  try {
    const r = await runDebeziumCompat({ bootstrap, extraConfig: extra, keep, log: progress });
    process.stdout.write(formatReport(r) + '\n');
    if (r.connectLog) process.stdout.write(`Connect log: ${r.connectLog}\n`);
    if (json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    return r.unexpected.length ? 1 : 0;
  } finally {
    await own?.stop();
    await new Promise<void>((r) => logStream.end(r));
    if (statSync(logFile, { throwIfNoEntry: false })?.size === 0) rmSync(logFile, { force: true });
    else progress(`Tributary's log: ${logFile}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`compat failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
