import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync, existsSync, readdirSync, unlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { TributaryError } from '../sdk/errors.js';
import { partitionKey, type SourceOffset, type SourcePartition } from '../sdk/record.js';
import type { ConfigStore, ConnectorRecord, OffsetEntry, OffsetStore } from '../sdk/state.js';

/** Writes a file atomically and durably: temp file, fsync, rename, fsync of the directory. */
export function writeFileDurable(path: string, data: string | Buffer): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    if (typeof data === "string") writeSync(fd, data);
    else writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(join(path, '..'));
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* some filesystems refuse directory fsync; rename is still atomic */
  }
}

/**
 * Connector configs in `<dataDir>/connectors.json`, rewritten atomically on every change.
 */
export class FileConfigStore implements ConfigStore {
  readonly #path: string;
  #cache: Map<string, ConnectorRecord>;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.#path = join(dataDir, 'connectors.json');
    this.#cache = new Map();
    if (existsSync(this.#path)) {
      let parsed: { connectors?: ConnectorRecord[] };
      try {
        parsed = JSON.parse(readFileSync(this.#path, 'utf8'));
      } catch (e) {
        throw new TributaryError('state.io', `Cannot read connector configs from ${this.#path}: ${(e as Error).message}`, {
          hint: 'the file is written atomically, so this means it was edited by hand; fix or remove it',
          cause: e,
        });
      }
      for (const c of parsed.connectors ?? []) this.#cache.set(c.name, c);
    }
  }

  async list(): Promise<ConnectorRecord[]> {
    return [...this.#cache.values()];
  }
  async get(name: string): Promise<ConnectorRecord | null> {
    return this.#cache.get(name) ?? null;
  }
  async put(rec: ConnectorRecord): Promise<void> {
    const next = new Map(this.#cache);
    next.set(rec.name, rec);
    this.#write(next);
    this.#cache = next;
  }
  async remove(name: string): Promise<void> {
    if (!this.#cache.has(name)) return;
    const next = new Map(this.#cache);
    next.delete(name);
    this.#write(next);
    this.#cache = next;
  }
  #write(m: Map<string, ConnectorRecord>): void {
    writeFileDurable(this.#path, JSON.stringify({ version: 1, connectors: [...m.values()] }, null, 2) + '\n');
  }
}

interface OffsetLog {
  entries: Map<string, OffsetEntry>;
  handle: FileHandle | null;
  lines: number;
  /** serializes appends and compactions */
  chain: Promise<void>;
}

/**
 * Source offsets per connector in `<dataDir>/offsets/<connector>.jsonl`: an append-only log of
 * `{"partition":{…},"offset":{…}}` lines, fsync'd before `commit` resolves; the last line for a partition wins.
 * A torn last line (crash mid-write) is ignored on load. The log is compacted (atomic rewrite) when it grows.
 */
export class FileOffsetStore implements OffsetStore {
  readonly #dir: string;
  readonly #logs = new Map<string, OffsetLog>();
  readonly compactAfterLines: number;

  constructor(dataDir: string, opts: { compactAfterLines?: number } = {}) {
    this.#dir = join(dataDir, 'offsets');
    mkdirSync(this.#dir, { recursive: true });
    this.compactAfterLines = opts.compactAfterLines ?? 10_000;
  }

  #file(connector: string): string {
    return join(this.#dir, `${encodeURIComponent(connector)}.jsonl`);
  }

  #load(connector: string): OffsetLog {
    let log = this.#logs.get(connector);
    if (log) return log;
    const entries = new Map<string, OffsetEntry>();
    let lines = 0;
    const path = this.#file(connector);
    if (existsSync(path)) {
      const text = readFileSync(path, 'utf8');
      for (const line of text.split('\n')) {
        if (!line) continue;
        let e: OffsetEntry;
        try {
          e = JSON.parse(line);
        } catch {
          continue; // torn write at the tail
        }
        lines++;
        const k = partitionKey(e.partition);
        if (e.offset === null) entries.delete(k);
        else entries.set(k, e);
      }
    }
    log = { entries, handle: null, lines, chain: Promise.resolve() };
    this.#logs.set(connector, log);
    return log;
  }

  async get(connector: string, partition: SourcePartition): Promise<SourceOffset | null> {
    return this.#load(connector).entries.get(partitionKey(partition))?.offset ?? null;
  }

  async list(connector: string): Promise<OffsetEntry[]> {
    return [...this.#load(connector).entries.values()];
  }

  commit(connector: string, entries: OffsetEntry[]): Promise<void> {
    const log = this.#load(connector);
    const run = async () => {
      if (!entries.length) return;
      if (!log.handle) log.handle = await open(this.#file(connector), 'a');
      let text = '';
      for (const e of entries) text += JSON.stringify({ partition: e.partition, offset: e.offset }, bigintSafe) + '\n';
      await log.handle.write(text);
      await log.handle.datasync();
      for (const e of entries) {
        const k = partitionKey(e.partition);
        if (e.offset === null) log.entries.delete(k);
        else log.entries.set(k, JSON.parse(JSON.stringify({ partition: e.partition, offset: e.offset }, bigintSafe)));
      }
      log.lines += entries.length;
      if (log.lines > this.compactAfterLines) await this.#compact(connector, log);
    };
    const p = log.chain.then(run);
    log.chain = p.catch(() => undefined);
    return p.catch((e) => {
      throw new TributaryError('state.io', `Cannot write offsets of connector '${connector}': ${(e as Error).message}`, { cause: e, retriable: true });
    });
  }

  async #compact(connector: string, log: OffsetLog): Promise<void> {
    await log.handle?.close();
    log.handle = null;
    let text = '';
    for (const e of log.entries.values()) text += JSON.stringify(e, bigintSafe) + '\n';
    writeFileDurable(this.#file(connector), text);
    log.lines = log.entries.size;
  }

  async clear(connector: string): Promise<void> {
    const log = this.#load(connector);
    const p = log.chain.then(async () => {
      await log.handle?.close();
      log.handle = null;
      log.entries.clear();
      log.lines = 0;
      const path = this.#file(connector);
      if (existsSync(path)) unlinkSync(path);
    });
    log.chain = p.catch(() => undefined);
    await p;
  }

  async close(): Promise<void> {
    for (const log of this.#logs.values()) {
      await log.chain;
      await log.handle?.close();
      log.handle = null;
    }
  }

  /** connectors that have stored offsets */
  connectors(): string[] {
    return readdirSync(this.#dir).filter((f) => f.endsWith('.jsonl')).map((f) => decodeURIComponent(f.slice(0, -6)));
  }
}

function bigintSafe(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}
