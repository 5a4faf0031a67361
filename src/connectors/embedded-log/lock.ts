/**
 * One writer per log directory: a lock file `<dir>/.writer.lock` holding the owner's pid and host. A lock whose
 * process is gone (same host, pid not running, or our own pid left over from before a restart — common for pid 1
 * in containers) is taken over.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TributaryError } from '../../sdk/errors.js';

export const LOCK_FILE = '.writer.lock';

interface LockInfo {
  pid: number;
  host: string;
  since: string;
}

/** Directories this process holds, so a second open in the same process is refused too. */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockInfo | undefined {
  try {
    const info = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockInfo>;
    if (typeof info.pid !== 'number') return undefined;
    return { pid: info.pid, host: String(info.host ?? ''), since: String(info.since ?? '') };
  } catch {
    return undefined;
  }
}

function conflict(dir: string, info: LockInfo | undefined): TributaryError {
  const who = info ? `process ${info.pid}${info.host !== os.hostname() ? ` on ${info.host}` : ''} (since ${info.since})` : 'another process';
  return new TributaryError('state.io', `The embedded event log in ${dir} is already in use by ${who}`, {
    hint: 'another Tributary server is using this data directory: stop it, or start this one with a different --data-dir',
    details: info,
  });
}

/** A held writer lock; `release` is idempotent. */
export interface WriterLock {
  readonly file: string;
  release(): void;
}

/** Takes the writer lock of `dir`, or throws `state.io` naming the process that holds it. */
export function acquireWriterLock(dir: string): WriterLock {
  const key = path.resolve(dir);
  const file = path.join(key, LOCK_FILE);
  if (held.has(key)) throw conflict(dir, { pid: process.pid, host: os.hostname(), since: 'earlier in this process' });
  const me: LockInfo = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      try {
        fs.writeSync(fd, JSON.stringify(me) + '\n');
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      held.add(key);
      let released = false;
      return {
        file,
        release() {
          if (released) return;
          released = true;
          held.delete(key);
          const cur = readLock(file);
          if (cur && cur.pid === me.pid && cur.since === me.since) {
            try {
              fs.unlinkSync(file);
            } catch {
              /* already gone */
            }
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new TributaryError('state.io', `Cannot create the lock file ${file}: ${(e as Error).message}`, { cause: e });
      }
    }
    const info = readLock(file);
    if (info === undefined) {
      // unreadable: perhaps being written right now by the other process; look again before calling it stale
      const age = (() => {
        try {
          return Date.now() - fs.statSync(file).mtimeMs;
        } catch {
          return Infinity;
        }
      })();
      if (age < 2000) throw conflict(dir, undefined);
    } else {
      const stale = info.host === os.hostname() && (info.pid === process.pid || !alive(info.pid));
      if (!stale) throw conflict(dir, info);
    }
    try {
      fs.unlinkSync(file);
    } catch {
      /* someone else removed it; retry */
    }
  }
  throw conflict(dir, readLock(file));
}
