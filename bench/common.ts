/** Shared benchmark helpers: timing, percentiles, RSS sampling of a process via /proc, table and JSON output. */
import { readdirSync, readFileSync } from 'node:fs';
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
    const c = statCpu(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return (c.user + c.system) / 1000;
  } catch {
    return 0;
  }
}

/** utime + stime (ms) and parent pid of one /proc stat line */
function statCpu(stat: string): { ppid: number; user: number; system: number } {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), user: Number(f[11]) * 10, system: Number(f[12]) * 10 }; // clock ticks (USER_HZ = 100) → ms
}

interface CpuSnapshot {
  threads: Map<string, { user: number; system: number }>;
  tree: Map<string, number>;
  machineBusy: number;
  machineIdle: number;
}

function cpuSnapshot(root: number | undefined): CpuSnapshot {
  const threads = new Map<string, { user: number; system: number }>();
  for (const t of readdirSync('/proc/self/task')) {
    try {
      threads.set(t, statCpu(readFileSync(`/proc/self/task/${t}/stat`, 'utf8')));
    } catch {
      /* the thread ended */
    }
  }
  const tree = new Map<string, number>();
  if (root !== undefined) {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const c = statCpu(readFileSync(`/proc/${pid}/stat`, 'utf8'));
        if (Number(pid) === root || c.ppid === root) tree.set(pid, c.user + c.system);
      } catch {
        /* the process ended */
      }
    }
  }
  // user nice system idle iowait irq softirq steal: busy leaves out steal (time the hypervisor gave elsewhere)
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { threads, tree, machineBusy: (f[0]! + f[1]! + f[2]! + f[5]! + f[6]!) * 10, machineIdle: (f[3]! + f[4]!) * 10 };
}

/** Where CPU went over a measured span: this process's main thread and its other threads, a process tree, the machine. */
export interface CpuAccount {
  /** this process's main (JavaScript) thread, ms */
  mainMs: number;
  /** this process's other threads (V8 GC and compiler helpers, libuv's file I/O pool, worker threads), ms, user and system */
  otherUserMs: number;
  otherSystemMs: number;
  /** the process `root` and its direct children (e.g. a PostgreSQL postmaster and its backends), ms */
  treeMs: number;
  /** share of all cores busy (any process; steal time left out), 0–1 */
  machineBusy: number;
}

/**
 * Starts accounting CPU by thread (Linux /proc; 10 ms resolution, so meant for spans of seconds). `root`: a process
 * whose CPU and its direct children's is added up too (children that exit during the span are missed).
 */
export function cpuAccount(root?: number): { stop(): CpuAccount } {
  const a = cpuSnapshot(root);
  return {
    stop(): CpuAccount {
      const b = cpuSnapshot(root);
      const main = String(process.pid);
      let mainMs = 0;
      let otherUserMs = 0;
      let otherSystemMs = 0;
      for (const [t, v] of b.threads) {
        const u = v.user - (a.threads.get(t)?.user ?? 0);
        const s = v.system - (a.threads.get(t)?.system ?? 0);
        if (t === main) mainMs = u + s;
        else {
          otherUserMs += u;
          otherSystemMs += s;
        }
      }
      let treeMs = 0;
      for (const [pid, v] of b.tree) treeMs += v - (a.tree.get(pid) ?? 0);
      const busy = b.machineBusy - a.machineBusy;
      const idle = b.machineIdle - a.machineIdle;
      return { mainMs, otherUserMs, otherSystemMs, treeMs, machineBusy: busy + idle > 0 ? busy / (busy + idle) : 0 };
    },
  };
}

/** The PostgreSQL postmaster a client is connected to: the parent of its backend process (Linux /proc). */
export async function postmasterPid(client: { query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }> }): Promise<number | undefined> {
  try {
    const r = await client.query('SELECT pg_backend_pid() AS pid');
    return statCpu(readFileSync(`/proc/${Number(r.rows[0]!['pid'])}/stat`, 'utf8')).ppid;
  } catch {
    return undefined; // not on this machine, or not readable
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
