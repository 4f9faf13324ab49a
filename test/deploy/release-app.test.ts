import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatReleaseApp, parseReleaseApp } from '../../src/deploy/release-app.ts';
import type { AppSpec } from '../../src/pipeline/definition.ts';

describe('the hooks a release keeps', () => {
  it('reads back what was written', () => {
    const app: AppSpec = {
      hooks: { stop: ['sh deploy/stop.sh'], start: ['sh deploy/start.sh', 'echo started'] },
      health: { http: 'http://127.0.0.1:8080/health', timeoutMs: 60_000, intervalMs: 500 },
    };
    assert.deepEqual(parseReleaseApp(formatReleaseApp(app)), app);
    assert.deepEqual(parseReleaseApp(formatReleaseApp({ hooks: {} })), { hooks: {} });
  });

  it('takes a release without one, or with one it cannot read, as keeping none', () => {
    for (const text of [
      '',
      '\n',
      '{',
      'null',
      '{"format":2,"app":{"hooks":{}}}',
      '{"format":1,"app":{"hooks":{"start":"not a list"}}}',
    ]) {
      assert.equal(parseReleaseApp(text), undefined, text);
    }
  });
});
