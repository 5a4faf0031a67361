import type { ConfigKey, ConfigSpec } from '../sdk/config.js';
import { commonConnectorSpec } from '../runtime/common-spec.js';
import { builtinPlugins } from '../registry.js';
import { converterPlugins } from '../converters/index.js';
import { transformList } from '../transforms/index.js';
import { embeddedLogConfigSpec } from '../connectors/embedded-log/index.js';

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function defaultText(k: ConfigKey): string {
  if (k.required ?? k.default === undefined) return '**required**';
  if (k.default === null || k.default === undefined) return '';
  if (Array.isArray(k.default)) return k.default.length ? `\`${k.default.join(',')}\`` : '""';
  return `\`${String(k.default)}\``;
}

/** A Markdown table of a spec's keys: name (aliases), type, default, description. */
export function specTable(spec: ConfigSpec): string {
  const rows = spec.keys.map((k) => {
    const names = [`\`${k.name}\``, ...(k.aliases ?? []).map((a) => `\`${a}\``)].join('<br>');
    const type = k.oneOf ? `${k.type}: ${k.oneOf.join(' / ')}` : k.type + (k.type === 'password' ? ' (masked)' : '');
    return `| ${names} | ${cell(type)} | ${defaultText(k)} | ${cell(k.doc)} |`;
  });
  return ['| key | type | default | description |', '|---|---|---|---|', ...rows].join('\n');
}

/** docs/configuration.md, generated from the specs (`npm run docs`); a test keeps it in sync. */
export function configurationMarkdown(extraSpecs: Array<{ title: string; spec: ConfigSpec }> = []): string {
  const plugins = builtinPlugins();
  const parts: string[] = [
    '# Configuration reference',
    '',
    'Generated from the config specs by `npm run docs`; do not edit by hand. Every key below is validated at',
    'CREATE time: unknown keys are named with the nearest known key, all missing required keys are listed at once,',
    'and password-typed values are masked in every output.',
    '',
    '## Keys every connector accepts',
    '',
    specTable(commonConnectorSpec),
    '',
  ];
  for (const p of plugins.sources) {
    parts.push(`## ${p.className}`, '', `Also accepted as \`connector.class\`: ${[p.id, ...p.aliases.filter((a) => a !== p.className)].map((a) => `\`${a}\``).join(', ')}.`, '', specTable(p.spec), '');
  }
  parts.push('## Converters (`key.converter`, `value.converter`)', '', 'Settings go under the converter\'s prefix, e.g. `value.converter.schemas.enable=false`.', '');
  for (const c of Object.values(converterPlugins)) parts.push(`### ${c.aliases[0] ?? c.id}`, '', specTable(c.spec), '');
  parts.push('## Transforms and predicates', '', 'Configured as in Kafka Connect: `transforms=a,b`, `transforms.a.type=<class>`, `transforms.a.<key>=…`, `transforms.a.predicate=p`, `transforms.a.negate=true`, `predicates=p`, `predicates.p.type=<class>`.', '');
  for (const t of transformList) parts.push(`### ${t.id} (${t.kind})`, '', `Classes: ${t.classNames.map((c) => `\`${c}\``).join(', ')}`, '', specTable(t.plugin.spec), '');
  parts.push('## Worker: embedded event log', '', specTable(embeddedLogConfigSpec), '');
  for (const e of extraSpecs) parts.push(`## ${e.title}`, '', specTable(e.spec), '');
  return parts.join('\n');
}
