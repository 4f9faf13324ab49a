/**
 * `npm run try` as a newcomer runs it: from a checkout whose path has a
 * space in it, with the machine's own npm and a PATH of /usr/bin and /bin
 * alone (no /usr/sbin, where Debian puts sshd and HAProxy), and an empty
 * HOME. The story ends v1 → v2 with zero failed requests.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = new URL('../..', import.meta.url).pathname;

test('npm run try from a path with a space, with PATH=/usr/bin:/bin and an empty HOME, ends with v2 everywhere and zero failed requests', (t) => {
  const base = mkdtempSync(join(tmpdir(), 'sluice try '));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const checkout = join(base, 'my checkout');
  for (const path of ['package.json', 'bin', 'scripts', 'src', 'test/helpers', 'test/fixtures', 'schema', 'app.yml'])
    cpSync(join(ROOT, path), join(checkout, path), { recursive: true });
  // The dependencies as `npm ci` left them (Node 24 in node_modules/.bin among them).
  symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
  const home = join(base, 'home');
  mkdirSync(home);
  const result = spawnSync('/usr/bin/npm', ['run', 'try'], {
    cwd: checkout,
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin', HOME: home },
    timeout: 600_000,
  });
  const output = result.stdout + result.stderr;
  assert.equal(result.status, 0, output.slice(-3000));
  assert.match(output, /host1 serves production: v2, dev: v2\n/);
  assert.match(output, /host2 serves production: v2\n/);
  assert.match(output, /the monitor sent [1-9]\d* requests through HAProxy while v2 replaced v1: 0 failed\n/);
});
