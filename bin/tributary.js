#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install` via the prepare script, or `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('tributary: not built yet. Run `npm install` (or `npm run build`) in the repository first.\n');
  process.exit(1);
}
await import(main.href);
