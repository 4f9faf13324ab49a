/**
 * The GitHub App's private key, from PRIVATE_KEY or PRIVATE_KEY_PATH, read
 * the way Probot reads it (its `@probot/get-private-key`), so a `.env`
 * written for a Probot app works unchanged: PRIVATE_KEY may be the PEM
 * itself, the PEM on one line with `\n` for its newlines or with none at all,
 * or the whole PEM in base64 (as hosts that refuse multi-line values need).
 * A key of neither PEM kind gets an error that says what to set.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SluiceError, errorMessage } from '../sluice-error.ts';

/**
 * A PEM private key's markers: PKCS#1 (`RSA PRIVATE KEY`, what GitHub
 * generates), PKCS#8 (`PRIVATE KEY`), and the kinds a GitHub App cannot use
 * (EC, encrypted), so those are named for what they are rather than called
 * "not a key".
 */
const PEM_KEY = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----/;

function findKind(text: string): { begin: string; end: string } | undefined {
  const label = PEM_KEY.exec(text)?.[1];
  if (!label || !text.includes(`-----END ${label}-----`)) return undefined;
  return { begin: `-----BEGIN ${label}-----`, end: `-----END ${label}-----` };
}

export class PrivateKeyError extends SluiceError<'INVALID_PRIVATE_KEY'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_PRIVATE_KEY', message, options);
  }
}

export function readPrivateKey(
  env: { PRIVATE_KEY?: string | undefined; PRIVATE_KEY_PATH?: string | undefined },
  cwd = process.cwd(),
): string {
  const key = env.PRIVATE_KEY ? fromVariable(env.PRIVATE_KEY) : fromFile(env, cwd);
  // Markers around garbage would pass the checks above and fail only at the first call to GitHub.
  let type: string | undefined;
  try {
    type = createPrivateKey(key).asymmetricKeyType;
  } catch (error) {
    throw new PrivateKeyError(
      `${env.PRIVATE_KEY ? 'PRIVATE_KEY' : `PRIVATE_KEY_PATH (${env.PRIVATE_KEY_PATH})`} holds no RSA private key that can be read (${errorMessage(error)}): generate a new private key on the GitHub App's settings page and use its .pem file as it is.`,
    );
  }
  if (type !== 'rsa') {
    throw new PrivateKeyError(
      `${env.PRIVATE_KEY ? 'PRIVATE_KEY' : `PRIVATE_KEY_PATH (${env.PRIVATE_KEY_PATH})`} holds a ${type ?? 'non-RSA'} key; a GitHub App signs with RSA: use the .pem file GitHub generated for the app.`,
    );
  }
  return key;
}

function fromFile(env: { PRIVATE_KEY_PATH?: string | undefined }, cwd: string): string {
  const path = resolve(cwd, env.PRIVATE_KEY_PATH ?? '');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PrivateKeyError(
      `PRIVATE_KEY_PATH names ${env.PRIVATE_KEY_PATH}, which cannot be read: ${errorMessage(error)}.`,
    );
  }
  if (!findKind(text)) {
    throw new PrivateKeyError(
      `PRIVATE_KEY_PATH names ${env.PRIVATE_KEY_PATH}, which is not a PEM private key: use the .pem file GitHub generated (it starts with "-----BEGIN RSA PRIVATE KEY-----").`,
    );
  }
  return text.replace(/\r\n/g, '\n').trim();
}

function fromVariable(value: string): string {
  // A Docker --env-file, or a unit's Environment= written by hand, keeps quotes a shell would have taken off.
  if (/^\s*(["'])[\s\S]*\1\s*$/.test(value) && value.trim().length > 1) {
    throw new PrivateKeyError(
      'PRIVATE_KEY is wrapped in quotes, which became part of its value: remove the quotes around it (only a shell or a .env file takes them off), or set PRIVATE_KEY_PATH to the .pem file.',
    );
  }
  let key = value.replace(/\r\n/g, '\n');
  // Probot's test: the value is base64 when decoding and encoding again gives it back. `base64`
  // wraps its output at 76 columns and files end in a newline, so whitespace is left out first.
  const compact = key.replace(/\s+/g, '');
  if (compact && Buffer.from(compact, 'base64').toString('base64') === compact)
    key = Buffer.from(compact, 'base64').toString().replace(/\r\n/g, '\n');
  key = key.replace(/\\n/g, '\n');
  const kind = findKind(key);
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
