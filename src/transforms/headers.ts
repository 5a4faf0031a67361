/**
 * Header transforms: `org.apache.kafka.connect.transforms.InsertHeader` (adds `header` with the string
 * `value.literal`) and `org.apache.kafka.connect.transforms.DropHeaders` (removes every header named in `headers`).
 */
import type { ConfigSpec, ResolvedConfig } from '../sdk/config.js';
import type { SourceRecord } from '../sdk/record.js';
import type { Transform, TransformPlugin } from '../sdk/transform.js';
import { CONNECT_TRANSFORMS, listOf } from './util.js';

export const insertHeaderSpec: ConfigSpec = {
  name: 'InsertHeader',
  keys: [
    { name: 'header', type: 'string', importance: 'high', doc: 'The name of the header.' },
    { name: 'value.literal', type: 'string', required: false, importance: 'high', doc: 'The literal value that is to be set as the header value on all records.' },
  ],
  check: (cfg) => (cfg['value.literal'] == null ? [['value.literal', "Missing required configuration 'value.literal'"]] : []),
};

/** InsertHeader transform. */
export class InsertHeader implements Transform {
  private header = '';
  private value = '';

  configure(config: ResolvedConfig): void {
    this.header = String(config.header);
    this.value = String(config['value.literal'] ?? '');
  }

  apply(r: SourceRecord): SourceRecord {
    return { ...r, headers: [...(r.headers ?? []), { key: this.header, value: this.value }] };
  }
}

export const insertHeaderPlugin: TransformPlugin = {
  id: 'InsertHeader',
  aliases: [`${CONNECT_TRANSFORMS}InsertHeader`],
  spec: insertHeaderSpec,
  create: () => new InsertHeader(),
};

export const dropHeadersSpec: ConfigSpec = {
  name: 'DropHeaders',
  keys: [{ name: 'headers', type: 'list', importance: 'high', doc: 'The name of the headers to be removed.',
    validate: (v) => ((v as string[]).length ? undefined : 'list at least one header name') }],
};

/** DropHeaders transform. */
export class DropHeaders implements Transform {
  private names = new Set<string>();

  configure(config: ResolvedConfig): void {
    this.names = new Set(listOf(config, 'headers'));
  }

  apply(r: SourceRecord): SourceRecord {
    if (!r.headers?.length) return r;
    const headers = r.headers.filter((h) => !this.names.has(h.key));
    return headers.length === r.headers.length ? r : { ...r, headers };
  }
}

export const dropHeadersPlugin: TransformPlugin = {
  id: 'DropHeaders',
  aliases: [`${CONNECT_TRANSFORMS}DropHeaders`],
  spec: dropHeadersSpec,
  create: () => new DropHeaders(),
};
