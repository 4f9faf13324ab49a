import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderSchemas } from '../../src/config/write-json-schemas.ts';
import { runSluice } from '../helpers/run-sluice.ts';

// The small pipelines written below are the mistakes `sluice validate` must name, at their line and column.
const fixtures = fileURLToPath(new URL('../fixtures/config/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sluice-validate-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const validate = (...args: string[]) => runSluice(['validate', ...args], { cwd: dir });

describe('sluice validate', () => {
  test('the example pipeline and server config validate as written, alone and together (exit 0)', async () => {
    const pipeline = join(fixtures, 'product-pipeline.yml');
    const server = join(fixtures, 'product-server.yml');
    for (const args of [[pipeline], ['--server', server], [pipeline, '--server', server]]) {
      const result = await validate(...args);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '');
      assert.match(result.stdout, /✓ .* is a valid/);
    }
  });

  test('an invalid pipeline: exit 1 and one file:line:col line per problem on stderr', async () => {
    writeFileSync(
      join(dir, 'sluice.yml'),
      'stages:\n  - name: build\n    actions:\n      - name: a\n        deploy: { environment: prod, artifact: app }\n',
    );
    const result = await validate('sluice.yml', '--server', join(fixtures, 'product-server.yml'));
    assert.equal(result.code, 1);
    assert.deepEqual(result.stderr.trimEnd().split('\n'), [
      'sluice.yml:5:32: environment "prod" is not defined in the server config (did you mean "production"?)',
      'sluice.yml:5:48: artifact "app" is not produced by any action; a build action produces one with `artifact: { name, paths }`',
    ]);
  });

  test("a pipeline timeout above the operator's ssh.command_timeout is refused where the action runs on SSH hosts", async () => {
    writeFileSync(
      join(dir, 'limits-server.yml'),
      'ssh: { user: deploy, key: /etc/sluice/id_ed25519, known_hosts: /etc/sluice/known_hosts, command_timeout: 20m }\nhosts:\n  builders: [build1.internal]\n  local: [local]\nlocal: { repos: ["*"] }\n',
    );
    writeFileSync(
      join(dir, 'limits.yml'),
      [
        'stages:',
        '  - name: build',
        '    actions:',
        '      - name: slow',
        '        build: { host: builders, run: [make], timeout: 1h }',
        '      - name: fits',
        '        command: { host: builders, run: [make], timeout: 20m }',
        '      - name: here',
        '        build: { host: local, run: [make], timeout: 2h }',
        '',
      ].join('\n'),
    );
    const result = await validate('limits.yml', '--server', 'limits-server.yml');
    assert.equal(result.code, 1);
    assert.deepEqual(result.stderr.trimEnd().split('\n'), [
      'limits.yml:5:56: timeout 1h is longer than the server config allows a command on an SSH host (ssh.command_timeout: 20m); ask for 20m or less, or have the operator raise it',
    ]);
  });

  test('an invalid server config stops the pipeline from being checked against it', async () => {
    writeFileSync(join(dir, 'server.yml'), 'environments:\n  dev: { hosts: [local], path: /srv/app, keep: 3 }\n');
    const result = await validate('--server', 'server.yml', join(fixtures, 'product-pipeline.yml'));
    assert.equal(result.code, 1);
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines[0], 'server.yml:2:42: environments.dev: unknown key "keep" (did you mean "keep_releases"?)');
    assert.match(
      lines[1]!,
      /product-pipeline\.yml: not checked, since the server config it is checked against has problems/,
    );
  });

  test('a host group is no way around an environment or onto the Sluice machine: refused unless the operator grants it to the repository', async () => {
    const server = (extra = '') => `ssh: { user: deploy, key: /etc/sluice/key, known_hosts: /etc/sluice/known_hosts }
hosts:
  web: [web1.internal]
  alias: [{ name: w1, address: web1.internal }]
  builder: { hosts: [build1.internal], repos: [acme/*] }
  here: [local]
environments:
  production:
    hosts: web
    path: /srv/app
    repos: [acme/site]
${extra}`;
    const action = (host: string) =>
      `stages:\n  - name: build\n    actions:\n      - name: a\n        command: { host: ${host}, run: ["cat /srv/app/current/.env"] }\n`;
    writeFileSync(join(dir, 'server-groups.yml'), server());
    for (const [host, why] of [
      [
        'web',
        'host group "web" holds web1.internal of environment "production", which takes only deploys (gated by its repos and approval rules); evil/tool may run build and command actions there only if the operator adds it to environments.production.allow_commands_from',
      ],
      [
        'alias',
        'host group "alias" holds w1 of environment "production", which takes only deploys (gated by its repos and approval rules); evil/tool may run build and command actions there only if the operator adds it to environments.production.allow_commands_from',
      ],
      ['builder', 'evil/tool may not use host group "builder": the server config allows acme/*'],
      [
        'here',
        'host group "here" holds local, the Sluice machine, which keeps Sluice\'s keys; evil/tool may run there only if the operator adds it to local.repos in the server config',
      ],
    ]) {
      writeFileSync(join(dir, `evil-${host}.yml`), action(host!));
      const result = await validate(`evil-${host}.yml`, '--server', 'server-groups.yml', '--repo', 'evil/tool');
      assert.equal(result.code, 1, result.stdout);
      assert.equal(result.stderr, `evil-${host}.yml:5:26: ${why}\n`);
    }
    // What the operator grants, and only that, passes.
    writeFileSync(
      join(dir, 'server-granted.yml'),
      server('    allow_commands_from: [acme/ops]\nlocal: { repos: [acme/ops] }\n'),
    );
    for (const host of ['web', 'alias', 'builder', 'here']) {
      const granted = await validate(`evil-${host}.yml`, '--server', 'server-granted.yml', '--repo', 'acme/ops');
      assert.equal(granted.code, 0, granted.stderr);
      assert.match(granted.stdout, /is a valid pipeline \(1 stage, 1 action\) for this server config, as acme\/ops/);
    }
    const other = await validate('evil-here.yml', '--server', 'server-granted.yml', '--repo', 'acme/site');
    assert.equal(other.code, 1);
    assert.match(other.stderr, /acme\/site may run there only if the operator adds it to local\.repos/);
  });

  test('an environment on the Sluice machine takes deploys only from repositories granted local: its hooks would run there', async () => {
    const server = (extra = '') => `environments:\n  dev:\n    hosts: [local]\n    path: /srv/dev\n${extra}`;
    writeFileSync(join(dir, 'server-local-env.yml'), server());
    writeFileSync(join(dir, 'server-local-env-granted.yml'), server('local: { repos: [acme/ops] }\n'));
    writeFileSync(
      join(dir, 'deploy-dev.yml'),
      'stages:\n  - name: dev\n    actions:\n      - name: ship\n        deploy: { environment: dev, artifact: app }\n',
    );
    // The artifact is checked too; here only the environment's line matters.
    const refused = await validate('deploy-dev.yml', '--server', 'server-local-env.yml', '--repo', 'evil/tool');
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^deploy-dev\.yml:5:32: environment "dev" holds local, the Sluice machine, which keeps Sluice's keys, and its deploy hooks would run there; evil\/tool may deploy to it only if the operator adds it to local\.repos in the server config$/m,
    );
    const granted = await validate('deploy-dev.yml', '--server', 'server-local-env-granted.yml', '--repo', 'acme/ops');
    assert.doesNotMatch(granted.stderr, /holds local/);
  });

  test('a missing file and a usage mistake say what to do', async () => {
    const missing = await validate('nope.yml');
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      'nope.yml:1:1: the pipeline file does not exist; create it (see README.md) or pass --pipeline <file>\n',
    );
    const usage = await validate();
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /Say what to check: sluice validate <pipeline\.yml>/);
  });

  test('the examples in README.md validate as written', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const pipeline = blocks.find((b) => /^stages:/m.test(b));
    const server = blocks.find((b) => /^environments:/m.test(b));
    assert.ok(pipeline && server, 'README.md shows a pipeline file and a server config');
    writeFileSync(join(dir, 'readme-pipeline.yml'), pipeline);
    writeFileSync(join(dir, 'readme-server.yml'), server);
    const result = await validate('readme-pipeline.yml', '--server', 'readme-server.yml');
    assert.equal(result.code, 0, result.stderr);
  });

  test('the committed JSON Schemas match the zod schemas (run `npm run schema` after changing them)', () => {
    for (const [file, text] of Object.entries(renderSchemas())) {
      assert.equal(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8'), text, `${file} is stale`);
    }
  });
});
