/**
 * The chaos run's delivery checker: pure functions over what PostgreSQL committed (the audit), what the platform
 * holds (the records read back) and the confirmed_flush_lsn samples taken during the run.
 *
 * Per key (a key bucket `k`, written by one writer in `seq` order, so commit order = seq order):
 * - missing: a committed (k, seq) that no record carries;
 * - duplicated: copies beyond the first;
 * - unexpected: a record whose (k, seq) was never committed (cannot happen unless something is very wrong);
 * - out of order: the delivered sequence is not "in commit order with duplicates only as replayed suffixes". The
 *   sequence must be a concatenation of runs, each run advancing one committed event at a time; a new run may
 *   only start at or before the previous event (a replay: it re-delivers a contiguous earlier run, then
 *   continues). Order is judged among the events that were delivered (one never delivered counts as missing, not
 *   also as out of order): a forward jump over events that arrive only later is a reordering; a forward jump
 *   inside a replay over events delivered before is a duplicate that is not a replayed suffix.
 *
 * Flush: at each sample, confirmed_flush_lsn F was read first, then the platform's end offset of each partition.
 * Every event whose transaction committed below F must have its first copy below that partition's end offset.
 */

export interface CommittedRow {
  k: number;
  seq: number;
}

export interface DeliveredEvent {
  partition: number;
  offset: number;
  k: number;
  seq: number;
  /** commit LSN of the event's transaction (from its `transaction.id`), null when unknown (snapshot records) */
  commitLsn: number | null;
}

export interface FlushSample {
  /** wall time of the sample (ms) */
  at: number;
  /** confirmed_flush_lsn, read first */
  flush: number;
  /** then the end offset of each partition of the data topic */
  ends: number[];
}

export interface DeliveryResult {
  committed: number;
  keys: number;
  delivered: number;
  distinctDelivered: number;
  missing: number;
  duplicated: number;
  unexpected: number;
  /** keys whose delivered sequence is not in commit order with duplicates only as replayed suffixes */
  outOfOrderKeys: number;
  /** of those, keys where a replay skipped events it had delivered before (a duplicate that is not a suffix) */
  nonSuffixDuplicateKeys: number;
  /** replays seen (runs that restart at or before the previous event), summed over keys */
  replays: number;
  /** keys that received at least one duplicate */
  keysWithDuplicates: number;
  /** one entry per copy beyond the first: the event's key and seq */
  duplicates: CommittedRow[];
  examples: string[];
}

/** Delivery check per key against the committed rows. */
export function checkDelivery(committedRows: CommittedRow[], delivered: DeliveredEvent[], maxExamples = 20): DeliveryResult {
  // committed order per key: seq ascending (one writer per key, each insert committed before the next)
  const committedByKey = new Map<number, number[]>();
  for (const r of committedRows) (committedByKey.get(r.k) ?? committedByKey.set(r.k, []).get(r.k)!).push(r.seq);
  const indexByKey = new Map<number, Map<number, number>>();
  for (const [k, seqs] of committedByKey) {
    seqs.sort((a, b) => a - b);
    indexByKey.set(k, new Map(seqs.map((s, i) => [s, i])));
  }
  // delivered per key in platform order (partition, offset); a key lives in one partition
  const byKey = new Map<number, DeliveredEvent[]>();
  for (const e of delivered) (byKey.get(e.k) ?? byKey.set(e.k, []).get(e.k)!).push(e);

  const examples: string[] = [];
  const note = (s: string) => examples.length < maxExamples && examples.push(s);
  let missing = 0;
  let duplicated = 0;
  let unexpected = 0;
  let outOfOrderKeys = 0;
  let nonSuffixDuplicateKeys = 0;
  let replays = 0;
  let keysWithDuplicates = 0;
  let distinct = 0;
  const duplicates: CommittedRow[] = [];

  for (const [k, seqs] of committedByKey) {
    const index = indexByKey.get(k)!;
    const evs = (byKey.get(k) ?? []).slice().sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    const partitions = new Set(evs.map((e) => e.partition));
    // committed index of each delivered record (unexpected ones dropped)
    const idx: number[] = [];
    const at: DeliveredEvent[] = [];
    for (const e of evs) {
      const i = index.get(e.seq);
      if (i === undefined) {
        unexpected++;
        note(`key ${k}: seq ${e.seq} delivered (partition ${e.partition} offset ${e.offset}) but never committed`);
        continue;
      }
      idx.push(i);
      at.push(e);
    }
    // events never delivered are "missing"; order is judged among the events that were delivered: rank them
    const seen = new Uint8Array(seqs.length);
    for (const i of idx) {
      if (seen[i]) duplicates.push({ k, seq: seqs[i]! });
      seen[i] = 1;
    }
    const rank = new Int32Array(seqs.length).fill(-1);
    let n = 0;
    for (let i = 0; i < seqs.length; i++) if (seen[i]) rank[i] = n++;
    const keyMissing = seqs.length - n;
    const keyDup = idx.length - n;
    let prev = -1;
    let max = -1;
    let reordered = false;
    let replaySkip = false;
    let firstProblem: string | null = partitions.size > 1 ? `key ${k}: records in partitions ${[...partitions].join(', ')}` : null;
    for (let j = 0; j < idx.length; j++) {
      const r = rank[idx[j]!]!;
      const e = at[j]!;
      if (r <= prev) replays++;
      else if (r > prev + 1) {
        if (r > max + 1) {
          reordered = true;
          firstProblem ??= `key ${k}: seq ${e.seq} (partition ${e.partition} offset ${e.offset}) delivered before seq ${seqs[rank.indexOf(max + 1)]}`;
        } else if (!reordered) {
          // (after a reordering, going back to the order looks like a skip: not counted as a second finding)
          replaySkip = true;
          firstProblem ??= `key ${k}: a replay went from seq ${seqs[rank.indexOf(prev)]} to seq ${e.seq} (partition ${e.partition} offset ${e.offset}), skipping delivered events (up to seq ${seqs[rank.indexOf(max)]} had been delivered)`;
        }
      }
      prev = r;
      if (r > max) max = r;
    }
    distinct += n;
    if (keyMissing) note(`key ${k}: ${keyMissing} committed events missing, first seq ${seqs[seen.indexOf(0)]}`);
    if (reordered || replaySkip || partitions.size > 1) {
      outOfOrderKeys++;
      if (firstProblem) note(firstProblem);
    }
    if (replaySkip) nonSuffixDuplicateKeys++;
    if (keyDup) keysWithDuplicates++;
    missing += keyMissing;
    duplicated += keyDup;
  }
  for (const [k, evs] of byKey) {
    if (committedByKey.has(k)) continue;
    unexpected += evs.length;
    note(`key ${k}: ${evs.length} records for a key that was never written`);
  }
  return {
    committed: committedRows.length,
    keys: committedByKey.size,
    delivered: delivered.length,
    distinctDelivered: distinct,
    missing,
    duplicated,
    unexpected,
    outOfOrderKeys,
    nonSuffixDuplicateKeys,
    replays,
    keysWithDuplicates,
    duplicates,
    examples,
  };
}

export interface FlushResult {
  samples: number;
  /** samples whose flush position covered an event not yet in the platform */
  violations: number;
  /**
   * samples where the flush position covered the last record then in a partition (no record lies between it and
   * the sampled end but transaction markers; one record less in the platform would have been a violation): how
   * often the check was tight
   */
  tight: number;
  examples: string[];
}

/**
 * Checks every flush sample: events with commit LSN < sample.flush must have their first copy below the sampled
 * end offset of their partition.
 */
export function checkFlush(delivered: DeliveredEvent[], samples: FlushSample[], maxExamples = 10): FlushResult {
  // first copy of each distinct event
  const first = new Map<string, DeliveredEvent>();
  for (const e of delivered) {
    if (e.commitLsn === null) continue;
    const id = `${e.k}:${e.seq}`;
    const f = first.get(id);
    if (!f || e.partition < f.partition || (e.partition === f.partition && e.offset < f.offset)) first.set(id, e);
  }
  const events = [...first.values()].sort((a, b) => a.commitLsn! - b.commitLsn!);
  const partitions = events.reduce((n, e) => Math.max(n, e.partition + 1), 0);
  // prefixMax[i * partitions + p]: highest first-copy offset in partition p among events[0..i]
  const prefixMax = new Float64Array(events.length * partitions).fill(-1);
  for (let i = 0; i < events.length; i++) {
    if (i > 0) prefixMax.copyWithin(i * partitions, (i - 1) * partitions, i * partitions);
    const e = events[i]!;
    const at = i * partitions + e.partition;
    if (e.offset > prefixMax[at]!) prefixMax[at] = e.offset;
  }
  // every record's offset per partition (copies included), sorted
  const offsetsByPartition: Float64Array[] = [];
  for (let p = 0; p < partitions; p++) offsetsByPartition.push(Float64Array.from(delivered.filter((e) => e.partition === p).map((e) => e.offset)).sort());
  const examples: string[] = [];
  let violations = 0;
  let tight = 0;
  for (const s of samples) {
    // number of events with commitLsn < flush
    let lo = 0;
    let hi = events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (events[mid]!.commitLsn! < s.flush) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) continue;
    let bad = -1;
    let isTight = false;
    for (let p = 0; p < partitions; p++) {
      const covered = prefixMax[(lo - 1) * partitions + p]!;
      if (covered >= (s.ends[p] ?? 0)) {
        bad = p;
        break;
      }
      if (covered >= 0 && !isTight) {
        // the next record of the partition after the covered one lies at or beyond the sampled end
        const offs = offsetsByPartition[p]!;
        let a = 0;
        let b = offs.length;
        while (a < b) {
          const m = (a + b) >> 1;
          if (offs[m]! <= covered) a = m + 1;
          else b = m;
        }
        if (a >= offs.length || offs[a]! >= (s.ends[p] ?? 0)) isTight = true;
      }
    }
    if (bad < 0) {
      if (isTight) tight++;
      continue;
    }
    violations++;
    if (examples.length < maxExamples) {
      const culprit = events.slice(0, lo).find((e) => e.offset >= (s.ends[e.partition] ?? 0))!;
      examples.push(
        `at ${new Date(s.at).toISOString()} confirmed_flush_lsn ${s.flush} covered key ${culprit.k} seq ${culprit.seq} (commit LSN ${culprit.commitLsn}), ` +
          `whose first copy is at partition ${culprit.partition} offset ${culprit.offset} while the end offset was ${s.ends[culprit.partition] ?? 0}`,
      );
    }
  }
  return { samples: samples.length, violations, tight, examples };
}
