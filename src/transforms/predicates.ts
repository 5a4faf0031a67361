/**
 * Kafka Connect's predicates (`org.apache.kafka.connect.transforms.predicates.*`): TopicNameMatches (`pattern`,
 * a Java regex the whole topic must match), HasHeaderKey (`name`), RecordIsTombstone (null value).
 */
import type { ConfigSpec, ResolvedConfig } from '../sdk/config.js';
import type { SourceRecord } from '../sdk/record.js';
import type { Predicate, PredicatePlugin } from '../sdk/transform.js';
import { javaRegex, regexProblem } from './util.js';

const PKG = 'org.apache.kafka.connect.transforms.predicates.';

export const topicNameMatchesSpec: ConfigSpec = {
  name: 'TopicNameMatches',
  keys: [{ name: 'pattern', type: 'string', importance: 'medium',
    doc: 'A Java regular expression for matching against the name of a record\'s topic.', validate: regexProblem }],
};

/** True when the record's whole topic name matches `pattern`. */
export class TopicNameMatches implements Predicate {
  private re = /$^/;
  configure(config: ResolvedConfig): void {
    this.re = javaRegex(String(config.pattern), true);
  }
  test(r: SourceRecord): boolean {
    return this.re.test(r.topic);
  }
}

export const hasHeaderKeySpec: ConfigSpec = {
  name: 'HasHeaderKey',
  keys: [{ name: 'name', type: 'string', importance: 'medium', doc: 'The header name.' }],
};

/** True when the record has at least one header with the given name. */
export class HasHeaderKey implements Predicate {
  private name = '';
  configure(config: ResolvedConfig): void {
    this.name = String(config.name);
  }
  test(r: SourceRecord): boolean {
    return r.headers?.some((h) => h.key === this.name) ?? false;
  }
}

/** True when the record's value is null (a tombstone). */
export class RecordIsTombstone implements Predicate {
  configure(): void {}
  test(r: SourceRecord): boolean {
    return r.value === null || r.value === undefined;
  }
}

export const topicNameMatchesPlugin: PredicatePlugin = {
  id: 'TopicNameMatches', aliases: [`${PKG}TopicNameMatches`], spec: topicNameMatchesSpec, create: () => new TopicNameMatches(),
};
export const hasHeaderKeyPlugin: PredicatePlugin = {
  id: 'HasHeaderKey', aliases: [`${PKG}HasHeaderKey`], spec: hasHeaderKeySpec, create: () => new HasHeaderKey(),
};
export const recordIsTombstonePlugin: PredicatePlugin = {
  id: 'RecordIsTombstone', aliases: [`${PKG}RecordIsTombstone`], spec: { name: 'RecordIsTombstone', keys: [] }, create: () => new RecordIsTombstone(),
};
