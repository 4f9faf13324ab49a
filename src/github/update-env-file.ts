/**
 * Sets variables in a `.env` file, keeping its other lines. Values are
 * double-quoted with newlines as `\n`, the form `process.loadEnvFile` reads
 * (a PEM key or a secret holds no quote to escape).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export function updateEnvFile(file: string, values: Record<string, string>): void {
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
  const kept = lines.filter((line) => !Object.keys(values).some((name) => line.startsWith(`${name}=`)));
  while (kept.length > 0 && kept.at(-1) === '') kept.pop();
  for (const [name, value] of Object.entries(values)) kept.push(`${name}="${value.replace(/\n/g, '\\n')}"`);
  writeFileSync(file, `${kept.join('\n')}\n`, { mode: 0o600 });
}
