import type { Logger } from '../sdk/logger.js';
import type { Platform } from '../sdk/platform.js';

/**
 * The worker's platform from worker settings: Kafka when `bootstrap.servers` is set, else null (the embedded log).
 */
export async function createPlatform(cfg: Record<string, string>, logger: Logger): Promise<Platform | null> {
  if (!cfg['bootstrap.servers']) return null;
  const kafka = await import('../connectors/kafka/platform.js');
  const platformCfg: Record<string, string> = {};
  for (const [k, v] of Object.entries(cfg)) if (!k.startsWith('key.converter') && !k.startsWith('value.converter') && k !== 'data.dir' && k !== 'listeners.port') platformCfg[k] = v;
  return kafka.createKafkaPlatform(platformCfg, logger.child({ platform: 'kafka' }));
}
