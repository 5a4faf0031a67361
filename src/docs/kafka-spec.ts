import type { ConfigSpec } from '../sdk/config.js';

/** The Kafka platform's worker settings, when that module is present. */
export async function kafkaDocSpecs(): Promise<Array<{ title: string; spec: ConfigSpec }>> {
  try {
    const m = (await import('../connectors/kafka/platform.js' as string)) as { kafkaPlatformSpec?: ConfigSpec };
    return m.kafkaPlatformSpec ? [{ title: 'Worker: Kafka platform', spec: m.kafkaPlatformSpec }] : [];
  } catch {
    return [];
  }
}
