#!/usr/bin/env -S node --max-semi-space-size=2
// --max-semi-space-size=2 (MiB): a smaller young generation; measured ~30 MB less peak RSS with no loss of throughput
// (docs/postgres-cdc.md, memory). It must be a command-line flag: V8 ignores it when set at run time.
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install` via the prepare script, or `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('tributary: not built yet. Run `npm install` (or `npm run build`) in the repository first.\n');
  process.exit(1);
}
await import(main.href);
