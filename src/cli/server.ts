import { setFlagsFromString } from 'node:v8';
import { startApp } from '../server/app.js';
import { createLogger } from '../runtime/logger.js';
import { flagString, parseArgs } from './args.js';
import { readProperties } from './properties.js';
import { onStopSignal } from './signals.js';
import { createPlatform } from './platform.js';

/**
 * How much the V8 heap may grow past what a full collection left before the next one, in percent. V8's own
 * heuristic lets it grow up to 4× under a steady allocation rate: records in flight are promoted and die in the old
 * generation, so a server whose live heap is ~15 MB peaked at 190–260 MB streaming into Kafka. At 100 % the peak
 * was ~160 MB, for 2–12 % more CPU per event in a drain (50 %: ~140 MB, but up to 20 % more CPU in a snapshot); see
 * docs/postgres-cdc.md, memory. TRIBUTARY_HEAP_GROWING_PERCENT overrides it; 0 keeps V8's own heuristic.
 */
const HEAP_GROWING_PERCENT = 100;

function tuneHeap(): void {
  const v = process.env.TRIBUTARY_HEAP_GROWING_PERCENT;
  let pct = HEAP_GROWING_PERCENT;
  if (v !== undefined && v !== '') {
    if (!/^\d{1,4}$/.test(v) || Number(v) > 1000) throw new Error(`TRIBUTARY_HEAP_GROWING_PERCENT must be a whole number from 0 to 1000 (got '${v}'); 0 keeps V8's default`);
    pct = Number(v);
  }
  if (pct > 0) setFlagsFromString(`--heap-growing-percent=${pct}`);
}

/** `tributary server`: runs the worker until SIGINT/SIGTERM, then stops connectors gracefully. */
export async function runServer(argv: string[]): Promise<number> {
  tuneHeap();
  const { flags } = parseArgs(argv);
  const workerConfig: Record<string, string> = {};
  const cfgPath = flagString(flags, 'config', 'c');
  if (cfgPath) Object.assign(workerConfig, readProperties(cfgPath));
  const bootstrap = flagString(flags, 'bootstrap-servers', 'kafka') ?? process.env.KAFKA_BOOTSTRAP_SERVERS ?? process.env.TRIBUTARY_BOOTSTRAP_SERVERS;
  if (bootstrap) workerConfig['bootstrap.servers'] = bootstrap;
  const logger = createLogger();
  const dataDir = flagString(flags, 'data-dir') ?? workerConfig['data.dir'] ?? process.env.TRIBUTARY_DATA_DIR ?? '.tributary';
  const port = Number(flagString(flags, 'port') ?? workerConfig['listeners.port'] ?? process.env.TRIBUTARY_PORT ?? 8083);
  const host = flagString(flags, 'host') ?? process.env.TRIBUTARY_HOST ?? '127.0.0.1';
  const platform = await createPlatform(workerConfig, logger);
  const app = await startApp({ dataDir, port, host, platform: platform ?? undefined, workerConfig: converterDefaults(workerConfig), logger });
  logger.info('tributary worker started', { url: app.url, dataDir, platform: app.platform.kind });
  process.stdout.write(`Tributary listening on ${app.url} (data dir ${dataDir}, platform ${app.platform.kind})\n`);
  await new Promise<void>((resolve) => {
    onStopSignal((sig) => {
      logger.info('shutting down', { signal: sig });
      void app.close().finally(resolve);
    });
  });
  return 0;
}

function converterDefaults(cfg: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(cfg)) if (k.startsWith('key.converter') || k.startsWith('value.converter')) out[k] = v;
  return out;
}
