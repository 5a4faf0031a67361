import { writeFileSync } from 'node:fs';
import { configurationMarkdown } from '../docs/generate.js';
import { kafkaDocSpecs } from '../docs/kafka-spec.js';

/** `npm run docs`: writes docs/configuration.md from the specs. */
const md = configurationMarkdown(await kafkaDocSpecs());
writeFileSync(new URL('../../../docs/configuration.md', import.meta.url), md);
process.stdout.write('wrote docs/configuration.md\n');
