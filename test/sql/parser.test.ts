import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TributaryError } from '../../src/sdk/errors.js';
import type { SqlErrorDetails } from '../../src/sql/lexer.js';
import { parseScript } from '../../src/sql/parser.js';

const DEVELOPERS = `CREATE SOURCE CONNECTOR JDBC_SOURCE_POSTGRES_01 WITH (
    'connector.class'= 'io.confluent.connect.jdbc.JdbcSourceConnector',
    'connection.url'= 'jdbc:postgresql://postgres:5432/postgres',
    'connection.user'= 'postgres',
    'connection.password'= 'postgres',
    'mode'= 'incrementing',
    'incrementing.column.name'= 'city_id',
    'topic.prefix'= 'postgres_'
);`;

function only(sql: string) {
  const statements = parseScript(sql);
  assert.equal(statements.length, 1);
  return statements[0];
}

/** Parses `sql` expecting an error; returns it after checking its code and position. */
function parseError(sql: string, code: string, line: number, column: number): TributaryError {
  try {
    parseScript(sql);
  } catch (err) {
    assert.ok(err instanceof TributaryError, `expected a TributaryError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    const details = err.details as SqlErrorDetails;
    assert.deepEqual([details.line, details.column], [line, column], err.message);
    assert.match(err.message, new RegExp(`^line ${line}, column ${column}: `));
    return err;
  }
  assert.fail(`expected ${JSON.stringify(sql)} to fail`);
}

describe('parseScript', () => {
  test('the DEVELOPERS.md statement parses to JDBC_SOURCE_POSTGRES_01 with its 7 properties', () => {
    const s = only(DEVELOPERS);
    assert.equal(s.kind, 'createConnector');
    if (s.kind !== 'createConnector') return;
    assert.equal(s.connectorType, 'source');
    assert.equal(s.ifNotExists, false);
    assert.equal(s.name.value, 'JDBC_SOURCE_POSTGRES_01');
    assert.equal(s.name.quoted, false);
    assert.deepEqual(s.config, {
      'connector.class': 'io.confluent.connect.jdbc.JdbcSourceConnector',
      'connection.url': 'jdbc:postgresql://postgres:5432/postgres',
      'connection.user': 'postgres',
      'connection.password': 'postgres',
      mode: 'incrementing',
      'incrementing.column.name': 'city_id',
      'topic.prefix': 'postgres_',
    });
    assert.equal(s.properties.length, 7);
    assert.deepEqual(s.properties[1].span, { line: 3, column: 5, offset: DEVELOPERS.indexOf("'connection.url'") });
    assert.equal(s.text, DEVELOPERS);
    assert.deepEqual(s.span, { line: 1, column: 1, offset: 0 });
  });

  test('several statements with comments parse in order with their own text and position', () => {
    const sql = `-- set up
SHOW CONNECTORS;   /* a block
comment */ DESCRIBE CONNECTOR jdbc_source_postgres_01 ;
-- trailing comment
PRINT 'postgres_cities' FROM BEGINNING LIMIT 3`;
    const statements = parseScript(sql);
    assert.deepEqual(
      statements.map((s) => [s.kind, s.text, s.span.line, s.span.column]),
      [
        ['listConnectors', 'SHOW CONNECTORS;', 2, 1],
        ['describeConnector', 'DESCRIBE CONNECTOR jdbc_source_postgres_01 ;', 3, 12],
        ['print', "PRINT 'postgres_cities' FROM BEGINNING LIMIT 3", 5, 1],
      ],
    );
  });

  test('an empty script, empty statements and comments alone give no statements', () => {
    assert.deepEqual(parseScript(''), []);
    assert.deepEqual(parseScript(' ;; -- nothing\n/* here */ ;'), []);
  });

  test('keywords are case-insensitive', () => {
    const s = only("create Sink connector If Not Exists x with ('a' = 'b')");
    assert.equal(s.kind, 'createConnector');
    if (s.kind !== 'createConnector') return;
    assert.equal(s.connectorType, 'sink');
    assert.equal(s.ifNotExists, true);
  });

  test('property keys may be single-, double-, back-quoted or bare with dots', () => {
    const s = only(`CREATE SOURCE CONNECTOR x WITH ('a.b' = '1', "Key.Two" = '2', \`three\` = '3', connector.class = '4')`);
    assert.equal(s.kind, 'createConnector');
    if (s.kind !== 'createConnector') return;
    assert.deepEqual(Object.keys(s.config), ['a.b', 'Key.Two', 'three', 'connector.class']);
  });

  test('property values are strings, numbers, booleans, NULL or variables, all given as text', () => {
    const s = only(
      `CREATE SOURCE CONNECTOR x WITH ('s' = 'it''s', 'n' = 10, 'neg' = -1, 'd' = 1.5e3, 't' = TRUE, 'f' = false, 'nul' = NULL, 'v' = \${pw})`,
    );
    assert.equal(s.kind, 'createConnector');
    if (s.kind !== 'createConnector') return;
    assert.deepEqual(
      s.properties.map((p) => [p.key, p.value, p.kind]),
      [
        ['s', "it's", 'string'],
        ['n', '10', 'number'],
        ['neg', '-1', 'number'],
        ['d', '1.5e3', 'number'],
        ['t', 'true', 'boolean'],
        ['f', 'false', 'boolean'],
        ['nul', null, 'null'],
        ['v', '${pw}', 'variable'],
      ],
    );
    assert.equal('nul' in s.config, false);
    assert.equal(s.config.v, '${pw}');
  });

  test('unquoted connector names are upper-cased and quoted ones kept as written', () => {
    const names = parseScript('DROP CONNECTOR my_conn; DROP CONNECTOR "my_Conn"; DROP CONNECTOR `a "b"`; DROP CONNECTOR "x""y"');
    assert.deepEqual(
      names.map((s) => (s.kind === 'dropConnector' ? [s.name.value, s.name.quoted] : null)),
      [
        ['MY_CONN', false],
        ['my_Conn', true],
        ['a "b"', true],
        ['x"y', true],
      ],
    );
  });

  test('every statement form parses', () => {
    const cases: [string, object][] = [
      ["CREATE SINK CONNECTOR s WITH ('a'='b')", { kind: 'createConnector', connectorType: 'sink', ifNotExists: false }],
      ["CREATE SOURCE CONNECTOR IF NOT EXISTS s WITH ('a'='b')", { kind: 'createConnector', ifNotExists: true }],
      ['DROP CONNECTOR x', { kind: 'dropConnector', ifExists: false }],
      ['DROP CONNECTOR IF EXISTS x', { kind: 'dropConnector', ifExists: true }],
      ['SHOW CONNECTORS', { kind: 'listConnectors', scope: 'all' }],
      ['LIST CONNECTORS', { kind: 'listConnectors', scope: 'all' }],
      ['SHOW SOURCE CONNECTORS', { kind: 'listConnectors', scope: 'source' }],
      ['LIST SINK CONNECTORS', { kind: 'listConnectors', scope: 'sink' }],
      ['SHOW CONNECTOR PLUGINS', { kind: 'listConnectorPlugins' }],
      ['LIST CONNECTOR PLUGINS', { kind: 'listConnectorPlugins' }],
      ['DESCRIBE CONNECTOR x', { kind: 'describeConnector' }],
      ['SHOW TOPICS', { kind: 'listTopics', all: false, extended: false }],
      ['LIST ALL TOPICS', { kind: 'listTopics', all: true, extended: false }],
      ['SHOW TOPICS EXTENDED', { kind: 'listTopics', all: false, extended: true }],
      ['SHOW ALL TOPICS EXTENDED', { kind: 'listTopics', all: true, extended: true }],
      ["PRINT 'My.Topic'", { kind: 'print', fromBeginning: false, interval: undefined, limit: undefined }],
      ['PRINT postgres_cities FROM BEGINNING', { kind: 'print', fromBeginning: true }],
      ["PRINT 't' INTERVAL 5", { kind: 'print', interval: 5 }],
      ["PRINT 't' SAMPLE 2 LIMIT 10", { kind: 'print', interval: 2, limit: 10 }],
      ["PRINT 't' FROM BEGINNING INTERVAL 3 LIMIT 4", { kind: 'print', fromBeginning: true, interval: 3, limit: 4 }],
      ['PAUSE CONNECTOR x', { kind: 'connectorAction', action: 'pause' }],
      ['RESUME CONNECTOR x', { kind: 'connectorAction', action: 'resume' }],
      ['RESTART CONNECTOR x', { kind: 'connectorAction', action: 'restart' }],
      ['STOP CONNECTOR x', { kind: 'connectorAction', action: 'stop' }],
    ];
    for (const [sql, expected] of cases) {
      const s = only(sql + ';') as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(expected)) assert.equal(s[k], v, `${sql}: ${k}`);
    }
  });

  test('PRINT records whether the topic was quoted and keeps its case either way', () => {
    const [a, b, c] = parseScript("PRINT 'Orders'; PRINT Orders; PRINT `Orders`");
    assert.deepEqual(
      [a, b, c].map((s) => (s.kind === 'print' ? [s.topic.value, s.topic.quoted] : null)),
      [
        ['Orders', true],
        ['Orders', false],
        ['Orders', true],
      ],
    );
  });
});

describe('parseScript errors', () => {
  test("a missing ',' between properties is reported at the next key", () => {
    const err = parseError("CREATE SOURCE CONNECTOR x WITH (\n  'a' = 'b'\n  'c' = 'd'\n)", 'sql.syntax', 3, 3);
    assert.equal(err.hint, "missing ',' between properties");
    assert.match(err.message, /expected ',' or '\)', found string 'c'/);
    assert.ok(err.message.endsWith("\n  'c' = 'd'\n  ^"), err.message);
  });

  test('an unterminated string names the line it starts on', () => {
    const err = parseError("SHOW TOPICS;\n\nCREATE SOURCE CONNECTOR x WITH ('a' = 'b)", 'sql.syntax', 3, 39);
    assert.match(err.message, /unterminated string starting at line 3/);
  });

  test('a string that swallowed a line break is blamed rather than the quote left over at the end', () => {
    const err = parseError("CREATE SOURCE CONNECTOR x WITH (\n 'a' = 'b,\n 'c' = 'd')", 'sql.syntax', 2, 8);
    assert.match(err.message, /unterminated string starting at line 2/);
    assert.match(err.hint ?? '', /line break/);
  });

  test('an unterminated quoted name or block comment is reported where it starts', () => {
    parseError('DROP CONNECTOR "abc', 'sql.syntax', 1, 16);
    const err = parseError('SHOW TOPICS; /* never\nclosed', 'sql.syntax', 1, 14);
    assert.match(err.message, /unterminated comment/);
  });

  test('a misspelt statement keyword suggests the right one', () => {
    const err = parseError('SHOW TOPICS;\n  CREAT SOURCE CONNECTOR x', 'sql.syntax', 2, 3);
    assert.match(err.message, /unknown statement 'CREAT' — did you mean CREATE\?/);
  });

  test('a misspelt keyword inside a statement suggests the right one', () => {
    assert.match(parseError('SHOW CONECTORS', 'sql.syntax', 1, 6).message, /did you mean CONNECTORS\?/);
    assert.match(parseError("PRINT 't' LIMT 4", 'sql.syntax', 1, 11).message, /did you mean LIMIT\?/);
    assert.match(parseError("PRINT 't' FROM BEGINING", 'sql.syntax', 1, 16).message, /did you mean BEGINNING\?/);
  });

  test('a duplicate property key is an error naming the key and its line', () => {
    const err = parseError("CREATE SOURCE CONNECTOR x WITH (\n 'mode' = 'bulk',\n 'x' = '1',\n 'mode' = 'incrementing')", 'sql.syntax', 4, 2);
    assert.match(err.message, /duplicate property 'mode' at line 4 \(first set at line 2\)/);
  });

  test('a missing statement terminator is reported at the next statement', () => {
    const err = parseError('SHOW CONNECTORS\nSHOW TOPICS', 'sql.syntax', 2, 1);
    assert.equal(err.hint, "end each statement with ';'");
  });

  test('malformed property lists give specific hints', () => {
    assert.equal(parseError("CREATE SOURCE CONNECTOR x WITH ('a' = 'b',)", 'sql.syntax', 1, 43).hint, "remove the trailing ','");
    assert.match(parseError('CREATE SOURCE CONNECTOR x WITH ()', 'sql.syntax', 1, 33).hint ?? '', /at least one property/);
    assert.equal(parseError("CREATE SOURCE CONNECTOR x WITH ('a' = bulk)", 'sql.syntax', 1, 39).hint, "quote text values: 'bulk'");
    assert.match(parseError(`CREATE SOURCE CONNECTOR x WITH ('a' = "bulk")`, 'sql.syntax', 1, 39).hint ?? '', /single quotes/);
    assert.match(parseError("CREATE SOURCE CONNECTOR x WITH ('a' 'b')", 'sql.syntax', 1, 37).message, /expected '='/);
    assert.match(parseError("CREATE SOURCE CONNECTOR x ('a' = 'b')", 'sql.syntax', 1, 27).message, /expected WITH/);
    assert.match(parseError("CREATE SOURCE CONNECTOR x WITH ('a' = 'b'", 'sql.syntax', 1, 42).message, /found end of input/);
  });

  test('names and numbers in the wrong shape are rejected with their position', () => {
    assert.match(parseError("DROP CONNECTOR 'x'", 'sql.syntax', 1, 16).hint ?? '', /double quotes/);
    assert.match(parseError("CREATE SOURCE CONNECTOR WITH ('a'='b')", 'sql.syntax', 1, 25).message, /expected a connector name/);
    parseError("PRINT 't' LIMIT -1", 'sql.syntax', 1, 17);
    parseError("PRINT 't' LIMIT 1.5", 'sql.syntax', 1, 17);
    parseError('PAUSE x', 'sql.syntax', 1, 7);
  });

  test('an unexpected character is reported where it is', () => {
    const err = parseError("SHOW TOPICS;\nPRINT my-topic", 'sql.syntax', 2, 9);
    assert.match(err.message, /unexpected character '-'/);
  });

  test('ksqlDB statements Tributary does not run are sql.unsupported', () => {
    parseError('CREATE STREAM s (id INT)', 'sql.unsupported', 1, 8);
    parseError('CREATE SOURCE TABLE t (id INT)', 'sql.unsupported', 1, 8);
    parseError('DROP STREAM s', 'sql.unsupported', 1, 6);
    parseError('SHOW STREAMS', 'sql.unsupported', 1, 6);
    parseError('SHOW TOPICS; SELECT * FROM t', 'sql.unsupported', 1, 14);
  });

  test('an error in a later statement rejects the whole script', () => {
    assert.throws(() => parseScript("CREATE SOURCE CONNECTOR a WITH ('x'='y'); DROP CONNECTOR"), TributaryError);
  });

  test('describe() shows the message, the caret line and the hint', () => {
    const err = parseError("SHOW CONNECTORS\n   ;\nPRINT 'x' LIMIT", 'sql.syntax', 3, 16);
    assert.equal(
      err.describe(),
      "line 3, column 16: expected a whole number, found end of input\nPRINT 'x' LIMIT\n               ^",
    );
  });
});
