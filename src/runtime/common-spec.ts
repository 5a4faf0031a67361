import type { ConfigSpec } from '../sdk/config.js';

/**
 * Keys every connector accepts, whatever its class (Kafka Connect's ConnectorConfig/SourceConnectorConfig).
 * Prefixed families (converter settings, transforms, predicates, topic creation, producer overrides) pass through
 * here and are validated by the component that owns them.
 */
export const commonConnectorSpec: ConfigSpec = {
  name: 'connector',
  passthroughPrefixes: ['key.converter.', 'value.converter.', 'header.converter.', 'transforms.', 'predicates.', 'topic.creation.', 'producer.override.'],
  keys: [
    { name: 'name', type: 'string', default: null, doc: 'Connector name (taken from the statement or REST request).' },
    { name: 'connector.class', type: 'string', doc: 'Connector class or id, e.g. io.confluent.connect.jdbc.JdbcSourceConnector.', importance: 'high' },
    { name: 'tasks.max', type: 'int', default: 1, min: 1, doc: 'Maximum number of tasks; work (tables) is split across them.' },
    { name: 'key.converter', type: 'class', default: null, doc: 'Converter for record keys (default: the worker\'s, JsonConverter).' },
    { name: 'value.converter', type: 'class', default: null, doc: 'Converter for record values (default: the worker\'s, JsonConverter).' },
    { name: 'header.converter', type: 'class', default: null, doc: 'Accepted for compatibility; headers are written as UTF-8 strings or bytes.' },
    { name: 'transforms', type: 'list', default: [], doc: 'Aliases of the transforms to apply, in order (transforms.<alias>.type=…).' },
    { name: 'predicates', type: 'list', default: [], doc: 'Aliases of predicates (predicates.<alias>.type=…).' },
    { name: 'errors.tolerance', type: 'string', default: 'none', oneOf: ['none', 'all'], doc: 'none: a record failing in a transform or converter fails the task; all: it is skipped and logged.' },
    { name: 'errors.retry.timeout', type: 'long', default: 0, doc: 'Accepted for compatibility; retriable source and platform errors are retried with backoff without limit.' },
    { name: 'errors.retry.delay.max.ms', type: 'long', default: 60000, doc: 'Maximum delay between retries.' },
    { name: 'errors.log.enable', type: 'boolean', default: false, doc: 'Log records skipped under errors.tolerance=all.' },
    { name: 'errors.log.include.messages', type: 'boolean', default: false, doc: 'Include record contents in those logs.' },
    { name: 'exactly.once.support', type: 'string', default: 'requested', oneOf: ['requested', 'required'], doc: 'KIP-618. `required`: every batch is written with its source offsets in one platform transaction (Kafka), so read_committed consumers see each change once; refused at CREATE on a platform without transactions. `requested` (default): at least once.' },
    { name: 'transaction.boundary', type: 'string', default: 'poll', oneOf: ['poll', 'interval', 'connector'], doc: 'KIP-618 transaction boundary with exactly.once.support=required: `poll` (one transaction per polled batch) is supported; `interval` and `connector` are refused.' },
    { name: 'transaction.boundary.interval.ms', type: 'long', default: null, required: false, doc: 'KIP-618: interval for transaction.boundary=interval.' },
    { name: 'offsets.storage.topic', type: 'string', default: null, required: false, doc: 'KIP-618: connector-specific offsets topic.' },
    { name: 'offset.flush.interval.ms', type: 'long', default: 1000, min: 10, doc: 'How often acknowledged source offsets are committed (Tributary commits only acknowledged positions).' },
    { name: 'max.inflight.records', type: 'int', default: 20000, min: 1, doc: 'Records polled but not yet acknowledged by the platform; polling waits above this.' },
    { name: 'max.inflight.bytes', type: 'long', default: 64 * 1024 * 1024, min: 1024, doc: 'Bytes (converted keys and values) not yet acknowledged; polling waits above this.' },
    { name: 'config.action.reload', type: 'string', default: 'restart', oneOf: ['restart', 'none'], doc: 'Accepted for compatibility.' },
  ],
};
