import type { Logger } from '../sdk/logger.js';

type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: number = order[(process.env.TRIBUTARY_LOG_LEVEL as Level) ?? 'info'] ?? order.info;
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');

/** Where secrets get masked before anything is written; installed by the runtime. */
let redact: (text: string) => string = (t) => t;

export function setLogLevel(level: Level): void {
  threshold = order[level];
}
export function getLogLevel(): Level {
  return (Object.keys(order) as Level[]).find((l) => order[l] === threshold) ?? 'info';
}
export function setLogSink(fn: (line: string) => void): void {
  sink = fn;
}
export function setRedactor(fn: (text: string) => string): void {
  redact = fn;
}

/** Structured one-line logs: `time level msg key=value …`, with context (connector, task, position) carried along. */
export function createLogger(ctx: Record<string, unknown> = {}): Logger {
  const write = (level: Level, msg: string, extra?: Record<string, unknown>) => {
    if (order[level] < threshold) return;
    const all = { ...ctx, ...extra };
    const kv = Object.entries(all)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))}`)
      .join(' ');
    sink(redact(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}${kv ? ' ' + kv : ''}`));
  };
  return {
    debug: (m, c) => write('debug', m, c),
    info: (m, c) => write('info', m, c),
    warn: (m, c) => write('warn', m, c),
    error: (m, c) => write('error', m, c),
    child: (c) => createLogger({ ...ctx, ...c }),
  };
}
