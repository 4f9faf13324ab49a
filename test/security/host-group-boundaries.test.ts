/**
 * A hostile repository tries to reach what its operator did not give it
 * through a host group: an environment's hosts (skipping that environment's
 * repos and approval), and the Sluice machine. Each push is refused with a
 * failed "Sluice: pipeline" check run that says why at the line, and no
 * execution starts; the same rule holds when an action starts, for a
 * pipeline already accepted before the operator took the grant back.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { startGithubSluice, type GithubSluice } from '../helpers/github-sluice.ts';
import { pushPayload, sha } from '../helpers/github-webhooks.ts';
import { runSluice } from '../helpers/run-sluice.ts';
import { makeCheckout, type TempCheckout } from '../helpers/temp-checkout.ts';

let app: GithubSluice | undefined;
let checkout: TempCheckout | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
  checkout?.remove();
  checkout = undefined;
});

const EVIL = 'evil/tool';

const serverConfig = (
  dir: string,
) => `ssh: { user: deploy, key: ${join(dir, 'key')}, known_hosts: ${join(dir, 'known_hosts')} }
hosts:
  web: [{ name: web1, address: 10.0.1.11 }]
  builder: [local]
local:
  repos: [acme/shop]
environments:
  production:
    hosts: web
    path: /srv/app
    repos: [acme/shop]
`;

const pipeline = (host: string, marker: string) => `stages:
  - name: build
    actions:
      - name: steal
        command:
          host: ${host}
          run: ["touch ${marker}"]
`;

interface Annotation {
  path: string;
  start_line: number;
  start_column: number;
  message: string;
}

async function pushAs(
  repo: string,
  files: Record<string, string>,
): Promise<{ conclusion: unknown; annotations: Annotation[] }> {
  app!.github.install(repo);
  app!.github.addCommit(repo, sha(1), files);
  await app!.send('push', pushPayload({ repo, after: sha(1) }));
  await app!.sluice.idle();
  const created = app!.github.writes().filter((c) => c.method === 'POST' && c.path === `/repos/${repo}/check-runs`);
  assert.deepEqual(
    created.map((c) => c.body?.name),
    ['Sluice: pipeline'],
  );
  const body = created[0]!.body!;
  return { conclusion: body.conclusion, annotations: (body.output as { annotations: Annotation[] }).annotations };
}

describe('host groups hold against a hostile repository', () => {
  test("a command on an environment's host group is refused at its line, and nothing starts", async () => {
    app = await startGithubSluice({ serverConfig });
    const marker = join(app.dir, 'stolen');
    const check = await pushAs(EVIL, { '.github/sluice.yml': pipeline('web', marker) });
    assert.equal(check.conclusion, 'failure');
    assert.deepEqual(
      check.annotations.map((a) => [a.path, a.start_line, a.start_column]),
      [['.github/sluice.yml', 6, 17]],
    );
    assert.equal(
      check.annotations[0]!.message,
      'host group "web" holds web1 of environment "production", which takes only deploys (gated by its repos and approval rules); evil/tool may run build and command actions there only if the operator adds it to environments.production.allow_commands_from',
    );
    assert.deepEqual(await app.sluice.store.listExecutions(), []);
  });

  test('a command on the Sluice machine by a repository local.repos does not name is refused, and nothing runs', async () => {
    app = await startGithubSluice({ serverConfig });
    const marker = join(app.dir, 'stolen');
    const check = await pushAs(EVIL, { '.github/sluice.yml': pipeline('builder', marker) });
    assert.equal(check.conclusion, 'failure');
    assert.match(
      check.annotations[0]!.message,
      /host group "builder" holds local, the Sluice machine, which keeps Sluice's keys; evil\/tool may run there only if the operator adds it to local\.repos/,
    );
    assert.deepEqual(await app.sluice.store.listExecutions(), []);
    assert.equal(existsSync(marker), false);
  });

  test('the rule holds when an action starts: a retry after the operator took the grant back fails and runs nothing', async () => {
    checkout = makeCheckout({ VERSION: '1\n' });
    const marker = join(checkout.scratch, 'ran');
    checkout.write(
      '.github/sluice.yml',
      `stages:\n  - name: build\n    actions:\n      - name: a\n        command: { host: builder, run: ["test -f ${join(checkout.scratch, 'go')}", "touch ${marker}"] }\n`,
    );
    const granted = join(checkout.scratch, 'granted.yml');
    const revoked = join(checkout.scratch, 'revoked.yml');
    checkout.write('../scratch/granted.yml', 'hosts:\n  builder: [local]\nlocal:\n  repos: [acme/shop]\n');
    checkout.write('../scratch/revoked.yml', 'hosts:\n  builder: [local]\n');
    checkout.commit('pipeline');
    const sluice = (...args: string[]) =>
      runSluice([...args, '--data-dir', join(checkout!.scratch, 'data')], { cwd: checkout!.dir });

    const first = await sluice('run', '--server', granted, '--repo', 'acme/shop');
    assert.equal(first.code, 1, first.stdout + first.stderr);
    checkout.write('../scratch/go', '');
    const retried = await sluice('retry', '1', 'build', '--server', revoked);
    assert.equal(retried.code, 1, retried.stdout + retried.stderr);
    assert.match(
      retried.stdout + retried.stderr,
      /host group "builder" holds local, the Sluice machine, which keeps Sluice's keys; acme\/shop may run there only if the operator adds it to local\.repos/,
    );
    assert.equal(existsSync(marker), false);
  });

  test("an environment's host written another way (case, trailing dot, ::ffff:, octal, user@, :22) is still its host", async () => {
    const spellings = [
      'WEB1.example.com.',
      'root@web1.example.com:22',
      '"[::ffff:10.0.1.11]"',
      '012.0.1.11',
      '{ name: other, address: "::FFFF:a00:10b", port: 22, user: x }',
    ];
    const config = (dir: string) =>
      `${serverConfig(dir).replace('web: [{ name: web1, address: 10.0.1.11 }]', 'web: [{ name: web1, address: 10.0.1.11 }, web1.example.com]')}`.replace(
        'builder: [local]',
        `builder: [local]\n${spellings.map((s, i) => `  sneaky${i}: [${s}]`).join('\n')}`,
      );
    app = await startGithubSluice({ serverConfig: config });
    const marker = join(app.dir, 'stolen');
    for (const [i] of spellings.entries()) {
      const check = await pushAs(`${EVIL}${i}`, { '.github/sluice.yml': pipeline(`sneaky${i}`, marker) });
      assert.equal(check.conclusion, 'failure', spellings[i]);
      assert.match(
        check.annotations[0]!.message,
        new RegExp(`^host group "sneaky${i}" holds \\S+ of environment "production", which takes only deploys`),
        spellings[i],
      );
    }
    assert.deepEqual(await app.sluice.store.listExecutions(), []);
    assert.equal(existsSync(marker), false);
  });
});
