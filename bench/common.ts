/** Shared benchmark helpers: timing, percentiles, RSS sampling of a process via /proc, table and JSON output. */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** seconds since `t0` (from `now()`) */
export function now(): bigint {
  return process.hrtime.bigint();
}

export function secondsSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** the p-th percentile (0–100) of unsorted samples, nearest-rank */
export function percentile(samples: number[], p: number): number {
  if (!samples.length) return NaN;
  const s = Float64Array.from(samples).sort();
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

/** resident set size of a process in bytes (0 if it is gone) */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples a process's RSS every `everyMs` until stop(); returns the peak in bytes. */
export function sampleRss(pid: number, everyMs = 50): { peak(): number; stop(): number } {
  let peak = 0;
  const t = setInterval(() => {
    const r = rssOf(pid);
    if (r > peak) peak = r;
  }, everyMs);
  return {
    peak: () => peak,
    stop() {
      clearInterval(t);
      const r = rssOf(pid);
      if (r > peak) peak = r;
      return peak;
    },
  };
}

/** CPU seconds (user + system) a process used so far, from /proc/<pid>/stat */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

export function machine(): Record<string, unknown> {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform };
}

/** A fixed-width text table. */
export function formatTable(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmtNum(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const line = (r: Array<string | number>) => '| ' + r.map((c, i) => String(c ?? '').padEnd(widths[i]!)).join(' | ') + ' |';
  const sep = '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|';
  return [line(cells[0]!), sep, ...cells.slice(1).map(line)].join('\n');
}

export function fmtNum(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(n >= 10 ? 1 : 2);
}

export function mb(bytes: number): number {
  return Math.round((bytes / 1048576) * 10) / 10;
}

/** Progress lines go to stderr (and are silent under --json). */
export function progress(json: boolean | undefined): (s: string) => void {
  return (s: string) => {
    if (!json) process.stderr.write(s + '\n');
  };
}
