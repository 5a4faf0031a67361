import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  connectorStatus,
  formatRowtime,
  renderConnectorAction,
  renderConnectorDescription,
  renderConnectorList,
  renderConnectorPlugins,
  renderCreated,
  renderDropped,
  renderPrint,
  renderTable,
  renderTopics,
} from '../../src/sql/render.js';

/** Joins lines into the expected output (each line ends with a newline). */
const lines = (...ls: string[]) => ls.map((l) => l + '\n').join('');

describe('render', () => {
  test('a table pads columns to the widest cell with ksqlDB borders', () => {
    assert.equal(
      renderTable(['A', 'Longer'], [['wide cell', 'x'], ['b', '']]),
      lines(
        ' A         | Longer ',
        '--------------------',
        ' wide cell | x      ',
        ' b         |        ',
        '--------------------',
      ),
    );
  });

  test('a table without rows prints its header between two rules, and none without headers', () => {
    assert.equal(renderTable(['Message'], []), lines(' Message ', '---------', '---------'));
    assert.equal(renderTable([], [['x']]), '');
  });

  test('a multi-line cell continues on the next lines', () => {
    assert.equal(
      renderTable(['Id', 'Trace'], [['0', 'Error: boom\n  at x']]),
      lines(' Id | Trace       ', '------------------', ' 0  | Error: boom ', '    |   at x      ', '------------------'),
    );
  });

  test('CREATE prints Created connector <name> in a Message table', () => {
    assert.equal(
      renderCreated('JDBC_SOURCE_POSTGRES_01'),
      lines(
        ' Message                                   ',
        '-------------------------------------------',
        ' Created connector JDBC_SOURCE_POSTGRES_01 ',
        '-------------------------------------------',
      ),
    );
  });

  test('DROP and the lifecycle actions print the quoted connector name', () => {
    assert.equal(renderDropped('X'), lines(' Message               ', '-----------------------', ' Dropped connector "X" ', '-----------------------'));
    assert.match(renderConnectorAction('pause', 'X'), / Paused connector "X" /);
    assert.match(renderConnectorAction('resume', 'X'), / Resumed connector "X" /);
    assert.match(renderConnectorAction('restart', 'X'), / Restarted connector "X" /);
    assert.match(renderConnectorAction('stop', 'X'), / Stopped connector "X" /);
  });

  test('connector status is the raw state, or RUNNING/WARNING with the running task count', () => {
    const running = { id: 0, state: 'RUNNING' };
    const failed = { id: 1, state: 'FAILED' };
    assert.equal(connectorStatus({ state: 'PAUSED', tasks: [running] }), 'PAUSED');
    assert.equal(connectorStatus({ state: 'RUNNING', tasks: [running, { ...running, id: 1 }] }), 'RUNNING (2/2 tasks RUNNING)');
    assert.equal(connectorStatus({ state: 'RUNNING', tasks: [running, failed] }), 'WARNING (1/2 tasks RUNNING)');
    assert.equal(connectorStatus({ state: 'RUNNING', tasks: [failed] }), 'WARNING (0/1 tasks RUNNING)');
  });

  test('SHOW CONNECTORS prints name, upper-case type, class and status', () => {
    const out = renderConnectorList([
      {
        name: 'JDBC_SOURCE_POSTGRES_01',
        type: 'source',
        className: 'io.confluent.connect.jdbc.JdbcSourceConnector',
        state: 'RUNNING',
        tasks: [{ id: 0, state: 'RUNNING' }],
      },
      { name: 'OTHER', type: 'sink', className: 'x.Sink', state: 'FAILED', tasks: [] },
    ]);
    assert.equal(
      out,
      lines(
        ' Connector Name          | Type   | Class                                         | Status                      ',
        '-'.repeat(112),
        ' JDBC_SOURCE_POSTGRES_01 | SOURCE | io.confluent.connect.jdbc.JdbcSourceConnector | RUNNING (1/1 tasks RUNNING) ',
        ' OTHER                   | SINK   | x.Sink                                        | FAILED                      ',
        '-'.repeat(112),
      ),
    );
  });

  test('SHOW CONNECTOR PLUGINS prints class, type and version', () => {
    assert.equal(
      renderConnectorPlugins([{ className: 'io.confluent.connect.jdbc.JdbcSourceConnector', type: 'source', version: '0.1.0' }]),
      lines(
        ' Class                                         | Type   | Version ',
        '------------------------------------------------------------------',
        ' io.confluent.connect.jdbc.JdbcSourceConnector | SOURCE | 0.1.0   ',
        '------------------------------------------------------------------',
      ),
    );
  });

  test('DESCRIBE CONNECTOR prints the fields, extras, tasks and related topics', () => {
    const out = renderConnectorDescription({
      name: 'JDBC_SOURCE_POSTGRES_01',
      className: 'io.confluent.connect.jdbc.JdbcSourceConnector',
      type: 'source',
      state: 'RUNNING',
      workerId: '127.0.0.1:8083',
      tasks: [
        { id: 0, state: 'RUNNING' },
        { id: 1, state: 'FAILED', trace: 'boom' },
      ],
      topics: ['postgres_cities'],
      extras: [{ label: 'Lag', value: '0 rows' }],
    });
    assert.equal(
      out,
      lines(
        'Name                 : JDBC_SOURCE_POSTGRES_01',
        'Class                : io.confluent.connect.jdbc.JdbcSourceConnector',
        'Type                 : source',
        'State                : RUNNING',
        'WorkerId             : 127.0.0.1:8083',
        'Lag                  : 0 rows',
        '',
        ' Task ID | State   | Error Trace ',
        '---------------------------------',
        ' 0       | RUNNING |             ',
        ' 1       | FAILED  | boom        ',
        '---------------------------------',
        '',
        ' Related Topics  ',
        '-----------------',
        ' postgres_cities ',
        '-----------------',
      ),
    );
  });

  test('DESCRIBE CONNECTOR of a failed connector without tasks prints its trace and no tables', () => {
    const out = renderConnectorDescription({
      name: 'X',
      className: 'C',
      type: 'source',
      state: 'FAILED',
      workerId: 'w',
      trace: 'TributaryError[source.auth]: password authentication failed',
      tasks: [],
      topics: [],
    });
    assert.equal(
      out,
      lines(
        'Name                 : X',
        'Class                : C',
        'Type                 : source',
        'State                : FAILED',
        'WorkerId             : w',
        'Trace                : TributaryError[source.auth]: password authentication failed',
      ),
    );
  });

  test('SHOW TOPICS prints partitions and a replica summary; EXTENDED adds consumers', () => {
    const topics = [
      { name: 'postgres_cities', partitions: 1, replicas: 1 },
      { name: 'mixed', partitions: 3, replicas: [1, 2, 1], consumers: 2, consumerGroups: 1 },
    ];
    assert.equal(
      renderTopics(topics),
      lines(
        ' Kafka Topic     | Partitions | Replicas ',
        '-----------------------------------------',
        ' postgres_cities | 1          | 1        ',
        ' mixed           | 3          | 1, 2, 1  ',
        '-----------------------------------------',
      ),
    );
    assert.equal(
      renderTopics(topics, true),
      lines(
        ' Kafka Topic     | Partitions | Replicas | Consumers | ConsumerGroups ',
        '----------------------------------------------------------------------',
        ' postgres_cities | 1          | 1        | 0         | 0              ',
        ' mixed           | 3          | 1, 2, 1  | 2         | 1              ',
        '----------------------------------------------------------------------',
      ),
    );
  });

  test('PRINT prints the formats, then rowtime in UTC, key, value and partition per record', () => {
    const out = renderPrint('KAFKA_STRING', 'JSON or KAFKA_STRING', [
      { timestamp: Date.UTC(2024, 0, 2, 3, 4, 5, 6), partition: 0, key: '1', value: '{"city_id":1}' },
      { timestamp: Date.UTC(2024, 11, 31, 23, 59, 59, 999), partition: 2, key: null, value: null },
    ]);
    assert.equal(
      out,
      lines(
        'Key format: KAFKA_STRING',
        'Value format: JSON or KAFKA_STRING',
        'rowtime: 2024/01/02 03:04:05.006 Z, key: 1, value: {"city_id":1}, partition: 0',
        'rowtime: 2024/12/31 23:59:59.999 Z, key: <null>, value: <null>, partition: 2',
      ),
    );
  });

  test('a record without a timestamp prints rowtime N/A', () => {
    assert.equal(formatRowtime(-1), 'N/A');
    assert.equal(formatRowtime(0), '1970/01/01 00:00:00.000 Z');
  });
});
