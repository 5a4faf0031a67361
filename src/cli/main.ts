// subcommands are imported on demand: each pulls in only what it needs

const USAGE = `Tributary — event source connectors managed with SQL

Usage:
  tributary server [--data-dir DIR] [--port 8083] [--host 127.0.0.1] [--bootstrap-servers HOST:PORT] [--config worker.properties]
  tributary sql [-e "STATEMENTS;"] [-f file.sql] [--server http://127.0.0.1:8083]   (no -e/-f: interactive shell)
  tributary demo [--data-dir DIR]                                                  (what npm start runs)
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'server':
      return (await import('./server.js')).runServer(rest);
    case 'sql':
      return (await import('./sql.js')).runSql(rest);
    case 'demo':
      return (await import('./demo.js')).runDemo(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return cmd === undefined ? 1 : 0;
    default:
      process.stderr.write(`Unknown command '${cmd}'.\n\n${USAGE}`);
      return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined && code !== null && code !== -1) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`tributary: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
