import type { TributaryError } from '../sdk/errors.js';
import type { ConnectorAction, Name, Property, Span, Statement } from './ast.js';
import { characterHint, sqlError, tokenize, type Token } from './lexer.js';

/**
 * Parses a script of statements separated by `;` (the last one optional), with `--` and `/* *\/` comments.
 *
 * All or nothing: returns every statement, or throws a {@link TributaryError} for the first problem, so a caller
 * never executes half a script. Codes: `sql.syntax` (malformed input, duplicate property key) and
 * `sql.unsupported` (a ksqlDB statement Tributary does not run, e.g. `CREATE STREAM`). The message starts with
 * `line L, column C:` and shows the offending line with a caret; `hint` says how to fix it; `details` is a
 * `SqlErrorDetails` from `lexer.ts`.
 */
export function parseScript(source: string): Statement[] {
  return new Parser(source, tokenize(source)).script();
}

/** Statement keywords, for "did you mean" suggestions. */
const STATEMENT_KEYWORDS = [
  'CREATE', 'DROP', 'SHOW', 'LIST', 'DESCRIBE', 'PRINT', 'PAUSE', 'RESUME', 'RESTART', 'STOP',
];
/** ksqlDB statements Tributary recognises but does not run. */
const UNSUPPORTED_STATEMENTS = new Set([
  'SELECT', 'INSERT', 'TERMINATE', 'EXPLAIN', 'SET', 'UNSET', 'DEFINE', 'UNDEFINE', 'RUN', 'ASSERT', 'ALTER',
]);
const SUPPORTED_HINT =
  'supported statements: CREATE SOURCE|SINK CONNECTOR, DROP CONNECTOR, SHOW|LIST CONNECTORS, ' +
  'SHOW CONNECTOR PLUGINS, DESCRIBE CONNECTOR, SHOW TOPICS, PRINT, PAUSE|RESUME|RESTART|STOP CONNECTOR';
/** A statement before its extent (`span`, `text`) is known. */
type StatementBody = WithoutExtent<Statement>;
type WithoutExtent<S> = S extends Statement ? Omit<S, 'span' | 'text'> : never;

const CONNECTOR_ACTIONS: Record<string, ConnectorAction> = {
  PAUSE: 'pause',
  RESUME: 'resume',
  RESTART: 'restart',
  STOP: 'stop',
};

class Parser {
  private pos = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  script(): Statement[] {
    const statements: Statement[] = [];
    for (;;) {
      while (this.isPunct(this.peek(), ';')) this.pos++;
      if (this.peek().kind === 'eof') return statements;
      const first = this.peek();
      const statement = this.statement();
      const last = this.tokens[this.pos - 1];
      statements.push({ ...statement, span: first.span, text: this.source.slice(first.span.offset, last.end) });
    }
  }

  // ---- statements -------------------------------------------------------------------------------------

  /** Parses one statement including its terminating `;` (or up to end of input). */
  private statement(): StatementBody {
    const tok = this.peek();
    if (tok.kind !== 'word') throw this.fail(tok, 'a statement', SUPPORTED_HINT);
    const word = tok.value.toUpperCase();
    switch (word) {
      case 'CREATE':
        return this.create();
      case 'DROP': {
        this.pos++;
        this.unsupportedUnless(['CONNECTOR'], 'DROP');
        this.pos++;
        const ifExists = this.acceptSequence('IF', 'EXISTS');
        const name = this.connectorName();
        this.end([]);
        return { kind: 'dropConnector', ifExists, name };
      }
      case 'SHOW':
      case 'LIST':
        this.pos++;
        return this.show(word);
      case 'DESCRIBE': {
        this.pos++;
        this.unsupportedUnless(['CONNECTOR'], 'DESCRIBE');
        this.pos++;
        const name = this.connectorName();
        this.end([]);
        return { kind: 'describeConnector', name };
      }
      case 'PRINT':
        this.pos++;
        return this.print();
      case 'PAUSE':
      case 'RESUME':
      case 'RESTART':
      case 'STOP': {
        this.pos++;
        this.expectKeyword('CONNECTOR');
        const name = this.connectorName();
        this.end([]);
        return { kind: 'connectorAction', action: CONNECTOR_ACTIONS[word], name };
      }
    }
    if (UNSUPPORTED_STATEMENTS.has(word)) {
      throw sqlError(this.source, tok.span, `${word} statements are not supported`, SUPPORTED_HINT, 'sql.unsupported');
    }
    const guess = nearest(word, STATEMENT_KEYWORDS);
    throw sqlError(
      this.source,
      tok.span,
      `unknown statement '${tok.value}'${guess ? ` — did you mean ${guess}?` : ''}`,
      SUPPORTED_HINT,
    );
  }

  private create(): StatementBody {
    this.pos++;
    const typeTok = this.peek();
    this.unsupportedUnless(['SOURCE', 'SINK'], 'CREATE');
    this.pos++;
    if (this.isKeyword(this.peek(), 'STREAM') || this.isKeyword(this.peek(), 'TABLE')) {
      const what = `CREATE ${typeTok.value.toUpperCase()} ${this.peek().value.toUpperCase()}`;
      throw sqlError(this.source, typeTok.span, `${what} is not supported`, SUPPORTED_HINT, 'sql.unsupported');
    }
    this.expectKeyword('CONNECTOR');
    const ifNotExists = this.acceptSequence('IF', 'NOT', 'EXISTS');
    const name = this.connectorName();
    const withTok = this.peek();
    if (this.isPunct(withTok, '(')) throw this.fail(withTok, 'WITH', "write WITH before the property list: WITH ( … )");
    this.expectKeyword('WITH');
    const properties = this.properties();
    this.end([]);
    const config: Record<string, string> = {};
    for (const p of properties) if (p.value !== null) config[p.key] = p.value;
    return {
      kind: 'createConnector',
      connectorType: typeTok.value.toLowerCase() as 'source' | 'sink',
      ifNotExists,
      name,
      properties,
      config,
    };
  }

  private show(verb: string): StatementBody {
    const tok = this.peek();
    const word = tok.kind === 'word' ? tok.value.toUpperCase() : '';
    if (word === 'SOURCE' || word === 'SINK') {
      this.pos++;
      this.expectKeyword('CONNECTORS');
      this.end([]);
      return { kind: 'listConnectors', scope: word === 'SOURCE' ? 'source' : 'sink' };
    }
    if (word === 'CONNECTORS') {
      this.pos++;
      this.end([]);
      return { kind: 'listConnectors', scope: 'all' };
    }
    if (word === 'CONNECTOR') {
      this.pos++;
      this.expectKeyword('PLUGINS');
      this.end([]);
      return { kind: 'listConnectorPlugins' };
    }
    if (word === 'ALL' || word === 'TOPICS') {
      const all = this.acceptKeyword('ALL');
      this.expectKeyword('TOPICS');
      const extended = this.acceptKeyword('EXTENDED');
      this.end(extended ? [] : ['EXTENDED']);
      return { kind: 'listTopics', all, extended };
    }
    if (['STREAMS', 'TABLES', 'QUERIES', 'PROPERTIES', 'FUNCTIONS', 'TYPES', 'VARIABLES'].includes(word)) {
      throw sqlError(this.source, tok.span, `${verb} ${word} is not supported`, SUPPORTED_HINT, 'sql.unsupported');
    }
    throw this.fail(tok, 'CONNECTORS, SOURCE, SINK, CONNECTOR PLUGINS, ALL or TOPICS', undefined, [
      'CONNECTORS', 'SOURCE', 'SINK', 'CONNECTOR', 'ALL', 'TOPICS',
    ]);
  }

  private print(): StatementBody {
    const tok = this.peek();
    let topic: Name;
    if (tok.kind === 'string' || tok.kind === 'quoted') {
      topic = { value: tok.value, quoted: true, raw: tok.raw, span: tok.span };
    } else if (tok.kind === 'word') {
      topic = { value: tok.value, quoted: false, raw: tok.raw, span: tok.span };
    } else {
      throw this.fail(tok, "a topic name", "quote topic names: PRINT 'my-topic'");
    }
    this.pos++;
    let fromBeginning = false;
    let interval: number | undefined;
    let limit: number | undefined;
    if (this.acceptKeyword('FROM')) {
      this.expectKeyword('BEGINNING');
      fromBeginning = true;
    }
    if (this.acceptKeyword('INTERVAL') || this.acceptKeyword('SAMPLE')) interval = this.wholeNumber();
    if (this.acceptKeyword('LIMIT')) limit = this.wholeNumber();
    const options = [
      ...(fromBeginning || interval !== undefined || limit !== undefined ? [] : ['FROM BEGINNING']),
      ...(interval !== undefined || limit !== undefined ? [] : ['INTERVAL', 'SAMPLE']),
      ...(limit !== undefined ? [] : ['LIMIT']),
    ];
    this.end(options);
    return { kind: 'print', topic, fromBeginning, interval, limit };
  }

  // ---- pieces -----------------------------------------------------------------------------------------

  /** `( key = literal, … )` with unique keys. */
  private properties(): Property[] {
    this.expectPunct('(', "the property list is written WITH ( 'key' = value, … )");
    const properties: Property[] = [];
    const seen = new Map<string, Span>();
    for (;;) {
      const keyTok = this.peek();
      if (keyTok.kind !== 'string' && keyTok.kind !== 'quoted' && keyTok.kind !== 'word') {
        const prev = this.tokens[this.pos - 1];
        const hint = this.isPunct(keyTok, ')')
          ? this.isPunct(prev, ',')
            ? "remove the trailing ','"
            : "give at least one property, e.g. 'connector.class' = '…'"
          : "property keys are written 'key', \"key\", `key` or bare (connector.class)";
        throw this.fail(keyTok, 'a property key', hint);
      }
      this.pos++;
      this.expectPunct('=', `write the property as '${keyTok.value}' = value`);
      const valueTok = this.peek();
      const { value, kind } = this.literal();
      const first = seen.get(keyTok.value);
      if (first) {
        throw sqlError(
          this.source,
          keyTok.span,
          `duplicate property '${keyTok.value}' at line ${keyTok.span.line} (first set at line ${first.line})`,
          'give each property once',
        );
      }
      seen.set(keyTok.value, keyTok.span);
      properties.push({ key: keyTok.value, value, kind, span: keyTok.span, valueSpan: valueTok.span });
      const sep = this.peek();
      if (this.isPunct(sep, ',')) {
        this.pos++;
        continue;
      }
      if (this.isPunct(sep, ')')) {
        this.pos++;
        return properties;
      }
      const looksLikeProperty = sep.kind !== 'eof' && sep.kind !== 'punct' && this.isPunct(this.peek(1), '=');
      throw this.fail(
        sep,
        "',' or ')'",
        looksLikeProperty ? "missing ',' between properties" : "close the property list with ')'",
      );
    }
  }

  /** string | number | TRUE | FALSE | NULL | ${var} */
  private literal(): Pick<Property, 'value' | 'kind'> {
    const tok = this.peek();
    if (tok.kind === 'string' || tok.kind === 'number' || tok.kind === 'variable') {
      this.pos++;
      return { value: tok.value, kind: tok.kind === 'variable' ? 'variable' : tok.kind };
    }
    if (tok.kind === 'word') {
      const word = tok.value.toUpperCase();
      if (word === 'TRUE' || word === 'FALSE') {
        this.pos++;
        return { value: word.toLowerCase(), kind: 'boolean' };
      }
      if (word === 'NULL') {
        this.pos++;
        return { value: null, kind: 'null' };
      }
      throw this.fail(tok, 'a value', `quote text values: '${tok.value}'`);
    }
    if (tok.kind === 'quoted') {
      throw this.fail(tok, 'a value', `strings use single quotes: '${tok.value.replace(/'/g, "''")}'`);
    }
    throw this.fail(tok, 'a value', "values are 'strings', numbers, TRUE, FALSE, NULL or ${variables}");
  }

  /** A connector name: unquoted → upper-cased; "quoted" or `quoted` → exact. */
  private connectorName(): Name {
    const tok = this.peek();
    if (tok.kind === 'word' && !(this.isKeyword(tok, 'WITH') && this.isPunct(this.peek(1), '('))) {
      this.pos++;
      return { value: tok.value.toUpperCase(), quoted: false, raw: tok.raw, span: tok.span };
    }
    if (tok.kind === 'quoted') {
      this.pos++;
      return { value: tok.value, quoted: true, raw: tok.raw, span: tok.span };
    }
    const hint =
      tok.kind === 'string'
        ? `quote names with double quotes or backquotes: "${tok.value}" (single quotes are for strings)`
        : undefined;
    throw this.fail(tok, 'a connector name', hint);
  }

  private wholeNumber(): number {
    const tok = this.peek();
    if (tok.kind !== 'number' || !/^\d+$/.test(tok.value)) throw this.fail(tok, 'a whole number');
    this.pos++;
    return Number(tok.value);
  }

  /** Ends a statement: `;` or end of input. `options` are the keywords that could also have come here. */
  private end(options: string[]): void {
    const tok = this.peek();
    if (this.isPunct(tok, ';')) {
      this.pos++;
      return;
    }
    if (tok.kind === 'eof') return;
    const expected = [...options, "';'"];
    const list = expected.length > 1 ? `${expected.slice(0, -1).join(', ')} or ${expected.at(-1)}` : expected[0];
    throw this.fail(tok, list, "end each statement with ';'", options);
  }

  // ---- token helpers ----------------------------------------------------------------------------------

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.pos + ahead, this.tokens.length - 1)];
  }

  private isKeyword(tok: Token, keyword: string): boolean {
    return tok.kind === 'word' && tok.value.toUpperCase() === keyword;
  }

  private isPunct(tok: Token, p: string): boolean {
    return tok.kind === 'punct' && tok.value === p;
  }

  private acceptKeyword(keyword: string): boolean {
    if (!this.isKeyword(this.peek(), keyword)) return false;
    this.pos++;
    return true;
  }

  /** Accepts `a b c` as a whole if the first keyword is there (then the rest is required). */
  private acceptSequence(...keywords: string[]): boolean {
    if (!this.isKeyword(this.peek(), keywords[0])) return false;
    for (const k of keywords) this.expectKeyword(k);
    return true;
  }

  private expectKeyword(keyword: string): void {
    if (!this.acceptKeyword(keyword)) throw this.fail(this.peek(), keyword, undefined, [keyword]);
  }

  private expectPunct(p: string, hint?: string): void {
    const tok = this.peek();
    if (!this.isPunct(tok, p)) throw this.fail(tok, `'${p}'`, hint);
    this.pos++;
  }

  /** Throws `sql.unsupported` for e.g. `DROP STREAM`, `sql.syntax` for anything but the allowed keywords. */
  private unsupportedUnless(allowed: string[], verb: string): void {
    const tok = this.peek();
    if (allowed.some((k) => this.isKeyword(tok, k))) return;
    if (tok.kind === 'word' && ['STREAM', 'TABLE', 'TYPE', 'FUNCTION', 'QUERY'].includes(tok.value.toUpperCase())) {
      throw sqlError(
        this.source,
        tok.span,
        `${verb} ${tok.value.toUpperCase()} is not supported`,
        SUPPORTED_HINT,
        'sql.unsupported',
      );
    }
    throw this.fail(tok, allowed.join(' or '), undefined, allowed);
  }

  /** An "expected X, found Y" error at `tok`; suggests the nearest of `keywords` when `tok` is a misspelling. */
  private fail(tok: Token, expected: string, hint?: string, keywords: string[] = []): TributaryError {
    if (tok.kind === 'other') {
      const message = `unexpected character '${tok.value}', expected ${expected}`;
      return sqlError(this.source, tok.span, message, characterHint(tok.value) ?? hint);
    }
    const firstWords = keywords.map((k) => k.split(' ')[0]);
    const guess = tok.kind === 'word' ? nearest(tok.value.toUpperCase(), firstWords) : undefined;
    const found = describe(tok);
    const message = `expected ${expected}, found ${found}${guess ? ` — did you mean ${guess}?` : ''}`;
    return sqlError(this.source, tok.span, message, hint);
  }
}

function describe(tok: Token): string {
  switch (tok.kind) {
    case 'eof':
      return 'end of input';
    case 'string':
      return `string ${tok.raw}`;
    case 'number':
      return `number ${tok.raw}`;
    default:
      return `'${tok.raw}'`;
  }
}

/** The candidate closest to `word` by edit distance, if close enough to be a typo. */
function nearest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance > 0 && bestDistance <= Math.max(1, Math.floor(best.length / 3))
    ? best
    : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
