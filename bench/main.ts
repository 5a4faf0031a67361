import { parseArgs, flagString } from '../src/cli/args.js';

const USAGE = `Usage: npm run bench -- <jdbc|kafka|pg-cdc|compare> [--rows N] [--quick] [--json] [--bootstrap host:port]`;

async function main(argv: string[]): Promise<number> {
  const [which, ...rest] = argv;
  const { flags } = parseArgs(rest, ['quick', 'json']);
  const rows = flagString(flags, 'rows', 'records');
  const common = { quick: flags['quick'] === true, json: flags['json'] === true, rows: rows ? Number(rows) : undefined };
  switch (which) {
    case 'jdbc':
      await (await import('./jdbc.js')).runJdbcBench(common);
      return 0;
    case 'kafka':
      await (await import('./kafka.js')).runKafkaBenchCli(rest);
      return 0;
    case 'pg-cdc':
      await (await import('./pg-cdc.js')).runPgCdcBench({ ...common, bootstrap: flagString(flags, 'bootstrap') });
      return 0;
    case 'compare':
      await (await import('./compare/main.js')).runCompareBench(common);
      return 0;
    default:
      process.stderr.write(`${which ? `Unknown benchmark '${which}'. ` : ''}${USAGE}\n`);
      return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
