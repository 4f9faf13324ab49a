/** The shared fixture pipelines are valid pipeline files, as they are and after an edit. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { parsePipelineConfig } from '../../src/config/load-pipeline-config.ts';
import { buildOf, pipelineFixture, type PipelineFixtureName } from '../helpers/pipeline-fixture.ts';

const names = readdirSync(new URL('../fixtures/pipelines/', import.meta.url)).map(
  (file) => file.replace(/\.yml$/, '') as PipelineFixtureName,
);

test('every fixture pipeline passes the pipeline checks', () => {
  assert.deepEqual(names.sort(), [
    'app-through-dev',
    'app-to-production',
    'build-check-release',
    'build-to-dev',
    'one-build',
    'payload-to-production',
    'shop-to-production',
    'version-through-dev',
    'version-to-production',
  ]);
  for (const name of names) {
    const loaded = parsePipelineConfig(pipelineFixture(name), { file: `${name}.yml` });
    assert.deepEqual(loaded.ok ? [] : loaded.problems, [], name);
  }
});

test('an edit changes what it names and keeps the rest', () => {
  const text = pipelineFixture('app-to-production', (p) => {
    buildOf(p).run.unshift('touch gate');
    p.app!.health!.timeout = '9s';
  });
  const loaded = parsePipelineConfig(text, { file: 'edited.yml' });
  assert.ok(loaded.ok);
  assert.deepEqual(loaded.config.stages[0]?.actions[0], {
    name: 'package',
    build: {
      host: 'local',
      run: ['touch gate', 'node --check server.js'],
      artifact: { name: 'app', paths: ['server.js', 'deploy', 'VERSION', 'package.json'] },
    },
  });
  assert.equal(loaded.config.app?.health?.timeout, '9s');
  assert.equal(
    loaded.config.app?.health?.command,
    '. "$SLUICE_DEPLOY_PATH/shared/app.env"; curl -fsS "http://127.0.0.1:$PORT/health"',
  );
});

test('an edit rewrites only the lines it changed, quoting what it wrote', () => {
  const original = pipelineFixture('shop-to-production');
  const edited = pipelineFixture('shop-to-production', (p) => {
    buildOf(p).run = ['echo "hi"', 'make'];
    p.on!.push!.branches.push('release/*');
    p.stages = p.stages.filter((stage) => stage.name !== 'dev');
  });
  const expected = original
    .replace('branches: [main]', 'branches: [main, "release/*"]')
    .replace(
      `run: ["mkdir -p dist", "cp VERSION dist/VERSION", 'echo "token is $API_TOKEN"']`,
      'run: ["echo \\"hi\\"", "make"]',
    )
    .replace(
      '  - name: dev\n    actions:\n      - name: dev-deploy\n        deploy: {environment: dev, artifact: app}\n',
      '',
    );
  assert.notEqual(expected, original);
  assert.equal(edited, expected);
});
