import { noTransforms, type Plugins } from './runtime/plugins.js';
import { jdbcSourcePlugin } from './connectors/jdbc/index.js';
import { postgresCdcPlugin } from './connectors/postgres/index.js';
import { createConverter } from './converters/index.js';
import { buildTransformChain, expandKsqlKeyShortcut } from './transforms/chain.js';

/**
 * The one place plug-ins are registered: adding a system is a folder under src/connectors plus a line here.
 */
export function builtinPlugins(): Plugins {
  return {
    sources: [jdbcSourcePlugin, postgresCdcPlugin],
    createConverter,
    buildTransforms: (config) => {
      const chain = buildTransformChain(config);
      return chain.aliases.length ? (r) => chain.apply(r) : noTransforms;
    },
    expandShortcuts: (config) => expandKsqlKeyShortcut(config),
  };
}
