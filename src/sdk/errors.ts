/**
 * Errors are API: every error Tributary raises across a boundary carries a stable code, whether retrying can help,
 * the offending config key (if any), a hint for the user, and the cause.
 */
export const ErrorCodes = [
  'config.invalid',
  'config.unknown_key',
  'config.missing_key',
  'sql.syntax',
  'sql.unsupported',
  'connector.not_found',
  'connector.exists',
  'connector.unknown_class',
  'connector.bad_state',
  'source.connection',
  'source.auth',
  'source.query',
  'source.position_lost',
  'platform.connection',
  'platform.write',
  'platform.topic_missing',
  'platform.fenced',
  'platform.read',
  'transform.invalid',
  'transform.failed',
  'converter.failed',
  'state.io',
  'internal',
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

export interface TributaryErrorOptions {
  retriable?: boolean;
  key?: string;
  hint?: string;
  cause?: unknown;
  /** extra structured detail, e.g. a list of per-key problems */
  details?: unknown;
}

export class TributaryError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly key?: string;
  readonly hint?: string;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, opts: TributaryErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TributaryError';
    this.code = code;
    this.retriable = opts.retriable ?? false;
    this.key = opts.key;
    this.hint = opts.hint;
    this.details = opts.details;
  }

  /** Message with the hint appended, as shown to users. */
  describe(): string {
    return this.hint ? `${this.message}\nHint: ${this.hint}` : this.message;
  }
}

export function isRetriable(err: unknown): boolean {
  if (err instanceof TributaryError) return err.retriable;
  return false;
}

/** A readable trace for FAILED states: message chain with codes and hints, then the stack of the outermost error. */
export function traceOf(err: unknown): string {
  const lines: string[] = [];
  let cur: unknown = err;
  let depth = 0;
  while (cur !== undefined && cur !== null && depth < 8) {
    if (cur instanceof TributaryError) {
      lines.push(`${depth ? 'Caused by: ' : ''}${cur.name}[${cur.code}]: ${cur.message}${cur.hint ? ` (hint: ${cur.hint})` : ''}`);
    } else if (cur instanceof Error) {
      lines.push(`${depth ? 'Caused by: ' : ''}${cur.name}: ${cur.message}`);
    } else {
      lines.push(`${depth ? 'Caused by: ' : ''}${String(cur)}`);
    }
    cur = cur instanceof Error ? (cur as Error & { cause?: unknown }).cause : undefined;
    depth++;
  }
  if (err instanceof Error && err.stack) {
    const frames = err.stack.split('\n').filter((l) => l.trimStart().startsWith('at ')).slice(0, 12);
    lines.push(...frames);
  }
  return lines.join('\n');
}
