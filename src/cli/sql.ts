import { readFileSync, appendFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { renderEntity, type Entity, type StatementError } from '../sql/entities.js';
import { flagString, parseArgs } from './args.js';

function renderError(e: StatementError): string {
  let s = `Error: ${e.message}`;
  if (e.hint) s += `\nHint: ${e.hint}`;
  return s + '\n';
}

/** Sends a script to the server and prints each answer as ksqlDB's CLI would. Returns false on an error. */
export async function sendScript(server: string, script: string, out: (s: string) => void, signal?: AbortSignal): Promise<boolean> {
  let res: Response;
  try {
    res = await fetch(new URL('/ksql', server), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ ksql: script }),
      signal,
    });
  } catch (err) {
    if (signal?.aborted) return true;
    out(`Error: cannot reach the Tributary server at ${server} (${(err as Error).cause ?? (err as Error).message})\nHint: start it with \`tributary server\`, or pass --server URL\n`);
    return false;
  }
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('ndjson') && res.body) {
    let ok = true;
    let buf = '';
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (!line) continue;
          const e = JSON.parse(line) as Entity | StatementError;
          if (e['@type'] === 'statement_error') {
            out(renderError(e as StatementError));
            ok = false;
          } else out(renderEntity(e as Entity));
        }
      }
    } catch (err) {
      if (!signal?.aborted) throw err;
    }
    return ok;
  }
  const body = (await res.json()) as Entity[] | StatementError;
  if (!Array.isArray(body)) {
    for (const e of body.entities ?? []) out(renderEntity(e) + '\n');
    out(renderError(body));
    return false;
  }
  body.forEach((e, i) => out((i ? '\n' : '') + renderEntity(e)));
  return true;
}

/** `tributary sql`: -e STATEMENTS, -f FILE, or an interactive shell with history. */
export async function runSql(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv);
  const server = flagString(flags, 'server', 's') ?? process.env.TRIBUTARY_SERVER ?? 'http://127.0.0.1:8083';
  const out = (s: string) => process.stdout.write(s);
  const exec = flagString(flags, 'e', 'execute');
  const file = flagString(flags, 'f', 'file');
  if (exec !== undefined || file !== undefined) {
    const script = exec ?? readFileSync(file!, 'utf8');
    const ac = new AbortController();
    process.once('SIGINT', () => ac.abort());
    return (await sendScript(server, script, out, ac.signal)) ? 0 : 1;
  }
  return repl(server);
}

async function repl(server: string): Promise<number> {
  const historyFile = join(homedir(), '.tributary_history');
  const history = existsSync(historyFile) ? readFileSync(historyFile, 'utf8').split('\n').filter(Boolean).reverse().slice(0, 500) : [];
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: 'tributary> ', history, historySize: 500, terminal: process.stdin.isTTY });
  process.stdout.write(`Tributary SQL shell, server ${server}. End statements with ';'. Type 'exit' to leave.\n`);
  let buffer = '';
  let running: AbortController | null = null;
  rl.on('SIGINT', () => {
    if (running) running.abort();
    else if (buffer) {
      buffer = '';
      process.stdout.write('\n');
      rl.setPrompt('tributary> ');
      rl.prompt();
    } else rl.close();
  });
  rl.prompt();
  for await (const line of rl) {
    if (!buffer && /^\s*(exit|quit)\s*;?\s*$/i.test(line)) break;
    buffer += (buffer ? '\n' : '') + line;
    if (!/;\s*(--[^\n]*)?$/.test(buffer.trim())) {
      rl.setPrompt('        > ');
      rl.prompt();
      continue;
    }
    const script = buffer;
    buffer = '';
    try {
      appendFileSync(historyFile, script.replace(/\n/g, ' ') + '\n');
    } catch {
      /* history is best effort */
    }
    running = new AbortController();
    await sendScript(server, script, (s) => process.stdout.write(s), running.signal);
    running = null;
    rl.setPrompt('tributary> ');
    rl.prompt();
  }
  rl.close();
  return 0;
}
