import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConfigKey, ConfigProblem, ConfigSpec } from '../sdk/config.js';
import { TributaryError } from '../sdk/errors.js';
import type { OffsetEntry } from '../sdk/state.js';
import { connectorSpec, type Worker } from '../runtime/worker.js';
import { commonConnectorSpec } from '../runtime/common-spec.js';
import { findSource } from '../runtime/plugins.js';
import { isSecretKey, MASK, redact } from '../runtime/secrets.js';
import { setLogLevel, getLogLevel } from '../runtime/logger.js';
import { listPlugins } from '../commands/index.js';
import { httpStatusOf } from './http.js';

/**
 * Kafka Connect's REST API (compatibility.md §3) over the worker. Each route parses the request, calls one Worker /
 * command-layer method and shapes the answer as Connect does; no management logic lives here. Every body goes
 * through `redact` and every config through `worker.maskedConfig`, so no response carries a secret.
 */

const MAX_BODY = 4 * 1024 * 1024;

/** An error with Connect's HTTP status and body `{"error_code": status, "message": …}`. */
export class RestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = redact(JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

/** Connect's error body for any error: RestError's status, else the TributaryError code's status. */
export function sendError(res: ServerResponse, err: unknown): void {
  let status: number;
  let message: string;
  if (err instanceof RestError) {
    status = err.status;
    message = err.message;
  } else if (err instanceof TributaryError) {
    status = httpStatusOf(err);
    message = err.message;
    if (err.code === 'config.invalid' && Array.isArray(err.details)) {
      message += '\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`';
    } else if (err.hint) {
      message += ` (${err.hint})`;
    }
  } else {
    status = 500;
    message = err instanceof Error ? err.message : String(err);
  }
  sendJson(res, status, { error_code: status, message });
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new RestError(413, 'Request body too large');
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RestError(400, `Request body is not valid JSON: ${(e as Error).message}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Connect configs are string maps; numbers and booleans are accepted and turned into strings. */
function stringMap(v: unknown, what: string, allowNull: boolean): Record<string, string | null> {
  if (!isObject(v)) throw new RestError(400, `${what} must be a JSON object of string values`);
  const out: Record<string, string | null> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'string') out[k] = x;
    else if (typeof x === 'number' || typeof x === 'boolean') out[k] = String(x);
    else if (x === null && allowNull) out[k] = null;
    else if (x === null) continue;
    else throw new RestError(400, `${what}: the value of '${k}' must be a string`);
  }
  return out;
}

function checkName(config: Record<string, unknown>, name: string): void {
  const inConfig = config.name;
  if (inConfig !== undefined && inConfig !== null && inConfig !== name) {
    throw new RestError(400, `Connector name configuration (${String(inConfig)}) doesn't match connector name in the URL (${name})`);
  }
}

/**
 * A masked secret sent back unchanged (GET the config, edit one key, PUT it back) keeps the stored secret rather
 * than becoming the literal mask.
 */
function keepMaskedSecrets(worker: Worker, name: string, config: Record<string, string>): Record<string, string> {
  if (!worker.has(name)) return config;
  const stored = worker.record(name).config;
  const spec = connectorSpec(worker.pluginOf(name));
  const out = { ...config };
  for (const [k, v] of Object.entries(out)) {
    if (v === MASK && isSecretKey(k, spec) && stored[k] !== undefined) out[k] = stored[k]!;
  }
  return out;
}

function connectorInfo(worker: Worker, name: string) {
  return {
    name,
    config: worker.maskedConfig(name),
    tasks: worker.status(name).tasks.map((t) => ({ connector: name, task: t.id })),
    type: 'source' as const,
  };
}

function flag(url: URL, key: string): boolean {
  return (url.searchParams.get(key) ?? '').toLowerCase() === 'true';
}

// ---- connector-plugins ----------------------------------------------------------------------------------------

function stringDefault(k: ConfigKey): string | null {
  if (k.default === undefined) return k.required === false ? null : '';
  if (k.default === null) return null;
  if (Array.isArray(k.default)) return k.default.join(',');
  return String(k.default);
}

function isRequired(k: ConfigKey): boolean {
  return k.required ?? k.default === undefined;
}

/** Connect's ConfigKeyInfo for one spec key. */
export function configKeyInfo(k: ConfigKey, order: number, fallbackGroup: string) {
  const group = k.group ?? fallbackGroup;
  return {
    name: k.name,
    type: k.type.toUpperCase(),
    required: isRequired(k),
    default_value: k.type === 'password' && k.default ? MASK : stringDefault(k),
    importance: (k.importance ?? 'medium').toUpperCase(),
    documentation: k.doc,
    group,
    order_in_group: order,
    width: 'NONE',
    display_name: k.name,
    dependents: [] as string[],
    order,
  };
}

function pluginFor(worker: Worker, type: string) {
  try {
    return findSource(worker.plugins, type);
  } catch {
    throw new RestError(404, `Unknown plugin ${type}.`);
  }
}

function specKeyInfos(spec: ConfigSpec, fallbackGroup: string) {
  const groupOrder = new Map<string, number>();
  return spec.keys.map((k, i) => {
    const g = k.group ?? fallbackGroup;
    const n = (groupOrder.get(g) ?? 0) + 1;
    groupOrder.set(g, n);
    const info = configKeyInfo(k, n, fallbackGroup);
    info.order = i + 1;
    return info;
  });
}

function problemText(p: ConfigProblem): string {
  // the same words CREATE uses (configError): message plus hint
  return `${p.message}${p.hint ? ` (${p.hint})` : ''}`;
}

/**
 * Connect's ConfigInfos for a config: one entry per key of the connector's spec (common keys and the plug-in's),
 * plus one per offending key the spec does not declare, each with the errors CREATE would report for it.
 */
export async function validateConfig(worker: Worker, pluginType: string, raw: Record<string, string>) {
  const config = { ...raw };
  if (!config['connector.class']) config['connector.class'] = pluginType;
  else {
    let a: string | null = null;
    let b: string | null = null;
    try {
      a = findSource(worker.plugins, config['connector.class']).className;
      b = findSource(worker.plugins, pluginType).className;
    } catch {
      /* reported below as a per-key error */
    }
    if (a && b && a !== b) throw new RestError(400, `Included connector type ${config['connector.class']} does not match request type ${pluginType}`);
  }
  const v = await worker.validate(config);
  const spec: ConfigSpec = v.plugin ? connectorSpec(v.plugin) : commonConnectorSpec;
  const pluginKeys = new Set(v.plugin?.spec.keys.map((k) => k.name) ?? []);
  const canonical = new Map<string, string>();
  for (const k of spec.keys) {
    canonical.set(k.name, k.name);
    for (const a of k.aliases ?? []) canonical.set(a, k.name);
  }
  const errors = new Map<string, string[]>();
  for (const p of v.problems) {
    const key = canonical.get(p.key) ?? p.key;
    const list = errors.get(key) ?? [];
    list.push(problemText(p));
    errors.set(key, list);
  }
  const given = (name: string, k?: ConfigKey): string | undefined => {
    if (config[name] !== undefined) return config[name];
    for (const a of k?.aliases ?? []) if (config[a] !== undefined) return config[a];
    return undefined;
  };
  const configs: Array<{ definition: ReturnType<typeof configKeyInfo>; value: { name: string; value: string | null; recommended_values: string[]; errors: string[]; visible: boolean } }> = [];
  const groupOrder = new Map<string, number>();
  spec.keys.forEach((k, i) => {
    const fallback = pluginKeys.has(k.name) ? 'Connector' : 'Common';
    const g = k.group ?? fallback;
    const n = (groupOrder.get(g) ?? 0) + 1;
    groupOrder.set(g, n);
    const definition = configKeyInfo(k, n, fallback);
    definition.order = i + 1;
    const g0 = given(k.name, k);
    const value = g0 !== undefined ? (isSecretKey(k.name, spec) ? MASK : g0) : definition.default_value === '' && definition.required ? null : definition.default_value;
    configs.push({
      definition,
      value: { name: k.name, value, recommended_values: k.oneOf ? [...k.oneOf] : [], errors: errors.get(k.name) ?? [], visible: true },
    });
    errors.delete(k.name);
  });
  let order = spec.keys.length;
  for (const [key, errs] of errors) {
    const definition = configKeyInfo({ name: key, type: 'string', doc: '', required: false, importance: 'low', group: 'Other' }, 0, 'Other');
    definition.order = ++order;
    const gv = config[key];
    configs.push({
      definition,
      value: { name: key, value: gv === undefined ? null : isSecretKey(key, spec) ? MASK : gv, recommended_values: [], errors: errs, visible: true },
    });
  }
  const groups = [...new Set(configs.map((c) => c.definition.group))];
  return {
    name: v.plugin?.className ?? pluginType,
    error_count: configs.reduce((n, c) => n + c.value.errors.length, 0),
    groups,
    configs,
  };
}

// ---- admin/loggers ----------------------------------------------------------------------------------------------

const LEVELS: Record<string, 'debug' | 'info' | 'warn' | 'error'> = { TRACE: 'debug', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error', FATAL: 'error', OFF: 'error' };
const loggerState = { level: null as string | null, lastModified: null as number | null };

function loggerInfo() {
  // the level set through this API (TRACE/FATAL/OFF kept as given), else the process-wide level in effect
  return { level: loggerState.level ?? getLogLevel().toUpperCase(), last_modified: loggerState.lastModified };
}

// ---- router -----------------------------------------------------------------------------------------------------

type Handler = (ctx: { worker: Worker; req: IncomingMessage; res: ServerResponse; url: URL; params: string[] }) => Promise<void> | void;
interface Route {
  pattern: RegExp;
  methods: Record<string, Handler>;
}

const routes: Route[] = [];
function route(path: string, methods: Record<string, Handler>): void {
  // `{x}` matches one path segment
  const pattern = new RegExp('^' + path.replace(/\{[a-z]+\}/gi, '([^/]+)') + '/?$');
  routes.push({ pattern, methods });
}

route('/connectors', {
  GET: ({ worker, res, url }) => {
    const expand = new Set(url.searchParams.getAll('expand').flatMap((e) => e.split(',')).map((e) => e.trim()));
    const names = worker.names();
    if (!expand.has('status') && !expand.has('info')) return sendJson(res, 200, names);
    const out: Record<string, { status?: unknown; info?: unknown }> = {};
    for (const n of names) {
      const e: { status?: unknown; info?: unknown } = {};
      if (expand.has('status')) e.status = worker.status(n);
      if (expand.has('info')) e.info = connectorInfo(worker, n);
      out[n] = e;
    }
    sendJson(res, 200, out);
  },
  POST: async ({ worker, req, res }) => {
    const body = await readBody(req);
    if (!isObject(body)) throw new RestError(400, 'Request body must be a JSON object: {"name": …, "config": {…}}');
    const config = stringMap(body.config ?? {}, 'config', false) as Record<string, string>;
    const name = typeof body.name === 'string' ? body.name : config.name;
    if (!name) throw new RestError(400, 'Connector name must be specified');
    checkName(config, name);
    let initialState: 'RUNNING' | 'PAUSED' | 'STOPPED' | undefined;
    if (body.initial_state !== undefined && body.initial_state !== null) {
      const s = String(body.initial_state).toUpperCase();
      if (s !== 'RUNNING' && s !== 'PAUSED' && s !== 'STOPPED') throw new RestError(400, `Invalid initial_state '${String(body.initial_state)}': one of RUNNING, PAUSED, STOPPED`);
      initialState = s;
    }
    await worker.create(name, config, { initialState });
    sendJson(res, 201, connectorInfo(worker, name), { location: `/connectors/${encodeURIComponent(name)}` });
  },
});

route('/connectors/{name}', {
  GET: ({ worker, res, params }) => sendJson(res, 200, connectorInfo(worker, params[0]!)),
  DELETE: async ({ worker, res, params }) => {
    await worker.delete(params[0]!);
    sendJson(res, 204, undefined);
  },
});

route('/connectors/{name}/config', {
  GET: ({ worker, res, params }) => sendJson(res, 200, worker.maskedConfig(params[0]!)),
  PUT: async ({ worker, req, res, params }) => {
    const name = params[0]!;
    const config = stringMap(await readBody(req), 'config', false) as Record<string, string>;
    checkName(config, name);
    const { created } = await worker.putConfig(name, keepMaskedSecrets(worker, name, config));
    sendJson(res, created ? 201 : 200, connectorInfo(worker, name), created ? { location: `/connectors/${encodeURIComponent(name)}` } : {});
  },
  PATCH: async ({ worker, req, res, params }) => {
    const name = params[0]!;
    const patch = stringMap(await readBody(req), 'config patch', true);
    checkName(patch, name);
    const merged: Record<string, string> = { ...worker.record(name).config };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete merged[k];
      else merged[k] = v;
    }
    await worker.putConfig(name, keepMaskedSecrets(worker, name, merged));
    sendJson(res, 200, connectorInfo(worker, name));
  },
});

route('/connectors/{name}/status', { GET: ({ worker, res, params }) => sendJson(res, 200, worker.status(params[0]!)) });

route('/connectors/{name}/tasks', {
  GET: ({ worker, res, params }) => {
    const name = params[0]!;
    const config = { ...worker.maskedConfig(name), 'task.class': worker.pluginOf(name).className };
    sendJson(res, 200, worker.status(name).tasks.map((t) => ({ id: { connector: name, task: t.id }, config })));
  },
});

route('/connectors/{name}/tasks/{id}/status', {
  GET: ({ worker, res, params }) => {
    const [name, id] = params as [string, string];
    const t = worker.status(name).tasks.find((x) => String(x.id) === id);
    if (!t) throw new RestError(404, `No status found for task ${name}-${id}`);
    sendJson(res, 200, t);
  },
});

route('/connectors/{name}/tasks/{id}/restart', {
  POST: async ({ worker, res, params }) => {
    const [name, id] = params as [string, string];
    if (!/^\d+$/.test(id)) throw new RestError(404, `Task ${name}-${id} not found`);
    await worker.restartTask(name, Number(id));
    sendJson(res, 204, undefined);
  },
});

for (const action of ['pause', 'resume', 'stop'] as const) {
  route(`/connectors/{name}/${action}`, {
    PUT: async ({ worker, res, params }) => {
      await worker[action](params[0]!);
      sendJson(res, 202, undefined);
    },
  });
}

route('/connectors/{name}/restart', {
  POST: async ({ worker, res, url, params }) => {
    const includeTasks = flag(url, 'includeTasks');
    const onlyFailed = flag(url, 'onlyFailed');
    const status = await worker.restart(params[0]!, { includeTasks, onlyFailed });
    if (includeTasks || onlyFailed) sendJson(res, 202, status);
    else sendJson(res, 204, undefined);
  },
});

route('/connectors/{name}/topics', {
  GET: ({ worker, res, params }) => sendJson(res, 200, { [params[0]!]: { topics: worker.topics(params[0]!) } }),
});

route('/connectors/{name}/topics/reset', {
  PUT: ({ worker, res, params }) => {
    worker.resetTopics(params[0]!);
    sendJson(res, 202, undefined);
  },
});

/** KIP-875 answers 400 (not 409) when the connector is not STOPPED. */
async function offsetsChange(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof TributaryError && err.code === 'connector.bad_state') {
      throw new RestError(400, `${err.message}. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint`);
    }
    throw err;
  }
}

route('/connectors/{name}/offsets', {
  GET: async ({ worker, res, params }) => {
    const entries = await worker.offsets(params[0]!);
    sendJson(res, 200, { offsets: entries.map((e) => ({ partition: e.partition, offset: e.offset })) });
  },
  PATCH: async ({ worker, req, res, params }) => {
    const name = params[0]!;
    worker.record(name); // 404 before parsing
    const body = await readBody(req);
    if (!isObject(body) || !Array.isArray(body.offsets)) throw new RestError(400, 'Request body must be {"offsets": [{"partition": {…}, "offset": {…} | null}]}');
    if (body.offsets.length === 0) throw new RestError(400, 'The offsets to be altered cannot be empty');
    const entries: OffsetEntry[] = body.offsets.map((o: unknown, i: number) => {
      if (!isObject(o) || !isObject(o.partition)) throw new RestError(400, `offsets[${i}]: a source partition (a JSON object) is required`);
      if (o.offset !== null && o.offset !== undefined && !isObject(o.offset)) throw new RestError(400, `offsets[${i}]: the offset must be a JSON object or null`);
      return { partition: o.partition, offset: (o.offset ?? null) as OffsetEntry['offset'] } as OffsetEntry;
    });
    await offsetsChange(() => worker.alterOffsets(name, entries));
    sendJson(res, 200, { message: 'The offsets for this connector have been altered successfully' });
  },
  DELETE: async ({ worker, res, params }) => {
    await offsetsChange(() => worker.alterOffsets(params[0]!, 'reset'));
    sendJson(res, 200, { message: 'The offsets for this connector have been reset successfully' });
  },
});

route('/connector-plugins', {
  GET: ({ worker, res }) => sendJson(res, 200, listPlugins(worker).map((p) => ({ class: p.className, type: p.type, version: p.version }))),
});

route('/connector-plugins/{type}/config', {
  GET: ({ worker, res, params }) => {
    const plugin = pluginFor(worker, params[0]!);
    sendJson(res, 200, specKeyInfos(plugin.spec, 'Connector'));
  },
});

route('/connector-plugins/{type}/config/validate', {
  PUT: async ({ worker, req, res, params }) => {
    const config = stringMap((await readBody(req)) ?? {}, 'config', false) as Record<string, string>;
    sendJson(res, 200, await validateConfig(worker, params[0]!, config));
  },
});

route('/admin/loggers', { GET: ({ res }) => sendJson(res, 200, { root: loggerInfo() }) });

route('/admin/loggers/{name}', {
  GET: ({ res, params }) => {
    if (params[0] !== 'root') throw new RestError(404, `Logger ${params[0]} not found. Tributary has one process-wide logger: root`);
    sendJson(res, 200, loggerInfo());
  },
  PUT: async ({ req, res, url }) => {
    const body = await readBody(req);
    const level = isObject(body) && typeof body.level === 'string' ? body.level.toUpperCase() : '';
    const mapped = LEVELS[level];
    if (!mapped) throw new RestError(400, `Invalid log level '${isObject(body) ? String(body.level) : ''}': one of ${Object.keys(LEVELS).join(', ')}`);
    setLogLevel(mapped);
    loggerState.level = level;
    loggerState.lastModified = Date.now();
    // every logger name maps onto the process-wide level
    if ((url.searchParams.get('scope') ?? '').toLowerCase() === 'cluster') return sendJson(res, 204, undefined);
    sendJson(res, 200, ['root']);
  },
});

/**
 * Handles a request when it is one of the Kafka Connect REST routes; returns false otherwise (the caller answers
 * 404). Errors are answered here in Connect's shape.
 */
export async function handleRest(worker: Worker, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const path = url.pathname;
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    let params: string[];
    try {
      params = m.slice(1).map((s) => decodeURIComponent(s));
    } catch {
      sendJson(res, 400, { error_code: 400, message: 'Malformed URL encoding' });
      return true;
    }
    const h = r.methods[req.method ?? 'GET'];
    try {
      if (!h) throw new RestError(405, 'HTTP 405 Method Not Allowed');
      await h({ worker, req, res, url, params });
    } catch (err) {
      if (res.headersSent) res.end();
      else sendError(res, err);
    }
    return true;
  }
  return false;
}
