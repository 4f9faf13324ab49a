import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PipelineDefinition } from '../../src/pipeline/definition.ts';
import type { ExecutionSummary } from '../../src/store/store.ts';
import { layoutPipeline, renderDiagram } from '../../src/web/pipeline-diagram.ts';

const build = (name: string) => ({
  name,
  needs: [],
  kind: 'build' as const,
  build: { host: 'local', run: ['true'], inputs: [], timeoutMs: 1, env: {}, secrets: [] },
});

function executionOf(stages: Array<{ name: string; needs: string[]; actions: string[] }>): ExecutionSummary {
  const definition: PipelineDefinition = {
    mode: 'superseded',
    stages: stages.map((s) => ({ name: s.name, needs: s.needs, actions: s.actions.map(build) })),
  };
  return {
    id: 'e1',
    pipelineId: 'p',
    repo: 'acme/shop',
    seq: 1,
    status: 'running',
    revision: { sha: 'abc' },
    trigger: 'push',
    createdAt: 0,
    updatedAt: 0,
    version: 1,
    definition,
    stages: stages.map((s, i) => ({
      name: s.name,
      status: i === 0 ? 'succeeded' : 'pending',
      attempt: 1,
      actions: s.actions.map((a) => ({ name: a, status: i === 0 ? 'succeeded' : 'pending', attempt: 1 })),
    })),
  };
}

test('stages stand in columns by what they need, with an arrow from each stage to each that needs it', () => {
  const execution = executionOf([
    { name: 'build', needs: [], actions: ['compile'] },
    { name: 'test', needs: ['build'], actions: ['unit', 'lint'] },
    { name: 'docs', needs: ['build'], actions: ['site'] },
    { name: 'production', needs: ['test', 'docs'], actions: ['approve', 'deploy'] },
  ]);
  const layout = layoutPipeline(execution);
  const column = (stage: string) => layout.boxes.find((b) => b.stage === stage)!.x;
  assert.deepEqual(['build', 'test', 'docs', 'production'].map(column), [0, 320, 320, 640]);
  const [test1, docs] = [layout.boxes.find((b) => b.stage === 'test')!, layout.boxes.find((b) => b.stage === 'docs')!];
  assert.ok(docs.y >= test1.y + test1.height, 'boxes of one column do not overlap');
  assert.deepEqual(
    layout.arrows.map((a) => `${a.from}→${a.to}`),
    ['build→test', 'build→docs', 'test→production', 'docs→production'],
  );

  const html = renderDiagram(execution);
  assert.equal((html.match(/class="arrow done"/g) ?? []).length, 2, 'arrows out of a finished stage are drawn as done');
  assert.equal((html.match(/class="box /g) ?? []).length, 4);
});

test('names from the pipeline file are escaped in the drawing', () => {
  const execution = executionOf([{ name: 'build', needs: [], actions: ['compile'] }]);
  execution.stages[0]!.actions[0]!.reason = '<img src=x onerror=alert(1)>';
  execution.stages[0]!.actions[0]!.status = 'failed';
  const html = renderDiagram(execution);
  assert.equal(html.includes('<img'), false);
  assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
});
