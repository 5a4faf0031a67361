import type { ConfigSpec } from '../sdk/config.js';
import { secretKeys } from './config.js';

export const MASK = '[hidden]';

const SECRET_NAME = /(password|passwd|secret|token|jaas\.config|credentials?|api\.key|private\.key)$/i;

/** Is this config key secret? Spec-declared password keys, plus any key named like a secret. */
export function isSecretKey(key: string, spec?: ConfigSpec): boolean {
  if (spec && secretKeys(spec).has(key)) return true;
  return SECRET_NAME.test(key);
}

/** Removes passwords from URLs: `user:pass@` user-info and `password=` / `pass=` query parameters. */
export function maskUrl(text: string): string {
  return text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)([^@\s/]+)(@)/gi, `$1${MASK}$3`)
    .replace(/([?&;](?:password|pass|pwd|sslpassword)=)([^&;\s'"]*)/gi, `$1${MASK}`);
}

/** A copy of a connector config with every secret masked (secret keys, and secrets inside URL values). */
export function maskConfig(config: Record<string, string>, spec?: ConfigSpec): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) {
    out[k] = isSecretKey(k, spec) ? MASK : typeof v === 'string' ? maskUrl(v) : v;
  }
  return out;
}

/**
 * Process-wide registry of secret values so that logs, error traces and responses never show them, even when a
 * library puts one in a message. A value is masked where it stands as a whole token (not inside a longer word:
 * a password `postgres` does not mangle a topic `postgres_cities`). Values shorter than 4 characters are not
 * registered (they would mask too much); configs are masked structurally anyway (maskConfig).
 */
const knownSecrets = new Map<string, RegExp>();

function tokenPattern(secret: string): RegExp {
  const esc = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![A-Za-z0-9_])${esc}(?![A-Za-z0-9_])`, 'g');
}

export function registerSecrets(config: Record<string, unknown>, spec?: ConfigSpec): void {
  for (const [k, v] of Object.entries(config)) {
    if (typeof v === 'string' && v.length >= 4 && isSecretKey(k, spec) && v !== MASK && !knownSecrets.has(v)) knownSecrets.set(v, tokenPattern(v));
  }
}

export function redact(text: string): string {
  let out = maskUrl(text);
  for (const [s, re] of knownSecrets) if (out.includes(s)) out = out.replace(re, MASK);
  return out;
}
