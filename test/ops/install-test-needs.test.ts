/**
 * `npm test` on a fresh machine first finds what the tests need. Run by
 * someone who is not root, it changes nothing and says in one line what to do.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const script = join(import.meta.dirname, '..', '..', 'scripts', 'install-test-needs.sh');

test('as root with everything installed it says nothing and lets the tests run', () => {
  const run = spawnSync('bash', [script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout + run.stderr, '');
});

test('as another user it installs nothing and says in one line to run the tests as root', () => {
  const run = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', script], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 1);
  assert.equal(run.stdout, '');
  assert.equal(
    run.stderr,
    "The tests need root (each test host is an sshd in a mount namespace of its own): run 'sudo npm test'.\n",
  );
});
