import { hostname } from 'node:os';
import type { ConfigProblem, ConfigSpec, ResolvedConfig } from '../sdk/config.js';
import { TributaryError, traceOf } from '../sdk/errors.js';
import type { Logger } from '../sdk/logger.js';
import type { Platform, TopicSpec } from '../sdk/platform.js';
import type { SourceOffset, SourcePartition } from '../sdk/record.js';
import type { SourceConnector, SourcePlugin } from '../sdk/source.js';
import type { ConfigStore, ConnectorRecord, ConnectorState, OffsetEntry, OffsetStore } from '../sdk/state.js';
import { commonConnectorSpec } from './common-spec.js';
import { configError, resolveConfig } from './config.js';
import { findSource, type Plugins } from './plugins.js';
import { maskConfig, registerSecrets } from './secrets.js';
import { TaskRunner, type TaskLimits } from './task-runner.js';

export interface WorkerOptions {
  platform: Platform;
  plugins: Plugins;
  configs: ConfigStore;
  offsets: OffsetStore;
  logger: Logger;
  workerId?: string;
  /** worker-level converter defaults (Kafka Connect's key.converter / value.converter worker settings) */
  defaults?: Record<string, string>;
  shutdownTimeoutMs?: number;
  /** exactly-once: topic of the committed source offsets (Kafka Connect's offset.storage.topic) */
  offsetsTopic?: string;
  /** exactly-once: transactional ids are `<groupId>-<connector>-<task>` (Kafka Connect's naming) */
  groupId?: string;
  /** observer of acknowledged batches (metrics) */
  onBatch?: (connector: string, task: number, b: { records: number; bytes: number; latencyMs: number }) => void;
}

export interface TaskStatus {
  id: number;
  state: ConnectorState;
  worker_id: string;
  trace?: string;
}

export interface ConnectorStatus {
  name: string;
  connector: { state: ConnectorState; worker_id: string; trace?: string };
  tasks: TaskStatus[];
  type: 'source' | 'sink';
}

type Target = ConnectorRecord['targetState'];

/** The merged spec a connector's config is checked against: the common keys plus its plug-in's keys. */
export function connectorSpec(plugin: SourcePlugin): ConfigSpec {
  return {
    name: `${plugin.className} (${plugin.id})`,
    // a plug-in may declare a common key again with its own default (e.g. a smaller in-flight window)
    keys: [...commonConnectorSpec.keys.filter((k) => !plugin.spec.keys.some((pk) => pk.name === k.name)), ...plugin.spec.keys],
    passthroughPrefixes: [...(commonConnectorSpec.passthroughPrefixes ?? []), ...(plugin.spec.passthroughPrefixes ?? [])],
    check: plugin.spec.check,
  };
}

class ConnectorInstance {
  state: ConnectorState = 'UNASSIGNED';
  trace?: string;
  tasks: TaskRunner[] = [];
  connector: SourceConnector | null = null;
  /** the worker's platform, or a view of it with this connector's client overrides */
  platform: Platform | null = null;
  topics = new Set<string>();
  constructor(
    public rec: ConnectorRecord,
    public plugin: SourcePlugin,
  ) {}
}

/**
 * Hosts connectors and their tasks. All management (SQL, REST, CLI) goes through these methods.
 * Lifecycle: create → RUNNING | PAUSED | STOPPED; pause/resume/stop/restart; delete. State survives restarts
 * through the config store (target states) and the offset store (positions).
 */
export class Worker {
  readonly workerId: string;
  readonly #o: WorkerOptions;
  readonly #instances = new Map<string, ConnectorInstance>();
  #lock: Promise<unknown> = Promise.resolve();

  constructor(opts: WorkerOptions) {
    this.#o = opts;
    this.workerId = opts.workerId ?? `${hostname()}:8083`;
  }

  get platform(): Platform {
    return this.#o.platform;
  }
  get plugins(): Plugins {
    return this.#o.plugins;
  }

  /** serializes management operations so two commands never interleave on one connector */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#lock.then(fn, fn);
    this.#lock = p.catch(() => undefined);
    return p;
  }

  /** Starts every stored connector in its target state. */
  async start(): Promise<void> {
    for (const rec of await this.#o.configs.list()) {
      try {
        const plugin = findSource(this.#o.plugins, rec.config['connector.class'] ?? '');
        const inst = new ConnectorInstance(rec, plugin);
        this.#instances.set(rec.name, inst);
        await this.#startInstance(inst);
      } catch (err) {
        this.#o.logger.error('cannot start stored connector', { connector: rec.name, error: String(err) });
      }
    }
  }

  /**
   * Validates a config the way CREATE does, without creating anything: every problem at once (missing keys,
   * unknown keys with the nearest known key, bad values, bad transforms/converters), then the plug-in's own
   * checks with I/O (connectivity, credentials) when the config is otherwise valid.
   */
  async validate(config: Record<string, string>, opts: { io?: boolean } = {}): Promise<{ plugin: SourcePlugin | null; config: Record<string, string>; values: ResolvedConfig; problems: ConfigProblem[] }> {
    const cls = config['connector.class'];
    if (!cls) {
      return { plugin: null, config, values: {}, problems: [{ key: 'connector.class', message: "Missing required configuration 'connector.class'", hint: `one of: ${this.#o.plugins.sources.map((p) => p.className).join(', ')}` }] };
    }
    let plugin: SourcePlugin;
    try {
      plugin = findSource(this.#o.plugins, cls);
    } catch (e) {
      const te = e as TributaryError;
      return { plugin: null, config, values: {}, problems: [{ key: 'connector.class', message: te.message, hint: te.hint }] };
    }
    const expanded = this.#o.plugins.expandShortcuts(config);
    const { values, problems } = resolveConfig(connectorSpec(plugin), expanded);
    for (const [what, fn] of [
      ['transforms', () => this.#o.plugins.buildTransforms(expanded)],
      ['key.converter', () => this.#converter(expanded, true)],
      ['value.converter', () => this.#converter(expanded, false)],
      ['producer.override', () => this.#o.platform.forConnector?.(expanded)],
    ] as const) {
      try {
        fn();
      } catch (e) {
        const te = e as TributaryError;
        problems.push({ key: te.key ?? what, message: te.message, hint: te.hint });
      }
    }
    problems.push(...this.#exactlyOnceProblems(values));
    if (!problems.length && opts.io !== false && plugin.check) {
      problems.push(...(await plugin.check(values)));
    }
    return { plugin, config: expanded, values, problems };
  }

  /** KIP-618 settings this worker's platform cannot honour */
  #exactlyOnceProblems(values: ResolvedConfig): ConfigProblem[] {
    if (values['exactly.once.support'] !== 'required') return [];
    const platform = this.#o.platform;
    if (!platform.transactional) {
      return [{
        key: 'exactly.once.support',
        message: `exactly.once.support=required cannot be met: the ${platform.kind} platform has no transactions`,
        hint: 'run the worker with Kafka (bootstrap.servers) for exactly-once, or remove the key for at-least-once delivery (duplicates only as a replayed suffix)',
      }];
    }
    if (values['transaction.boundary'] !== 'poll') {
      return [{ key: 'transaction.boundary', message: `transaction.boundary=${values['transaction.boundary']} is not supported`, hint: 'use transaction.boundary=poll (one transaction per polled batch)' }];
    }
    return [];
  }

  /** the platform a connector writes to: a view with its client overrides when the platform supports them */
  #platformFor(config: Record<string, string>): Platform {
    const base = this.#o.platform;
    if (base.forConnector) return base.forConnector(config);
    const ignored = Object.keys(config).filter((k) => k.startsWith('producer.override.'));
    if (ignored.length) this.#o.logger.warn(`producer overrides do not apply to the ${base.kind} platform; ignored`, { connector: config.name, keys: ignored.join(',') });
    return base;
  }

  #converter(config: Record<string, string>, isKey: boolean) {
    const prefix = isKey ? 'key.converter' : 'value.converter';
    const d = this.#o.defaults ?? {};
    const cls = config[prefix] || d[prefix] || 'org.apache.kafka.connect.json.JsonConverter';
    // the worker's converter settings apply when the connector uses the worker's converter class
    const sub: Record<string, string> = {};
    const useDefaults = !config[prefix] || config[prefix] === d[prefix];
    if (useDefaults) for (const [k, v] of Object.entries(d)) if (k.startsWith(prefix + '.')) sub[k] = v;
    for (const [k, v] of Object.entries(config)) if (k.startsWith(prefix + '.')) sub[k] = v;
    return this.#o.plugins.createConverter(cls, sub, isKey);
  }

  create(name: string, config: Record<string, string>, opts: { ifNotExists?: boolean; initialState?: Target } = {}): Promise<{ created: boolean; record: ConnectorRecord }> {
    return this.#exclusive(async () => {
      validateName(name);
      const existing = this.#instances.get(name);
      if (existing) {
        if (opts.ifNotExists) return { created: false, record: existing.rec };
        throw new TributaryError('connector.exists', `Connector ${name} already exists`, { hint: 'DROP CONNECTOR it first, or use CREATE … IF NOT EXISTS' });
      }
      return this.#exclusiveless_create(name, config, opts.initialState);
    });
  }

  /** Replaces a connector's config (REST PUT /config); restarts it with the new config. */
  putConfig(name: string, config: Record<string, string>): Promise<{ created: boolean; record: ConnectorRecord }> {
    return this.#exclusive(async () => {
      const inst = this.#instances.get(name);
      if (!inst) return this.#exclusiveless_create(name, config);
      const v = await this.validate({ ...config, name });
      if (!v.plugin || v.problems.length) throw configError(`connector '${name}'`, v.problems);
      await this.#stopInstance(inst);
      inst.rec = { ...inst.rec, config: v.config };
      inst.plugin = v.plugin;
      registerSecrets(inst.rec.config, connectorSpec(v.plugin));
      await this.#o.configs.put(inst.rec);
      await this.#startInstance(inst);
      return { created: false, record: inst.rec };
    });
  }

  /** validates, stores and starts a new connector; callers hold the exclusive lock */
  async #exclusiveless_create(name: string, config: Record<string, string>, initialState: Target = 'RUNNING'): Promise<{ created: boolean; record: ConnectorRecord }> {
    validateName(name);
    const v = await this.validate({ ...config, name });
    if (!v.plugin || v.problems.length) throw configError(`connector '${name}'`, v.problems);
    const rec: ConnectorRecord = { name, config: v.config, targetState: initialState, createdAt: new Date().toISOString() };
    registerSecrets(rec.config, connectorSpec(v.plugin));
    await this.#o.configs.put(rec);
    const inst = new ConnectorInstance(rec, v.plugin);
    this.#instances.set(name, inst);
    await this.#startInstance(inst);
    return { created: true, record: rec };
  }

  delete(name: string, opts: { ifExists?: boolean } = {}): Promise<boolean> {
    return this.#exclusive(async () => {
      const inst = this.#instances.get(name);
      if (!inst) {
        if (opts.ifExists) return false;
        throw notFound(name);
      }
      await this.#stopInstance(inst);
      this.#instances.delete(name);
      await this.#o.configs.remove(name);
      try {
        const conn = inst.plugin.createConnector();
        if (conn.onDeleted) {
          const { values } = resolveConfig(connectorSpec(inst.plugin), inst.rec.config);
          await conn.start(values, this.#connectorContext(inst));
          await conn.onDeleted();
          await conn.stop();
        }
      } catch (err) {
        this.#o.logger.warn('cleanup after delete failed', { connector: name, error: String(err) });
      }
      return true;
    });
  }

  pause(name: string): Promise<void> {
    return this.#exclusive(async () => {
      const inst = this.#get(name);
      await this.#setTarget(inst, 'PAUSED');
      if (inst.state === 'STOPPED' || inst.tasks.length === 0) {
        await this.#startInstance(inst);
        return;
      }
      for (const t of inst.tasks) t.pause();
      if (inst.state !== 'FAILED') inst.state = 'PAUSED';
    });
  }

  resume(name: string): Promise<void> {
    return this.#exclusive(async () => {
      const inst = this.#get(name);
      await this.#setTarget(inst, 'RUNNING');
      if (inst.state === 'STOPPED' || inst.tasks.length === 0) {
        await this.#startInstance(inst);
        return;
      }
      for (const t of inst.tasks) t.resume();
      if (inst.state === 'PAUSED') inst.state = 'RUNNING';
    });
  }

  stop(name: string): Promise<void> {
    return this.#exclusive(async () => {
      const inst = this.#get(name);
      await this.#setTarget(inst, 'STOPPED');
      await this.#stopInstance(inst);
      inst.state = 'STOPPED';
    });
  }

  /** Restarts the connector (and with includeTasks its tasks; with onlyFailed only failed ones). */
  restart(name: string, opts: { includeTasks?: boolean; onlyFailed?: boolean } = {}): Promise<ConnectorStatus> {
    return this.#exclusive(async () => {
      const inst = this.#get(name);
      if (opts.onlyFailed && inst.state !== 'FAILED' && !inst.tasks.some((t) => t.state === 'FAILED')) return this.status(name);
      inst.state = 'RESTARTING';
      await this.#stopInstance(inst);
      await this.#startInstance(inst);
      return this.status(name);
    });
  }

  restartTask(name: string, taskId: number): Promise<void> {
    return this.#exclusive(async () => {
      const inst = this.#get(name);
      if (!inst.tasks[taskId]) throw new TributaryError('connector.not_found', `Task ${taskId} of connector ${name} not found`);
      await this.#stopInstance(inst);
      await this.#startInstance(inst);
    });
  }

  names(): string[] {
    return [...this.#instances.keys()].sort();
  }

  has(name: string): boolean {
    return this.#instances.has(name);
  }

  record(name: string): ConnectorRecord {
    return this.#get(name).rec;
  }

  pluginOf(name: string): SourcePlugin {
    return this.#get(name).plugin;
  }

  /** The config with secrets masked: what every output shows. */
  maskedConfig(name: string): Record<string, string> {
    const inst = this.#get(name);
    return maskConfig(inst.rec.config, connectorSpec(inst.plugin));
  }

  status(name: string): ConnectorStatus {
    const inst = this.#get(name);
    const connector: ConnectorStatus['connector'] = { state: inst.state, worker_id: this.workerId };
    if (inst.trace) connector.trace = inst.trace;
    return {
      name,
      connector,
      tasks: inst.tasks.map((t) => {
        const s: TaskStatus = { id: t.id, state: t.state, worker_id: this.workerId };
        if (t.trace) s.trace = t.trace;
        return s;
      }),
      type: 'source',
    };
  }

  /** live details for DESCRIBE and metrics: per-task counters, in-flight, source status (lag, snapshot progress) */
  details(name: string) {
    const inst = this.#get(name);
    return {
      connector: inst.connector?.status?.() ?? {},
      tasks: inst.tasks.map((t) => ({
        id: t.id,
        state: t.state,
        metrics: { ...t.metrics },
        inflightRecords: t.inflightRecords,
        inflightBytes: t.inflightBytes,
        lastError: t.lastError,
        source: t.sourceStatus() ?? {},
      })),
    };
  }

  topics(name: string): string[] {
    return [...this.#get(name).topics].sort();
  }

  resetTopics(name: string): void {
    this.#get(name).topics.clear();
  }

  async offsets(name: string): Promise<OffsetEntry[]> {
    this.#get(name);
    return this.#o.offsets.list(name);
  }

  /** KIP-875: alter (null offset resets a partition) or reset all; the connector must be STOPPED. */
  alterOffsets(name: string, entries: OffsetEntry[] | 'reset'): Promise<void> {
    return this.#exclusive(async () => {
      const inst = this.#get(name);
      if (inst.state !== 'STOPPED') {
        throw new TributaryError('connector.bad_state', `Connectors must be in the STOPPED state before their offsets can be modified. Connector ${name} is ${inst.state}`, {
          hint: `stop it first: STOP CONNECTOR ${name} (or PUT /connectors/${name}/stop)`,
        });
      }
      if (entries === 'reset') await this.#o.offsets.clear(name);
      else await this.#o.offsets.commit(name, entries);
    });
  }

  async shutdown(): Promise<void> {
    await this.#exclusive(async () => {
      await Promise.all([...this.#instances.values()].map((i) => this.#stopInstance(i)));
    });
  }

  #get(name: string): ConnectorInstance {
    const inst = this.#instances.get(name);
    if (!inst) throw notFound(name);
    return inst;
  }

  async #setTarget(inst: ConnectorInstance, t: Target): Promise<void> {
    if (inst.rec.targetState === t) return;
    inst.rec = { ...inst.rec, targetState: t };
    await this.#o.configs.put(inst.rec);
  }

  #connectorContext(inst: ConnectorInstance) {
    return {
      name: inst.rec.name,
      logger: this.#o.logger.child({ connector: inst.rec.name }),
      requestTaskReconfiguration: () => {
        void this.restart(inst.rec.name).catch(() => undefined);
      },
    };
  }

  async #startInstance(inst: ConnectorInstance): Promise<void> {
    const name = inst.rec.name;
    const target = inst.rec.targetState;
    inst.trace = undefined;
    if (target === 'STOPPED') {
      inst.state = 'STOPPED';
      return;
    }
    const log = this.#o.logger.child({ connector: name });
    try {
      const { values, problems } = resolveConfig(connectorSpec(inst.plugin), inst.rec.config);
      problems.push(...this.#exactlyOnceProblems(values));
      if (problems.length) throw configError(`connector '${name}'`, problems);
      registerSecrets(inst.rec.config, connectorSpec(inst.plugin));
      const conn = inst.plugin.createConnector();
      inst.connector = conn;
      await conn.start(values, this.#connectorContext(inst));
      const taskConfigs = await conn.taskConfigs(values['tasks.max'] as number);
      const transform = this.#o.plugins.buildTransforms(inst.rec.config);
      const limits: TaskLimits = {
        maxInflightRecords: values['max.inflight.records'] as number,
        maxInflightBytes: values['max.inflight.bytes'] as number,
        offsetFlushMs: values['offset.flush.interval.ms'] as number,
        shutdownTimeoutMs: this.#o.shutdownTimeoutMs ?? 10_000,
      };
      const topicSpec = topicCreationSpec(inst.rec.config);
      const platform = this.#platformFor(inst.rec.config);
      inst.platform = platform;
      inst.tasks = taskConfigs.map((tc, i) => {
        // task configs are the connector's resolved config plus what the connector assigned to the task
        const tv: ResolvedConfig = { ...values, ...tc };
        return new TaskRunner({
          connector: name,
          taskId: i,
          plugin: inst.plugin,
          config: tv,
          platform,
          transactional:
            values['exactly.once.support'] === 'required' && platform.transactional
              ? platform.transactional({ transactionalId: `${this.#o.groupId ?? 'tributary'}-${name}-${i}`, offsetsTopic: this.#o.offsetsTopic ?? 'tributary-offsets' })
              : undefined,
          offsets: this.#o.offsets,
          keyConverter: this.#converter(inst.rec.config, true),
          valueConverter: this.#converter(inst.rec.config, false),
          transform,
          tolerateErrors: values['errors.tolerance'] === 'all',
          topicSpec: () => topicSpec,
          limits,
          logger: log.child({ task: i }),
          onTopic: (t) => inst.topics.add(t),
          onStateChange: () => this.#rollUp(inst),
          onBatch: this.#o.onBatch ? (b) => this.#o.onBatch!(name, i, b) : undefined,
        });
      });
      inst.state = target === 'PAUSED' ? 'PAUSED' : 'RUNNING';
      for (const t of inst.tasks) t.start(target === 'PAUSED');
    } catch (err) {
      inst.state = 'FAILED';
      inst.trace = traceOf(err);
      log.error('connector failed to start', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  #rollUp(inst: ConnectorInstance): void {
    // connector state reflects the user's target; task states are reported per task (as Kafka Connect does)
    void inst;
  }

  async #stopInstance(inst: ConnectorInstance): Promise<void> {
    const tasks = inst.tasks;
    await Promise.all(tasks.map((t) => t.stop()));
    inst.tasks = [];
    try {
      await inst.connector?.stop();
    } catch (err) {
      this.#o.logger.warn('connector stop failed', { connector: inst.rec.name, error: String(err) });
    }
    inst.connector = null;
    const platform = inst.platform;
    inst.platform = null;
    if (platform && platform !== this.#o.platform) {
      await platform.close().catch((err) => this.#o.logger.warn('closing the connector platform failed', { connector: inst.rec.name, error: String(err) }));
    }
    if (inst.state !== 'FAILED') inst.state = 'UNASSIGNED';
  }
}

function notFound(name: string): TributaryError {
  return new TributaryError('connector.not_found', `Connector ${name} not found`, { hint: 'SHOW CONNECTORS lists the existing ones' });
}

function validateName(name: string): void {
  if (!name || name.length > 249 || /[\u0000-\u001f/\\]/.test(name)) {
    throw new TributaryError('config.invalid', `Invalid connector name '${name}'`, { key: 'name', hint: 'use letters, digits, _ - . (no slashes or control characters), at most 249 characters' });
  }
}

/** KIP-158 `topic.creation.default.*` → the spec used when a topic is created on first use. */
export function topicCreationSpec(config: Record<string, string>): TopicSpec {
  const spec: TopicSpec = {};
  const prefix = 'topic.creation.default.';
  for (const [k, v] of Object.entries(config)) {
    if (!k.startsWith(prefix)) continue;
    const sub = k.slice(prefix.length);
    if (sub === 'partitions') spec.partitions = Number(v);
    else if (sub === 'replication.factor') spec.replicationFactor = Number(v);
    else (spec.configs ??= {})[sub] = v;
  }
  return spec;
}

export type { SourceOffset, SourcePartition };
