/**
 * `npm run chaos -- [--minutes M] [--kills K] [--platform kafka|embedded] [--rows N] [--exactly-once] [--json] …`
 *
 * Runs the fault-injection suite once (see harness.ts) and prints the report as a table, or as JSON with --json.
 * Exit status: 0 when the checks pass; 1 when something was missing, out of order, a flush sample covered an
 * event not yet in the platform, or (exactly-once) anything was duplicated; 2 for bad arguments; 3 when the
 * connector could not be created (e.g. exactly-once refused at CREATE).
 */
import { pathToFileURL } from 'node:url';
import { parseArgs, flagString } from '../../src/cli/args.js';
import { readProperties } from '../../src/cli/properties.js';
import { formatTable, machine } from '../common.js';
import { DEFAULTS, runChaos, type ChaosOptions, type ChaosReport } from './harness.js';

const USAGE = `Usage: npm run chaos -- [options]
  --platform kafka|embedded   platform (default kafka: a broker of the run's own, or --bootstrap-servers)
  --rows N                    single-row transactions (default ${DEFAULTS.rows})
  --minutes M                 duration of the writes and faults (default ${DEFAULTS.minutes})
  --kills K                   kill -9 of the Tributary server every 5–20 s for the whole run, at least K
                              (closer together if needed; default ${DEFAULTS.kills}; 0: none)
  --broker-kills N            kill -9 of the Kafka broker (default ${DEFAULTS.brokerKills}; Kafka only)
  --pg-restarts N             restarts of PostgreSQL (default ${DEFAULTS.pgRestarts})
  --pauses N                  SIGSTOP/SIGCONT of the server (default ${DEFAULTS.pauses})
  --pause-seconds S           length of a pause (default ${DEFAULTS.pauseSeconds})
  --wal-sender-timeout S      PostgreSQL's wal_sender_timeout (default ${DEFAULTS.walSenderTimeoutSeconds})
  --exactly-once              exactly.once.support=required, transaction.boundary=poll, read read_committed
  --writers N --keys N        writer connections and key buckets (default ${DEFAULTS.writers}, ${DEFAULTS.keys})
  --partitions N              partitions of the data topic (default ${DEFAULTS.partitions})
  --bootstrap-servers B       an existing Kafka cluster (no broker kills)
  --seed N                    repeat a run's fault schedule
  --catch-up-timeout S        wait for the connector after the faults (default ${DEFAULTS.catchUpTimeoutSeconds})
  --worker-config FILE        extra worker settings (a properties file, passed to the server with --config)
  --connector-config FILE     extra connector settings (a properties file, over the run's own)
  --keep                      keep the run's folder (data dir, server log)
  --json                      print the report as JSON`;

function num(flags: Record<string, string | true>, name: string, dflt: number, min = 0): number {
  const v = flagString(flags, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got '${v}'`);
  return n;
}

function fileConfig(flags: Record<string, string | true>, name: string): Record<string, string> | undefined {
  const file = flagString(flags, name);
  return file ? readProperties(file) : undefined;
}

export function parseChaosArgs(argv: string[]): Partial<ChaosOptions> & { json: boolean } {
  const { flags, positional } = parseArgs(argv, ['json', 'exactly-once', 'keep', 'help']);
  if (flags['help']) throw new Error('help');
  if (positional.length) throw new Error(`unexpected argument '${positional[0]}'`);
  const known = new Set(['platform', 'rows', 'minutes', 'kills', 'broker-kills', 'pg-restarts', 'pauses', 'pause-seconds', 'wal-sender-timeout', 'exactly-once', 'writers', 'keys', 'partitions', 'bootstrap-servers', 'seed', 'catch-up-timeout', 'worker-config', 'connector-config', 'keep', 'json', 'help']);
  for (const k of Object.keys(flags)) if (!known.has(k)) throw new Error(`unknown option --${k}`);
  const platform = flagString(flags, 'platform') ?? 'kafka';
  if (platform !== 'kafka' && platform !== 'embedded') throw new Error(`--platform must be kafka or embedded, got '${platform}'`);
  const writers = num(flags, 'writers', DEFAULTS.writers, 1);
  return {
    platform,
    rows: num(flags, 'rows', DEFAULTS.rows, 1),
    minutes: num(flags, 'minutes', DEFAULTS.minutes, 0.05),
    kills: num(flags, 'kills', DEFAULTS.kills),
    brokerKills: num(flags, 'broker-kills', DEFAULTS.brokerKills),
    pgRestarts: num(flags, 'pg-restarts', DEFAULTS.pgRestarts),
    pauses: num(flags, 'pauses', DEFAULTS.pauses),
    pauseSeconds: num(flags, 'pause-seconds', DEFAULTS.pauseSeconds, 1),
    walSenderTimeoutSeconds: num(flags, 'wal-sender-timeout', DEFAULTS.walSenderTimeoutSeconds, 1),
    exactlyOnce: flags['exactly-once'] === true,
    writers,
    keys: Math.max(writers, num(flags, 'keys', DEFAULTS.keys, 1)),
    partitions: num(flags, 'partitions', DEFAULTS.partitions, 1),
    bootstrap: flagString(flags, 'bootstrap-servers') ?? (platform === 'kafka' ? process.env.KAFKA_BOOTSTRAP_SERVERS || undefined : undefined),
    seed: num(flags, 'seed', 0),
    catchUpTimeoutSeconds: num(flags, 'catch-up-timeout', DEFAULTS.catchUpTimeoutSeconds, 1),
    workerConfig: fileConfig(flags, 'worker-config'),
    connectorConfig: fileConfig(flags, 'connector-config'),
    keep: flags['keep'] === true,
    json: flags['json'] === true,
  };
}

export function formatReport(r: ChaosReport): string {
  if (r.createRefused) {
    return [
      `platform ${r.platform}${r.exactlyOnce ? ', exactly.once.support=required, transaction.boundary=poll' : ''}: the connector could not be created, nothing was run.`,
      `CREATE refused, ${r.createRefused}`,
      '',
      'FAIL',
    ].join('\n');
  }
  const f = r.faults;
  const rows: Array<[string, string | number]> = [
    ['platform', `${r.platform}${r.exactlyOnce ? ' (exactly-once, read_committed)' : ' (at least once)'}`],
    ['committed', r.committed],
    ['delivered (records)', r.delivered],
    ['delivered (distinct)', r.distinctDelivered],
    ['missing', r.missing],
    ['duplicated', `${r.duplicated} (in ${r.keysWithDuplicates} of ${r.keys} keys, ${r.replays} replays)`],
    ['duplicates after', summariseCauses(r.duplicatesByFault)],
    ['out-of-order keys', `${r.outOfOrderKeys} (non-suffix duplicates: ${r.nonSuffixDuplicateKeys})`],
    ['never committed', r.unexpected],
    ['flush-LSN violations', `${r.flushViolations} (of ${r.flushSamples} samples; ${r.flushTightSamples} covered the newest record)`],
    ['Tributary kill -9', f.tributaryKills],
    ['Kafka broker kill -9', f.brokerKills],
    ['PostgreSQL restarts', f.pgRestarts],
    ['SIGSTOP/SIGCONT', `${f.pauses}${r.pauseDroppedWalsender.length ? ` (walsender dropped: ${r.pauseDroppedWalsender.map((d) => (d ? 'yes' : 'no')).join(', ')})` : ''}`],
    ['writer retries', r.writerRetries],
    ['task at the end', r.taskState],
    ['task FAILED during the run', r.taskFailures.length ? r.taskFailures.join('; ') : 'never'],
    ['catch-up after faults', r.catchUpSeconds === null ? 'no' : `${r.catchUpSeconds} s`],
    ['run time', `${r.runSeconds} s`],
    ['seed', String(r.seed)],
  ];
  const lines = [formatTable(['measure', 'value'], rows)];
  if (r.examples.length) lines.push('\nexamples:', ...r.examples.map((e) => `  - ${e}`));
  lines.push('', r.ok ? 'PASS' : `FAIL:\n${r.failures.map((x) => `  - ${x}`).join('\n')}`);
  if (r.workDir) lines.push(`run folder (server log): ${r.workDir}`);
  return lines.join('\n');
}

/** duplicates per kind of fault: "server kill -9 3,700 (26 kills), Kafka broker kill -9 150" */
function summariseCauses(byFault: Record<string, number>): string {
  const kinds = new Map<string, { n: number; faults: number }>();
  for (const [fault, n] of Object.entries(byFault)) {
    const kind = fault.replace(/ #\d+$/, '');
    const e = kinds.get(kind) ?? { n: 0, faults: 0 };
    e.n += n;
    e.faults++;
    kinds.set(kind, e);
  }
  if (!kinds.size) return '–';
  return [...kinds].sort((a, b) => b[1].n - a[1].n).map(([k, e]) => `${k} ${e.n}${e.faults > 1 ? ` (over ${e.faults})` : ''}`).join(', ');
}

export function exitCode(r: ChaosReport): number {
  if (r.ok) return 0;
  return r.createRefused ? 3 : 1;
}

async function main(argv: string[]): Promise<number> {
  let opts: ReturnType<typeof parseChaosArgs>;
  try {
    opts = parseChaosArgs(argv);
  } catch (e) {
    const m = (e as Error).message;
    process.stderr.write(`${m === 'help' ? '' : `${m}\n`}${USAGE}\n`);
    return m === 'help' ? 0 : 2;
  }
  const { json, ...chaos } = opts;
  const report = await runChaos({ ...chaos, log: (s) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`) });
  if (json) process.stdout.write(JSON.stringify({ ...report, machine: machine() }, null, 2) + '\n');
  else process.stdout.write(formatReport(report) + '\n');
  return exitCode(report);
}

// run only as the entry point (the test imports the functions above)
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`chaos: ${sig}, stopping (child processes are killed on exit)\n`);
      process.exit(130);
    });
  }
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`chaos failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
