import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { formatProblem } from '../../src/config/config-problem.ts';
import { parsePipelineConfig } from '../../src/config/load-pipeline-config.ts';
import { parseServerConfig } from '../../src/config/load-server-config.ts';
import type { ServerConfig } from '../../src/config/server.schema.ts';

// The pipelines below are written where they are checked, not fixtures: each is the mistake its test
// is about, and the line and column the problem must name are in its text.
const fixture = (name: string) => readFileSync(new URL(`../fixtures/config/${name}`, import.meta.url), 'utf8');

function productServer(): ServerConfig {
  const loaded = parseServerConfig(fixture('product-server.yml'), 'sluice.config.yml');
  assert.ok(loaded.ok, JSON.stringify(loaded));
  return loaded.config;
}

/** The problems of a pipeline text, as `sluice validate` prints them. */
function problemsOf(text: string, server?: ServerConfig, repo?: string): string[] {
  const loaded = parsePipelineConfig(text, { file: 'sluice.yml', server, ...(repo && { repo }) });
  return loaded.ok ? [] : loaded.problems.map(formatProblem);
}

const build = `  - name: build
    actions:
      - name: compile
        build:
          host: local
          run: ["make"]
          artifact: { name: app, paths: [dist] }
`;

describe('the pipeline file', () => {
  test('the example pipeline is valid, alone and against the example server config', () => {
    const text = fixture('product-pipeline.yml');
    for (const server of [undefined, productServer()]) {
      const loaded = parsePipelineConfig(text, { file: '.github/sluice.yml', server });
      assert.ok(loaded.ok, JSON.stringify(loaded));
      const { definition } = loaded;
      assert.equal(definition.mode, 'superseded');
      assert.deepEqual(
        definition.stages.map((s) => [s.name, s.needs]),
        [
          ['build', []],
          ['dev', ['build']],
          ['production', ['dev']],
        ],
      );
      const production = definition.stages[2]!;
      assert.deepEqual(
        production.actions.map((a) => [a.name, a.kind, a.needs]),
        [
          ['approve', 'approval', []],
          ['real-deploy', 'deploy', ['approve']],
        ],
      );
      const compile = definition.stages[0]!.actions[0]!;
      assert.equal(compile.kind, 'build');
      if (compile.kind === 'build') {
        assert.deepEqual(compile.build.artifact, {
          name: 'app',
          paths: ['dist', 'deploy', 'package.json', 'package-lock.json'],
        });
        assert.equal(compile.build.timeoutMs, 30 * 60_000);
      }
      assert.deepEqual(definition.app?.hooks.start, ['./deploy/start.sh']);
      assert.equal(definition.app?.health?.http, 'http://127.0.0.1:8080/health');
      assert.equal(definition.app?.health?.timeoutMs, 60_000);
    }
  });

  test('unknown keys, wrong types and missing keys are reported at their line and column', () => {
    const text = `mode: fast
stages:
  - name: build
    actions:
      - name: compile
        build:
          hots: local
          run: "make"
`;
    assert.deepEqual(problemsOf(text), [
      'sluice.yml:1:7: mode: use superseded or queued',
      'sluice.yml:6:9: stages[0].actions[0].build: missing "host"',
      'sluice.yml:7:11: stages[0].actions[0].build: unknown key "hots" (did you mean "host"?)',
      'sluice.yml:8:16: stages[0].actions[0].build.run: expected a list, not the text "make"',
    ]);
  });

  test('YAML syntax errors and duplicate keys are reported where they are', () => {
    assert.match(problemsOf('stages:\n  - name: a\n    name: b\n    actions: []\n')[0]!, /^sluice\.yml:3:5: .*unique/);
    assert.match(problemsOf('stages: [\n')[0]!, /^sluice\.yml:\d+:\d+: YAML: /);
    assert.deepEqual(problemsOf(''), [
      'sluice.yml:1:1: the file is empty; see the examples in README.md for what it holds',
    ]);
  });

  test('an action does exactly one thing', () => {
    const text = `stages:
  - name: s
    actions:
      - name: both
        command: { host: local, run: [x] }
        approval: { environment: production }
      - name: none
`;
    assert.deepEqual(problemsOf(text), [
      'sluice.yml:4:9: stages[0].actions[0]: action "both" has approval and command; an action does exactly one of them, so split it into 2 actions',
      'sluice.yml:7:9: stages[0].actions[1]: action "none" needs one of: build, deploy, approval, command',
    ]);
  });

  test('duplicate names, unknown needs and cycles are refused with the fix', () => {
    const text = `stages:
${build}  - name: build
    needs: [tset]
    actions:
      - name: a
        command: { host: local, run: [x] }
      - name: b
        needs: [c]
        command: { host: local, run: [x] }
      - name: c
        needs: [b]
        command: { host: local, run: [x] }
  - name: test
    needs: [deploy]
    actions:
      - name: t
        command: { host: local, run: [x] }
  - name: deploy
    needs: [test]
    actions:
      - name: d
        command: { host: local, run: [x] }
`;
    assert.deepEqual(problemsOf(text), [
      'sluice.yml:9:11: "build" is already the name of another stage; names must be unique',
      'sluice.yml:10:13: stage "build" needs "tset", which is not a stage (did you mean "test"?)',
      'sluice.yml:15:9: actions b → c → b need each other in a cycle, so none of them can start; remove one of these needs',
      'sluice.yml:21:5: stages test → deploy → test need each other in a cycle, so none of them can start; remove one of these needs',
    ]);
  });

  test('artifacts are unique and an input must come from an action that runs before', () => {
    const text = `stages:
${build}      - name: again
        build: { host: local, run: [x], artifact: { name: app, paths: [x] } }
      - name: early
        command: { host: local, run: [x], inputs: [app] }
      - name: late
        needs: [compile]
        command: { host: local, run: [x], inputs: [app, ap] }
  - name: side
    needs: []
    actions:
      - name: d
        deploy: { environment: dev, artifact: app }
`;
    assert.deepEqual(problemsOf(text), [
      'sluice.yml:10:59: artifact "app" is also produced by build/compile; artifact names are unique in a pipeline',
      'sluice.yml:12:52: artifact "app" comes from build/compile, which does not run before this action; add "compile" to this action\'s needs',
      'sluice.yml:15:57: artifact "ap" is not produced by any action (did you mean "app"?)',
      'sluice.yml:20:47: artifact "app" comes from build/compile, which does not run before this action; make stage "side" need stage "build"',
    ]);
  });

  test('against a server config: environments, host groups and secrets must exist, and approvals cannot be skipped', () => {
    const text = `stages:
  - name: build
    actions:
      - name: compile
        build: { host: bilder, run: [x], secrets: [NPM_TOKEN], artifact: { name: app, paths: [x] } }
  - name: dev
    actions:
      - name: d
        deploy: { environment: staging, artifact: app }
      - name: ask
        approval: { environment: dev }
  - name: production
    actions:
      - name: p
        deploy: { environment: production, artifact: app }
`;
    assert.deepEqual(problemsOf(text), [], 'valid without a server config');
    assert.deepEqual(problemsOf(text, productServer()), [
      'sluice.yml:5:24: host group "bilder" is not defined in the server config (did you mean "builder"?)',
      'sluice.yml:5:52: secret "NPM_TOKEN" is not defined in the server config; the operator adds it under secrets',
      'sluice.yml:9:32: environment "staging" is not defined in the server config; it defines: dev, production',
      'sluice.yml:11:34: environment "dev" has no approval rules in the server config, so nobody could decide; the operator adds environments.dev.approval',
      'sluice.yml:15:32: deploys to "production" need an approval first (the server config sets approval rules for it); add an approval action for "production" that this deploy needs',
    ]);
  });

  test('`local` is this machine without a server config, and with one only a group the operator defines and grants to the repository', () => {
    const text = `stages:\n${build}`;
    assert.deepEqual(problemsOf(text), []);
    assert.match(
      problemsOf(text, productServer())[0]!,
      /host group "local" is not defined in the server config; pipelines run on the Sluice machine only where the operator defines the group `local: \[local\]`/,
    );
    const granted = { ...productServer(), hosts: { local: ['local'] }, local: { repos: ['acme/*'] } };
    assert.deepEqual(problemsOf(text, granted, 'acme/shop'), []);
    assert.deepEqual(problemsOf(text, { ...granted, local: undefined }, 'acme/shop'), [
      'sluice.yml:6:17: host group "local" holds local, the Sluice machine, which keeps Sluice\'s keys; acme/shop may run there only if the operator adds it to local.repos in the server config',
    ]);
    assert.match(
      problemsOf(text, granted, 'evil/fork')[0]!,
      /evil\/fork may run there only if the operator adds it to local\.repos/,
    );
  });

  test('a time limit of 0 (written for "no limit") is refused with what to write, not run as "stop at once"', () => {
    const text = `app:
  health: { command: "true", timeout: 0s }
stages:
  - name: s
    actions:
      - name: a
        build: { host: local, run: [x], timeout: 0m }
      - name: b
        command: { host: local, run: [x], timeout: 0ms }
`;
    assert.deepEqual(problemsOf(text), [
      'sluice.yml:2:39: app.health.timeout: give the health check a time limit above 0, such as 60s',
      'sluice.yml:7:50: stages[0].actions[0].build.timeout: give each command a time limit above 0, such as 30m (leave `timeout` out for the default)',
      'sluice.yml:9:52: stages[0].actions[1].command.timeout: give each command a time limit above 0, such as 30m (leave `timeout` out for the default)',
    ]);
  });

  test('durations are checked and turned into milliseconds', () => {
    const text = `app:
  health: { command: "true", timeout: 90s, interval: 250ms }
stages:
  - name: s
    actions:
      - name: a
        command: { host: local, run: [x], timeout: 1h30m }
      - name: b
        command: { host: local, run: [x], timeout: soon }
`;
    assert.deepEqual(problemsOf(text), [
      'sluice.yml:9:52: stages[0].actions[1].command.timeout: write the time limit for each command as a duration such as 500ms, 30s, 5m, 1h30m or 24h',
    ]);
    const loaded = parsePipelineConfig(text.replace('timeout: soon', 'timeout: 2m'), { file: 'sluice.yml' });
    assert.ok(loaded.ok);
    assert.deepEqual(loaded.definition.app?.health, { command: 'true', timeoutMs: 90_000, intervalMs: 250 });
    const [a, b] = loaded.definition.stages[0]!.actions;
    assert.equal(a?.kind === 'command' && a.command.timeoutMs, 90 * 60_000);
    assert.equal(b?.kind === 'command' && b.command.timeoutMs, 120_000);
  });

  test('an enormous file is refused without being parsed', () => {
    const text = `stages:\n${'  # padding padding padding padding padding padding padding\n'.repeat(5000)}`;
    assert.deepEqual(problemsOf(text), [
      'sluice.yml:1:1: the file is larger than 256 KiB; a config file this big is a mistake',
    ]);
  });

  test('nesting too deep for any pipeline is refused before the parser recurses into it, by brackets or by indentation', () => {
    assert.deepEqual(problemsOf(`stages: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`), [
      'sluice.yml:1:73: the YAML nests deeper than 64 levels here; a config file never needs that',
    ]);
    const indented = `stages:\n${Array.from({ length: 200 }, (_, i) => `${' '.repeat(2 * (i + 1))}a:`).join('\n')}\n`;
    assert.deepEqual(problemsOf(indented), [
      'sluice.yml:66:129: the YAML nests deeper than 64 levels here; a config file never needs that',
    ]);
    // Brackets in quotes and comments are text, not nesting.
    const quoted = `stages:\n  - name: build # ${'['.repeat(100)}\n    actions:\n      - name: compile\n        build: { host: local, run: ["echo '${'{'.repeat(100)}'"] }\n`;
    assert.deepEqual(problemsOf(quoted), []);
  });

  test('an alias bomb is refused, and names with invisible or reversing characters are not names', () => {
    const bomb = `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\nstages: [*d]\n`;
    assert.deepEqual(problemsOf(bomb), [
      'sluice.yml:1:1: the YAML cannot be read: Excessive alias count indicates a resource exhaustion attack',
    ]);
    const sneaky =
      'stages:\n  - name: "bu\u202eild"\n    actions:\n      - name: "c\u200bompile"\n        build: { host: local, run: ["echo done"] }\n';
    assert.deepEqual(problemsOf(sneaky), [
      'sluice.yml:2:11: stages[0].name: a stage name uses letters, digits, "-" and "_", starting with a letter or digit, at most 63 characters',
      'sluice.yml:4:15: stages[0].actions[0].name: an action name uses letters, digits, "-" and "_", starting with a letter or digit, at most 63 characters',
    ]);
  });
});
