/** The connector: one task (a replication slot is read by one connection), status from the task when co-located. */
import type { ResolvedConfig } from '../../sdk/config.js';
import type { ConnectorContext, SourceConnector } from '../../sdk/source.js';
import { resolvePgCdcConfig, type PgCdcConfig } from './config.js';
import { connectClient } from './replication/connection.js';

export class PostgresCdcConnector implements SourceConnector {
  private config: ResolvedConfig = {};
  private cfg: PgCdcConfig | null = null;
  private ctx: ConnectorContext | null = null;

  async start(config: ResolvedConfig, ctx: ConnectorContext): Promise<void> {
    this.config = config;
    this.cfg = resolvePgCdcConfig(config);
    this.ctx = ctx;
  }

  async taskConfigs(maxTasks: number): Promise<Array<Record<string, unknown>>> {
    void maxTasks;
    return [{}];
  }

  async stop(): Promise<void> {
    /* nothing held */
  }

  status(): Record<string, unknown> {
    return { slot: this.cfg?.slotName, publication: this.cfg?.publicationName, tasks: 1 };
  }

  /** On delete: drop the slot when slot.drop.on.stop is set; otherwise warn that it keeps WAL. */
  async onDeleted(): Promise<void> {
    const cfg = this.cfg;
    if (!cfg) return;
    if (!cfg.slotDropOnStop) {
      this.ctx?.logger.warn(`replication slot '${cfg.slotName}' is kept and retains WAL until dropped: SELECT pg_drop_replication_slot('${cfg.slotName}');`);
      return;
    }
    const c = await connectClient({ host: cfg.host, port: cfg.port, user: cfg.user, password: cfg.password, database: cfg.dbname }, false);
    try {
      await c.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [cfg.slotName]);
    } finally {
      await c.end().catch(() => undefined);
    }
  }
}
