/** `org.apache.kafka.connect.transforms.Filter`: drops every record it is applied to (use it with a predicate). */
import type { ConfigSpec } from '../sdk/config.js';
import type { Transform, TransformPlugin } from '../sdk/transform.js';
import { CONNECT_TRANSFORMS } from './util.js';

export const filterSpec: ConfigSpec = { name: 'Filter', keys: [] };

/** Filter transform. */
export class Filter implements Transform {
  configure(): void {}
  apply(): null {
    return null;
  }
}

export const filterPlugin: TransformPlugin = {
  id: 'Filter',
  aliases: [`${CONNECT_TRANSFORMS}Filter`],
  spec: filterSpec,
  create: () => new Filter(),
};
