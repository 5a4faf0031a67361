/**
 * Spec-first configuration. Each plug-in declares one ConfigSpec; from it come validation, defaults, the
 * generated docs, REST `config/validate` answers and error messages (unknown key → nearest known key).
 */
export type ConfigType = 'string' | 'int' | 'long' | 'double' | 'boolean' | 'list' | 'password' | 'class';

export interface ConfigKey {
  name: string;
  type: ConfigType;
  doc: string;
  /** undefined → required (unless `required: false`) */
  default?: unknown;
  required?: boolean;
  importance?: 'high' | 'medium' | 'low';
  group?: string;
  /** other accepted names (legacy keys, other tools' names) */
  aliases?: string[];
  /** allowed values (case-insensitive for strings) */
  oneOf?: readonly string[];
  min?: number;
  max?: number;
  /** extra check; return an error message or undefined */
  validate?: (value: unknown, all: ResolvedConfig) => string | undefined;
  /** secret: masked in every output */
  secret?: boolean;
}

export interface ConfigSpec {
  /** name of the plug-in, for messages */
  name: string;
  keys: ConfigKey[];
  /**
   * Prefixes whose keys pass through unchecked (e.g. `connection.` for driver properties, `transforms.`).
   * Keys below these prefixes are not reported as unknown.
   */
  passthroughPrefixes?: string[];
  /** whole-config checks run after per-key validation (cross-key rules); return [key, message] pairs */
  check?: (cfg: ResolvedConfig) => Array<[string, string]>;
}

export type ResolvedConfig = Record<string, unknown>;

export interface ConfigProblem {
  key: string;
  message: string;
  hint?: string;
}

export interface ConfigResult {
  /** typed values for every declared key (defaults filled in), plus passthrough keys as given */
  values: ResolvedConfig;
  problems: ConfigProblem[];
}
