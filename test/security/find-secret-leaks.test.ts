/**
 * The leak finder the secret property test relies on finds a secret in the
 * unmasked output of the same print scripts, in each of its readings, so a
 * clean result there means the masking held, not that the finder is blind.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { findSecret, readAsAReader } from '../helpers/find-secret-leaks.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'secret-forms');
const SECRETS = { TOKEN_A: "k3y'%/\\*(é)!~x€-long-enough", TOKEN_B: 'short/é' };

test('the leak finder finds unmasked secrets in every reading, and nothing in ordinary output', () => {
  const env = { ...process.env, ...SECRETS };
  const printed =
    execFileSync(process.execPath, [join(FIXTURES, 'print-forms.js'), ...Object.keys(SECRETS)], {
      env,
      encoding: 'utf8',
    }) +
    execFileSync('bash', [join(FIXTURES, 'print-forms.sh'), ...Object.keys(SECRETS)], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const readings = readAsAReader(printed);
  const all = [...Object.keys(readings.texts), ...Object.keys(readings.bytes)];
  for (const secret of Object.values(SECRETS)) assert.deepEqual(findSecret(readings, secret), all, secret);
  // Each reading on its own: one form at a time.
  const forms: Record<string, string> = {
    'without line breaks and escapes': `${SECRETS.TOKEN_A.slice(0, 4)}\r\x1b[31m${SECRETS.TOKEN_A.slice(4)}`,
    unescaped: JSON.stringify(JSON.stringify(SECRETS.TOKEN_A)),
    'URL-decoded': encodeURIComponent(encodeURIComponent(SECRETS.TOKEN_A)),
    hex: execFileSync('hexdump', ['-C'], { input: `..${SECRETS.TOKEN_A}`, encoding: 'utf8' }).replace(/\|.*\|/g, ''),
    'hex in byte-swapped words': execFileSync('od', ['-x'], { input: `.${SECRETS.TOKEN_A}`, encoding: 'utf8' }),
    base64: Buffer.from(`.${SECRETS.TOKEN_A}`).toString('base64').replace(/.{20}/g, '$&\n'),
  };
  for (const [reading, form] of Object.entries(forms))
    assert.ok(findSecret(readAsAReader(form), SECRETS.TOKEN_A).includes(reading), `${reading}: ${form}`);
  assert.deepEqual(
    findSecret(
      readAsAReader(printed.replaceAll('k3y', 'abc').replaceAll('6b3379', '616263')),
      'nothing like it, 0123456789',
    ),
    [],
  );
});
