/**
 * A build on an SSH host (PRODUCT S1): a fresh workspace from the source,
 * the commands' output streamed live, the artifact packed, hashed and kept;
 * a granted secret reaches the commands and never the log or the database.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runSluice } from '../helpers/run-sluice.ts';
import { startSshHosts, type SshHosts } from '../helpers/ssh-hosts.ts';
import { makeCheckout, type TempCheckout } from '../helpers/temp-checkout.ts';

const secret = 'canary-9f8e7d6c5b4a';
let ssh: SshHosts;
let checkout: TempCheckout;

before(async () => {
  ssh = await startSshHosts(1);
  checkout = makeCheckout({ 'src/main.txt': 'hello\n' });
  // Written here, not a fixture: its build commands, which print the secret and look for it, are what these tests are
  // about.
  checkout.write(
    '.github/sluice.yml',
    `stages:
  - name: build
    actions:
      - name: compile
        build:
          host: builder
          secrets: [TOKEN]
          run:
            - ls -A
            - mkdir dist && tr a-z A-Z < src/main.txt > dist/main.txt
            - 'echo "token=$TOKEN"; printf %s "$TOKEN" | base64; echo "host=$(hostname)"'
            # The pattern "…4[a]" matches the secret but not this grep's own command line.
            - 'ps -eww -o args | grep -c -- "\${TOKEN%?}[\${TOKEN: -1}]" || true'
          artifact: { name: app, paths: [dist] }
`,
  );
  const host = ssh.hosts[0]!;
  writeFileSync(
    join(checkout.scratch, 'server.yml'),
    `ssh: { user: ${ssh.user}, key: ${ssh.keyPath}, known_hosts: ${ssh.knownHostsPath} }
hosts:
  builder: [{ name: ${host.name}, address: 127.0.0.1, port: ${host.port} }]
secrets:
  TOKEN: { env: SLUICE_TEST_TOKEN, repos: ["*"] }
`,
  );
  checkout.commit('pipeline');
});

after(async () => {
  await ssh?.stop();
  checkout?.remove();
});

test('builds on the SSH host from the commit, keeps the artifact by sha256, and masks the secret everywhere', async () => {
  const data = join(checkout.scratch, 'data');
  const result = await runSluice(['run', '--server', join(checkout.scratch, 'server.yml'), '--data-dir', data], {
    cwd: checkout.dir,
    env: { SLUICE_TEST_TOKEN: secret },
  });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /build\/compile │ on host1 \(127\.0\.0\.1\)/);
  // A fresh workspace holding the committed source and nothing else.
  assert.match(result.stdout, /build\/compile │ \.github\n.*build\/compile │ src\n/);
  assert.match(result.stdout, /build\/compile │ token=\*\*\*/);
  assert.match(result.stdout, /build\/compile │ \*\*\*\n/, 'the base64 form is masked too');
  assert.match(result.stdout, /build\/compile │ 0\n/, 'the secret is on no command line on the host');
  assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret));
  assert.ok(!result.stdout.includes(Buffer.from(secret).toString('base64')));

  const sha = /artifact app sha256:([0-9a-f]{64})/.exec(result.stdout)?.[1];
  assert.ok(sha);
  const stored = readFileSync(join(data, 'artifacts', `${sha}.tar.gz`));
  assert.equal(createHash('sha256').update(stored).digest('hex'), sha);

  for (const file of readdirSync(data).filter((f) => /\.(db|sqlite|wal)$|-wal$/.test(f) || f.startsWith('sluice'))) {
    const bytes = readFileSync(join(data, file));
    assert.ok(!bytes.includes(secret), `${file} holds the secret`);
  }
});

test('a secret read from a variable that is not set fails the build with what to set, not as a fault of Sluice', async () => {
  const data = join(checkout.scratch, 'data-unset');
  // SLUICE_TEST_TOKEN is not given to this run.
  const result = await runSluice(['run', '--server', join(checkout.scratch, 'server.yml'), '--data-dir', data], {
    cwd: checkout.dir,
  });
  assert.equal(result.code, 1, result.stdout + result.stderr);
  const why =
    'secret "TOKEN" reads environment variable SLUICE_TEST_TOKEN, which is not set: set it in the environment Sluice runs in (the service\'s environment file, or the shell that runs `sluice`)';
  assert.ok(result.stdout.includes(`build/compile │ ✗ ${why}\n`), result.stdout);
  assert.ok(
    result.stdout.includes(`build/compile failed in`) && result.stdout.endsWith(`action "compile" failed: ${why}\n`),
  );
  assert.doesNotMatch(result.stdout + result.stderr, /Sluice failed to run it|failed unexpectedly|Sluice error/);
  assert.doesNotMatch(result.stdout, /on host1/, 'no host was reached for it');
});
