import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { makeCheckout, type TempCheckout } from '../helpers/temp-checkout.ts';
import { runSluice } from '../helpers/run-sluice.ts';

let checkout: TempCheckout | undefined;
afterEach(() => checkout?.remove());

// Written here, not a fixture: a test below names the line and column of dev's deploy in this text.
const pipeline = `stages:
  - name: build
    actions:
      - name: compile
        build:
          host: local
          run: ["mkdir -p dist", "cp VERSION dist/VERSION"]
          artifact: { name: app, paths: [dist, deploy] }
  - name: dev
    actions:
      - name: dev-deploy
        deploy: { environment: dev, artifact: app }
app:
  hooks:
    start: ["sh deploy/start.sh"]
  health:
    command: "test -f started"
    timeout: 5s
`;

function setUp(): TempCheckout {
  const c = (checkout = makeCheckout({ VERSION: 'v1\n', 'deploy/start.sh': 'cat dist/VERSION > started\n' }));
  c.write('.github/sluice.yml', pipeline);
  c.write(
    'sluice.config.yml',
    `hosts:\n  local: [local]\nlocal:\n  repos: ['*']\nenvironments:\n  dev:\n    hosts: [local]\n    path: ${join(c.scratch, 'srv')}\n    keep_releases: 2\n`,
  );
  c.commit('pipeline');
  return c;
}

const sluice = (c: TempCheckout, ...args: string[]) =>
  runSluice([...args, '--data-dir', join(c.scratch, 'data'), '--server', 'sluice.config.yml'], { cwd: c.dir });

describe('sluice run with a server config', () => {
  test('deploys each revision as a release, switches current, and keeps the last releases', async () => {
    const c = setUp();
    const srv = join(c.scratch, 'srv');
    const first = await sluice(c, 'run');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /dev\/dev-deploy │ deploying [0-9a-f]{7} to dev \(local\)/);
    assert.equal(readFileSync(join(srv, 'current', 'started'), 'utf8'), 'v1\n');

    for (const version of ['v2', 'v3']) {
      c.write('VERSION', `${version}\n`);
      c.commit(version);
      const next = await sluice(c, 'run');
      assert.equal(next.code, 0, next.stdout + next.stderr);
      assert.equal(readFileSync(join(srv, 'current', 'started'), 'utf8'), `${version}\n`);
    }
    const releases = readdirSync(join(srv, 'releases'));
    assert.equal(releases.length, 2, `kept: ${releases.join(', ')}`);
    assert.ok(releases.includes(readlinkSync(join(srv, 'current')).split('/').at(-1)!));
  });

  test('what a start hook leaves running on the Sluice machine keeps running after sluice run exits', async () => {
    const c = setUp();
    const marker = `1000.${process.pid}7`;
    c.write(
      '.github/sluice.yml',
      pipeline.replace('start: ["sh deploy/start.sh"]', `start: ["sh deploy/start.sh", "nohup sleep ${marker} &"]`),
    );
    c.commit('a daemon');
    const pids = () => {
      try {
        return execFileSync('pgrep', ['-f', `sleep ${marker}`], { encoding: 'utf8' })
          .trim()
          .split('\n')
          .map(Number);
      } catch {
        return [];
      }
    };
    try {
      // Resolves once sluice has exited and closed its output, which the daemon would hold were it passed on.
      const result = await sluice(c, 'run');
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.equal(pids().length, 1, 'the daemon runs on');
    } finally {
      for (const pid of pids()) process.kill(pid, 'SIGKILL');
    }
  });

  test('a deploy to an environment the server config does not define fails the stage and says so', async () => {
    const c = setUp();
    c.write(
      'sluice.config.yml',
      `hosts:\n  local: [local]\nlocal:\n  repos: ['*']\nenvironments:\n  staging:\n    hosts: [local]\n    path: ${join(c.scratch, 'srv')}\n`,
    );
    c.commit('no dev');
    const result = await sluice(c, 'run');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /\.github\/sluice\.yml:12:32: environment "dev" is not defined in the server config/);
    assert.equal(existsSync(join(c.scratch, 'srv')), false);
  });
});
