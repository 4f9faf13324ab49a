/**
 * A build on an SSH host (PRODUCT S1): a fresh workspace from the source,
 * the commands' output streamed live, the artifact packed, hashed and kept;
 * a granted secret reaches the commands and never the log or the database;
 * an artifact that does not compress and one that does both deploy.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
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
  // host1 builds, host2 is production.
  ssh = await startSshHosts(2);
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

for (const [kind, make, compresses] of [
  ['random bytes, which do not compress', 'head -c 3000000 /dev/urandom > dist/payload', false],
  ['text, which compresses', 'yes "a line of the app, again" | head -c 3000000 > dist/payload', true],
] as const) {
  test(`an artifact of ${kind} is built on the SSH host, kept as a tar.gz and deployed intact`, async () => {
    const [builder, host] = [ssh.hosts[0]!, ssh.hosts[1]!];
    checkout.write(
      '.github/sluice.yml',
      `stages:
  - name: build
    actions:
      - name: compile
        build:
          host: builder
          run:
            - mkdir -p dist
            - '${make}'
            - sha256sum dist/payload > dist/payload.sha256
          artifact: { name: app, paths: [dist] }
  - name: production
    actions:
      - name: ship
        deploy: { environment: production, artifact: app }
app:
  hooks:
    start: ['cd "$SLUICE_DEPLOY_PATH/current" && sha256sum -c dist/payload.sha256']
`,
    );
    checkout.commit(`an artifact of ${kind}`);
    const server = join(checkout.scratch, 'deploy-server.yml');
    writeFileSync(
      server,
      `ssh: { user: ${ssh.user}, key: ${ssh.keyPath}, known_hosts: ${ssh.knownHostsPath} }
hosts:
  builder: [{ name: ${builder.name}, address: 127.0.0.1, port: ${builder.port} }]
environments:
  production:
    hosts: [{ name: ${host.name}, address: 127.0.0.1, port: ${host.port} }]
    path: ${join(ssh.deployRoot, 'srv')}
    rolling: { batch: 1, min_healthy: 0 }
`,
    );
    const data = join(checkout.scratch, `data-${compresses ? 'text' : 'random'}`);
    const result = await runSluice(['run', '--server', server, '--data-dir', data], { cwd: checkout.dir });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(
      result.stdout.includes('artifact "app" does not compress'),
      !compresses,
      'only the random bytes are stored as they are',
    );
    const sha = /artifact app sha256:([0-9a-f]{64}) \((\d+) bytes\)/.exec(result.stdout);
    assert.ok(sha, result.stdout);
    const stored = join(data, 'artifacts', `${sha[1]}.tar.gz`);
    assert.equal(createHash('sha256').update(readFileSync(stored)).digest('hex'), sha[1]);
    // Either way a gzip file, whose payload is what the build made.
    execFileSync('tar', ['-xzOf', stored, 'dist/payload.sha256']);
    const size = Number(sha[2]);
    if (compresses) assert.ok(size < 1_000_000, `${size} bytes: the text was gzipped`);
    else assert.ok(size > 3_000_000 && size < 3_100_000, `${size} bytes: the random bytes were stored as they are`);
    // The start hook checked the payload on the host against the digest the build wrote.
    const current = join(host.root, 'srv', 'current');
    const listed = readFileSync(join(current, 'dist', 'payload.sha256'), 'utf8').split(' ')[0];
    assert.equal(
      createHash('sha256')
        .update(readFileSync(join(current, 'dist', 'payload')))
        .digest('hex'),
      listed,
    );
  });
}
