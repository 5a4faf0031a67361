/** A source plug-in for runtime tests that can also run in a task thread (it names its own module). */
import { TributaryError } from '../../src/sdk/errors.js';
import type { SourceOffset, SourceRecord } from '../../src/sdk/record.js';
import { Schemas } from '../../src/sdk/schema.js';
import type { SourcePlugin, SourceTask, SourceTaskContext } from '../../src/sdk/source.js';
import type { ResolvedConfig } from '../../src/sdk/config.js';

const schema = Schemas.struct([{ name: 'id', schema: Schemas.int64() }, { name: 'text', schema: Schemas.string() }], 'row');

/**
 * Config: `total` records, `per` per poll, `failAt` (poll fails permanently when reaching this record),
 * `retryAt` (one retriable failure there). Offsets `{n}` in partition `{table:'a'}`; logs start, commits and stop.
 */
class FakeTask implements SourceTask {
  #ctx!: SourceTaskContext;
  #next = 0;
  #total = 0;
  #per = 1;
  #failAt = -1;
  #retryAt = -1;

  async start(config: ResolvedConfig, ctx: SourceTaskContext): Promise<void> {
    this.#ctx = ctx;
    this.#total = Number(config['total']);
    this.#per = Number(config['per'] ?? 100);
    this.#failAt = Number(config['failAt'] ?? -1);
    this.#retryAt = Number(config['retryAt'] ?? -1);
    const off = await ctx.offset({ table: 'a' });
    this.#next = off ? Number(off['n']) + 1 : 0;
    ctx.logger.info('fake started', { from: this.#next });
  }

  async poll(): Promise<SourceRecord[]> {
    if (this.#next === this.#failAt) throw new TributaryError('source.query', 'boom at ' + this.#next, { hint: 'a hint' });
    if (this.#next === this.#retryAt) {
      this.#retryAt = -1;
      throw new TributaryError('source.connection', 'flaky', { retriable: true });
    }
    if (this.#next >= this.#total) {
      await new Promise((r) => setTimeout(r, 5));
      return [];
    }
    const out: SourceRecord[] = [];
    for (let i = 0; i < this.#per && this.#next < this.#total && this.#next !== this.#failAt; i++, this.#next++) {
      const n = this.#next;
      out.push({
        topic: n % 7 === 0 ? 'fake_other' : 'fake_main',
        key: n % 3 === 0 ? null : String(n),
        keySchema: Schemas.string(),
        value: { id: n, text: 'é'.repeat(n % 40) },
        valueSchema: schema,
        sourcePartition: { table: 'a' },
        sourceOffset: { n } as SourceOffset,
        ...(n % 13 === 0 ? { headers: [{ key: 'h', value: `v${n}` }] } : {}),
        ...(n % 11 === 0 ? { kafkaPartition: 0 } : {}),
      });
    }
    return out;
  }

  async commit(offsets: Array<{ offset: SourceOffset }>): Promise<void> {
    this.#ctx.logger.info('fake commit', { n: Number(offsets[offsets.length - 1]!.offset['n']) });
  }

  async stop(): Promise<void> {
    this.#ctx?.logger.info('fake stopped');
  }

  status(): Record<string, unknown> {
    return { next: this.#next };
  }
}

export const fakeSourcePlugin: SourcePlugin = {
  id: 'fake',
  aliases: [],
  className: 'Fake',
  type: 'source',
  spec: { name: 'fake', keys: [] },
  createConnector: () => {
    throw new Error('not used');
  },
  createTask: () => new FakeTask(),
  threadModule: { url: import.meta.url, exportName: 'fakeSourcePlugin' },
};
