import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Logger } from '../sdk/logger.js';
import type { Platform } from '../sdk/platform.js';
import { Worker } from '../runtime/worker.js';
import { createLogger, setRedactor } from '../runtime/logger.js';
import { redact } from '../runtime/secrets.js';
import { FileConfigStore, FileOffsetStore } from '../state/file-store.js';
import { createEmbeddedLog } from '../connectors/embedded-log/index.js';
import { builtinPlugins } from '../registry.js';
import { createHttpServer } from './http.js';
import { observeBatchLatency } from './metrics.js';

export interface AppOptions {
  dataDir: string;
  port?: number;
  host?: string;
  /** a platform to use instead of the embedded log (e.g. Kafka) */
  platform?: Platform;
  /** worker-level converter defaults etc. */
  workerConfig?: Record<string, string>;
  logger?: Logger;
  /** embedded log fsync policy */
  fsync?: 'always' | 'interval' | 'never';
}

export interface App {
  worker: Worker;
  platform: Platform;
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Wires a worker: state stores in the data dir, the platform, built-in plug-ins and the HTTP endpoint. */
export async function startApp(opts: AppOptions): Promise<App> {
  setRedactor(redact);
  const logger = opts.logger ?? createLogger();
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const platform = opts.platform ?? await createEmbeddedLog({ dir: join(dataDir, 'log'), fsync: opts.fsync ?? 'always', logger: logger.child({ platform: 'embedded' }) });
  const offsets = new FileOffsetStore(dataDir);
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 8083;
  const worker = new Worker({
    platform,
    plugins: builtinPlugins(),
    configs: new FileConfigStore(dataDir),
    offsets,
    logger,
    workerId: `${hostname()}:${port}`,
    defaults: opts.workerConfig,
    offsetsTopic: opts.workerConfig?.['offset.storage.topic'],
    groupId: opts.workerConfig?.['group.id'],
    onBatch: (connector, task, b) => observeBatchLatency(connector, task, b.latencyMs / 1000),
  });
  const server = createHttpServer(worker, logger);
  try {
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(port, host, () => {
        server.off('error', rej);
        res();
      });
    });
  } catch (err) {
    // nothing was started yet but the stores and the platform: release them (the log's writer lock)
    await offsets.close();
    await platform.close();
    throw err;
  }
  const actualPort = (server.address() as AddressInfo).port;
  await worker.start();
  let closed = false;
  return {
    worker,
    platform,
    server,
    url: `${'setSecureContext' in server ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${actualPort}`,
    async close() {
      if (closed) return;
      closed = true;
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
      await worker.shutdown();
      await offsets.close();
      await platform.close();
    },
  };
}
