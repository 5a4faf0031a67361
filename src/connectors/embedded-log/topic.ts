/**
 * Topics of the embedded log: name rules (Kafka's) and the per-topic metadata file `<dir>/topics/<topic>/topic.json`.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { TributaryError } from '../../sdk/errors.js';
import { syncDir } from './segment.js';

export const MAX_TOPIC_NAME_LENGTH = 249;
const LEGAL = /^[a-zA-Z0-9._-]+$/;
export const METADATA_FILE = 'topic.json';

/** What `topic.json` holds. */
export interface TopicMetadata {
  /** format version of this file */
  version: 1;
  name: string;
  partitions: number;
  /** ms since epoch */
  createdAt: number;
  configs: Record<string, string>;
}

/**
 * Throws `config.invalid` unless `name` is a legal Kafka topic name: 1–249 characters from `[a-zA-Z0-9._-]`,
 * and not `.` or `..`.
 */
export function validateTopicName(name: unknown): asserts name is string {
  const bad = (why: string) =>
    new TributaryError('config.invalid', `Invalid topic name ${JSON.stringify(name)}: ${why}`, {
      key: 'topic',
      hint: "topic names use only ASCII letters, digits, '.', '_' and '-', up to 249 characters (as in Kafka)",
    });
  if (typeof name !== 'string' || name.length === 0) throw bad('it is empty');
  if (name === '.' || name === '..') throw bad("'.' and '..' are not allowed");
  if (name.length > MAX_TOPIC_NAME_LENGTH) throw bad(`it is ${name.length} characters long, the limit is ${MAX_TOPIC_NAME_LENGTH}`);
  if (!LEGAL.test(name)) {
    const c = [...name].find((ch) => !/[a-zA-Z0-9._-]/.test(ch));
    throw bad(`character ${JSON.stringify(c)} is not allowed`);
  }
}

export function topicDir(root: string, topic: string): string {
  return path.join(root, 'topics', topic);
}

export function partitionDir(root: string, topic: string, partition: number): string {
  return path.join(root, 'topics', topic, String(partition));
}

/** Reads `topic.json`; undefined if absent (a topic whose creation did not finish). */
export async function readMetadata(root: string, topic: string): Promise<TopicMetadata | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(path.join(topicDir(root, topic), METADATA_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const m = JSON.parse(text) as TopicMetadata;
  if (!Number.isInteger(m.partitions) || m.partitions < 1) throw new Error(`bad partition count in ${topic}/${METADATA_FILE}`);
  return { version: 1, name: topic, partitions: m.partitions, createdAt: m.createdAt ?? 0, configs: m.configs ?? {} };
}

/**
 * Creates a topic's directories, then its metadata file atomically (temp file, fsync, rename, fsync dir): a topic
 * exists once `topic.json` exists, so a crash midway leaves nothing half-created that counts.
 */
export async function createTopicFiles(root: string, meta: TopicMetadata, durable: boolean): Promise<void> {
  const dir = topicDir(root, meta.name);
  await fsp.mkdir(dir, { recursive: true });
  for (let p = 0; p < meta.partitions; p++) await fsp.mkdir(path.join(dir, String(p)), { recursive: true });
  const tmp = path.join(dir, `${METADATA_FILE}.tmp`);
  const fh = await fsp.open(tmp, 'w');
  try {
    await fh.writeFile(JSON.stringify(meta, null, 2) + '\n');
    if (durable) await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, path.join(dir, METADATA_FILE));
  if (durable) {
    await syncDir(dir);
    await syncDir(path.dirname(dir));
  }
}

/** Names of the topics under `root` (directories holding a `topic.json`). */
export async function listTopicNames(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fsp.readdir(path.join(root, 'topics'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: string[] = [];
  for (const n of names) {
    try {
      await fsp.access(path.join(root, 'topics', n, METADATA_FILE));
      out.push(n);
    } catch {
      /* not a finished topic */
    }
  }
  return out.sort();
}
