import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configurationMarkdown } from '../../src/docs/generate.js';
import { kafkaDocSpecs } from '../../src/docs/kafka-spec.js';

test('docs/configuration.md matches the config specs (run npm run docs after changing a spec)', async () => {
  const expected = configurationMarkdown(await kafkaDocSpecs());
  const actual = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  assert.equal(actual, expected);
});
