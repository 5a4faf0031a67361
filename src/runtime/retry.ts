import { isRetriable } from '../sdk/errors.js';

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
}

/** Exponential backoff with full jitter: attempt n waits a random time in [d/2, d], d = min(max, initial·factor^n). */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}): number {
  const initial = opts.initialMs ?? 100;
  const max = opts.maxMs ?? 30_000;
  const d = Math.min(max, initial * Math.pow(opts.factor ?? 2, attempt));
  return Math.round(d / 2 + Math.random() * (d / 2));
}

/** Resolves after `ms`, or rejects with the abort reason when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` until it succeeds, retrying only retriable errors (TributaryError.retriable) with jittered backoff.
 * Gives up after `timeoutMs` (−1 = never) and rethrows the last error; programmer errors are never retried.
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  opts: BackoffOptions & { timeoutMs?: number; signal?: AbortSignal; onRetry?: (err: unknown, attempt: number, delayMs: number) => void } = {},
): Promise<T> {
  const start = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!isRetriable(err) || opts.signal?.aborted) throw err;
      const timeout = opts.timeoutMs ?? -1;
      const delay = backoffDelay(attempt, opts);
      if (timeout >= 0 && Date.now() - start + delay > timeout) throw err;
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay, opts.signal);
    }
  }
}
