/**
 * The GitHub App's private key, from PRIVATE_KEY or PRIVATE_KEY_PATH, read
 * the way Probot reads it (its `@probot/get-private-key`), so a `.env`
 * written for a Probot app works unchanged: PRIVATE_KEY may be the PEM
 * itself, the PEM on one line with `\n` for its newlines or with none at all,
 * or the whole PEM in base64 (as hosts that refuse multi-line values need).
 * A key of neither PEM kind gets an error that says what to set.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const KINDS = [
  { begin: '-----BEGIN RSA PRIVATE KEY-----', end: '-----END RSA PRIVATE KEY-----' },
  { begin: '-----BEGIN PRIVATE KEY-----', end: '-----END PRIVATE KEY-----' },
];

export class PrivateKeyError extends Error {}

export function readPrivateKey(env: { PRIVATE_KEY?: string | undefined; PRIVATE_KEY_PATH?: string | undefined }, cwd = process.cwd()): string {
  if (env.PRIVATE_KEY) return fromVariable(env.PRIVATE_KEY);
  const path = resolve(cwd, env.PRIVATE_KEY_PATH ?? '');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PrivateKeyError(`PRIVATE_KEY_PATH names ${env.PRIVATE_KEY_PATH}, which cannot be read: ${(error as Error).message}.`);
  }
  if (!KINDS.some((k) => text.includes(k.begin) && text.includes(k.end))) {
    throw new PrivateKeyError(`PRIVATE_KEY_PATH names ${env.PRIVATE_KEY_PATH}, which is not a PEM private key: use the .pem file GitHub generated (it starts with "-----BEGIN RSA PRIVATE KEY-----").`);
  }
  return text.trim();
}

function fromVariable(value: string): string {
  let key = value;
  // Probot's test: the value is base64 when decoding and encoding again gives it back.
  if (Buffer.from(key, 'base64').toString('base64') === key) key = Buffer.from(key, 'base64').toString();
  key = key.replace(/\\n/g, '\n');
  const kind = KINDS.find((k) => key.includes(k.begin) && key.includes(k.end));
  if (!kind) {
    throw new PrivateKeyError(
      'PRIVATE_KEY must be the PEM file GitHub generated (it starts with "-----BEGIN RSA PRIVATE KEY-----"), on one line with \\n for its newlines, or the whole file in base64; or set PRIVATE_KEY_PATH to the file.',
    );
  }
  // On one line with spaces for its newlines: put them back, as Probot does.
  if (!key.includes('\n')) {
    const start = key.indexOf(kind.begin) + kind.begin.length;
    const body = key.slice(start, key.indexOf(kind.end)).trim().replace(/\s+/g, '\n');
    key = `${kind.begin}\n${body}\n${kind.end}`;
  }
  return key.trim();
}
