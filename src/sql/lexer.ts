import { TributaryError, type ErrorCode } from '../sdk/errors.js';
import type { Span } from './ast.js';

/**
 * Token kinds:
 * - `word`: an unquoted identifier or keyword; may contain dots (`connector.class`) and `@ : $`
 * - `quoted`: a "double-quoted" or `backquoted` identifier (value without quotes, doubled quote unescaped)
 * - `string`: a 'single-quoted' string (value unescaped: `''` → `'`)
 * - `number`: an integer or decimal, optionally negative and with an exponent
 * - `variable`: `${name}` (value is the text as written)
 * - `punct`: one of `( ) , = ;`
 * - `other`: any other single character (the parser reports it where it matters, so errors come in order)
 * - `eof`: end of input
 */
export type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'variable' | 'punct' | 'other' | 'eof';

/** One token of a script. */
export interface Token {
  kind: TokenKind;
  /** Decoded value (see {@link TokenKind}); for `eof`, empty. */
  value: string;
  /** Source text, quotes included. */
  raw: string;
  span: Span;
  /** Offset just after the token. */
  end: number;
}

/** Where a syntax error is reported, with what to show. */
export interface SqlErrorDetails {
  line: number;
  column: number;
  /** The offending source line. */
  sourceLine: string;
}

/**
 * Builds the error raised for a bad script: the message starts with `line L, column C:`, followed by the
 * offending line and a caret under column C. `details` is a {@link SqlErrorDetails}.
 */
export function sqlError(
  source: string,
  span: Span,
  message: string,
  hint?: string,
  code: ErrorCode = 'sql.syntax',
): TributaryError {
  const lines = source.split(/\r\n|\r|\n/);
  const sourceLine = lines[span.line - 1] ?? '';
  const pad = sourceLine.slice(0, span.column - 1).replace(/[^\t]/g, ' ');
  const details: SqlErrorDetails = { line: span.line, column: span.column, sourceLine };
  return new TributaryError(code, `line ${span.line}, column ${span.column}: ${message}\n${sourceLine}\n${pad}^`, {
    hint,
    details,
  });
}

const PUNCT = new Set(['(', ')', ',', '=', ';']);
const isWordStart = (c: string) => /[A-Za-z_]/.test(c);
const isWordPart = (c: string) => /[A-Za-z0-9_@:$]/.test(c);
const isDigit = (c: string) => c >= '0' && c <= '9';

/**
 * Splits a script into tokens, skipping whitespace, `--` line comments and `/* *\/` block comments.
 * The last token is always `eof`. Throws a `sql.syntax` {@link TributaryError} on an unterminated string,
 * quoted identifier, variable or comment.
 */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let lineStart = 0;
  const here = (): Span => ({ line, column: pos - lineStart + 1, offset: pos });
  /** Advances over source[pos..to), keeping line counting right. */
  const advance = (to: number) => {
    for (; pos < to; pos++) {
      const c = source[pos];
      if (c === '\n' || (c === '\r' && source[pos + 1] !== '\n')) {
        line++;
        lineStart = pos + 1;
      }
    }
  };
  const push = (kind: TokenKind, span: Span, value: string) => {
    tokens.push({ kind, value, raw: source.slice(span.offset, pos), span, end: pos });
  };
  /**
   * The error for a quote never closed. When an earlier string ran across a line break, that string most likely
   * lost its closing quote (and stole this one), so it is the one reported.
   */
  const unterminated = (start: Span, what: string, hint: string) => {
    const isString = source[start.offset] === "'";
    const culprit = isString ? tokens.find((t) => t.kind === 'string' && /[\r\n]/.test(t.value)) : undefined;
    const span = culprit?.span ?? start;
    return sqlError(
      source,
      span,
      `unterminated ${what} starting at line ${span.line}`,
      culprit ? `${hint}; this string runs across a line break, so its closing quote is probably missing` : hint,
    );
  };
  /** Reads a quoted run closed by `q`, where `qq` stands for one `q`. Returns the unescaped content. */
  const readQuoted = (q: string, what: string, hint: string): string => {
    const start = here();
    let value = '';
    let i = pos + 1;
    for (;;) {
      const j = source.indexOf(q, i);
      if (j < 0) throw unterminated(start, what, hint);
      value += source.slice(i, j);
      if (source[j + 1] === q) {
        value += q;
        i = j + 2;
      } else {
        advance(j + 1);
        return value;
      }
    }
  };

  while (pos < source.length) {
    const c = source[pos];
    const next = source[pos + 1];
    if (/\s/.test(c)) {
      advance(pos + 1);
    } else if (c === '-' && next === '-') {
      const nl = source.slice(pos).search(/[\r\n]/);
      advance(nl < 0 ? source.length : pos + nl);
    } else if (c === '/' && next === '*') {
      const start = here();
      const close = source.indexOf('*/', pos + 2);
      if (close < 0) {
        throw sqlError(source, start, `unterminated comment starting at line ${start.line}`, "close it with '*/'");
      }
      advance(close + 2);
    } else if (c === "'") {
      const span = here();
      const value = readQuoted("'", 'string', "close the string with ' (write '' for a quote inside a string)");
      push('string', span, value);
    } else if (c === '"' || c === '`') {
      const span = here();
      const value = readQuoted(c, 'quoted name', `close the name with ${c} (write ${c}${c} for a ${c} inside it)`);
      push('quoted', span, value);
    } else if (c === '$' && next === '{') {
      const span = here();
      const m = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}/.exec(source.slice(pos));
      if (!m) {
        const message = `unterminated variable starting at line ${span.line}`;
        throw sqlError(source, span, message, 'write variables as ${name}');
      }
      advance(pos + m[0].length);
      push('variable', span, m[0]);
    } else if (isDigit(c) || ((c === '-' || c === '.') && next !== undefined && isDigit(next))) {
      const span = here();
      const m = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(source.slice(pos))!;
      advance(pos + m[0].length);
      push('number', span, m[0]);
    } else if (isWordStart(c)) {
      const span = here();
      let i = pos + 1;
      for (;;) {
        while (i < source.length && isWordPart(source[i])) i++;
        if (source[i] === '.' && i + 1 < source.length && isWordPart(source[i + 1])) i += 2;
        else break;
      }
      advance(i);
      push('word', span, source.slice(span.offset, i));
    } else if (PUNCT.has(c)) {
      const span = here();
      advance(pos + 1);
      push('punct', span, c);
    } else {
      const span = here();
      advance(pos + 1);
      push('other', span, c);
    }
  }
  const span = here();
  tokens.push({ kind: 'eof', value: '', raw: '', span, end: pos });
  return tokens;
}

/** A hint for an unexpected character, if one helps. */
export function characterHint(c: string): string | undefined {
  if ('‘’“”'.includes(c)) return 'use plain quotes (\' or "), not typographic ones';
  if (c === ':') return "properties are written 'key' = value";
  if (c === '-' || c === '/') return `quote names that contain '${c}': PRINT 'my${c}topic'`;
  return undefined;
}
