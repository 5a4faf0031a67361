import { readFileSync } from 'node:fs';

/** Reads a Java-style .properties file (`key=value` or `key: value`, `#`/`!` comments, `\` line continuation). */
export function readProperties(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (!m) throw new Error(`${path}:${i + 1}: cannot parse '${line}' (expected key=value)`);
    out[m[1]!] = m[2]!;
  }
  return out;
}
