/**
 * `npm run kafka -- start|stop|status [--port N] [--dir D]`: a local single-node Apache Kafka broker for development.
 * Argument parsing and wiring only; the work is in src/connectors/kafka/broker.ts.
 */
import path from 'node:path';
import { brokerDirFor, brokerStatus, knownBrokerDirs, startBroker, stopBrokerAt } from '../connectors/kafka/broker.js';
import { createLogger } from '../runtime/logger.js';
import { TributaryError } from '../sdk/errors.js';

const USAGE = `usage: npm run kafka -- start|stop|status [--port N] [--dir D] [--heap 512m]

  start    fetch Apache Kafka from Maven Central (first time; cached in .cache/kafka or $TRIBUTARY_CACHE),
           format KRaft storage and run a single-node broker on 127.0.0.1:<port> in the background
  stop     stop the broker (SIGTERM, then SIGKILL)
  status   tell whether it runs and answers

  --port N   client port (default 9092)
  --dir D    broker folder: config, data, pid and log (default .cache/kafka/broker-<port>)
  --heap H   JVM heap (default 512m)`;

function parse(argv: string[]): { cmd?: string; port?: number; dir?: string; heap?: string; help?: boolean } {
  const out: { cmd?: string; port?: number; dir?: string; heap?: string; help?: boolean } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--port' || flag === '-p') {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 1 || v > 65535) throw new Error(`--port needs a port number`);
      out.port = v;
    } else if (flag === '--dir' || flag === '-d') out.dir = value();
    else if (flag === '--heap') out.heap = value();
    else if (flag === '--help' || flag === '-h') out.help = true;
    else if (!a.startsWith('-') && !out.cmd) out.cmd = a;
    else throw new Error(`unknown argument '${a}'`);
  }
  return out;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parse(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help || !args.cmd) {
    console.log(USAGE);
    return args.help ? 0 : 2;
  }
  const port = args.port ?? 9092;
  const dir = path.resolve(args.dir ?? brokerDirFor(port));
  switch (args.cmd) {
    case 'start': {
      const st = await brokerStatus(dir);
      if (st.running) {
        console.log(`Kafka is already running: pid ${st.pid}, bootstrap 127.0.0.1:${st.port}, dir ${dir}`);
        return 0;
      }
      const b = await startBroker({ port, dir, heap: args.heap, detached: true, logger: createLogger({ component: 'kafka' }) });
      console.log(`Kafka is running: bootstrap ${b.bootstrap}, pid ${b.pid}, dir ${b.dir}, log ${path.join(b.dir, 'broker.log')}`);
      return 0;
    }
    case 'stop': {
      const stopped = await stopBrokerAt(dir);
      console.log(stopped ? `Kafka stopped (dir ${dir})` : `Kafka was not running (dir ${dir})`);
      return 0;
    }
    case 'status': {
      const dirs = args.dir || args.port ? [dir] : knownBrokerDirs();
      if (dirs.length === 0) {
        console.log('Kafka is not running (no broker folder yet; start one with `npm run kafka -- start`)');
        return 3;
      }
      let anyRunning = false;
      for (const d of dirs) {
        const st = await brokerStatus(d);
        anyRunning ||= st.running;
        console.log(
          st.running
            ? `Kafka is running: pid ${st.pid}, bootstrap 127.0.0.1:${st.port}, ${st.ready ? 'answering metadata' : 'NOT answering metadata yet'}, dir ${d}`
            : `Kafka is not running (dir ${d})`,
        );
      }
      return anyRunning ? 0 : 3;
    }
    default:
      console.error(`unknown command '${args.cmd}'\n\n${USAGE}`);
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof TributaryError ? `${e.describe()}${e.details ? `\n${String(e.details)}` : ''}` : e);
    process.exit(1);
  },
);
