/**
 * `org.apache.kafka.connect.transforms.RegexRouter`: when the whole topic name matches `regex`, the topic becomes
 * `replacement` (Java syntax: `$1`, `${name}`, `\$` for a literal dollar).
 */
import type { ConfigSpec, ResolvedConfig } from '../sdk/config.js';
import type { SourceRecord } from '../sdk/record.js';
import type { Transform, TransformPlugin } from '../sdk/transform.js';
import { CONNECT_TRANSFORMS, javaRegex, javaReplacement, regexProblem } from './util.js';

export const regexRouterSpec: ConfigSpec = {
  name: 'RegexRouter',
  keys: [
    { name: 'regex', type: 'string', importance: 'high', doc: 'Regular expression (Java syntax) the whole topic name must match.', validate: regexProblem },
    { name: 'replacement', type: 'string', required: false, importance: 'high', doc: 'Replacement string; $1… refer to groups of the match.',
      validate: (v) => { try { javaReplacement(String(v)); return undefined; } catch (e) { return (e as Error).message; } } },
  ],
  check: (cfg) => (cfg.replacement === null || cfg.replacement === undefined ? [['replacement', "Missing required configuration 'replacement'"]] : []),
};

/** RegexRouter transform. */
export class RegexRouter implements Transform {
  private regex = /$^/;
  private replace: (m: RegExpExecArray) => string = () => '';
  private last: [string, string] | undefined;

  configure(config: ResolvedConfig): void {
    this.regex = javaRegex(String(config.regex), true);
    this.replace = javaReplacement(String(config.replacement ?? ''));
  }

  apply(r: SourceRecord): SourceRecord {
    const last = this.last;
    if (last !== undefined && last[0] === r.topic) return last[1] === r.topic ? r : { ...r, topic: last[1] };
    const m = this.regex.exec(r.topic);
    const topic = m ? this.replace(m) : r.topic;
    this.last = [r.topic, topic];
    return topic === r.topic ? r : { ...r, topic };
  }
}

export const regexRouterPlugin: TransformPlugin = {
  id: 'RegexRouter',
  aliases: [`${CONNECT_TRANSFORMS}RegexRouter`],
  spec: regexRouterSpec,
  create: () => new RegexRouter(),
};
