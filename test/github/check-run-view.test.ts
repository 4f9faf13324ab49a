import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkRunView, cutStart, OUTPUT_LIMIT, TITLE_LIMIT } from '../../src/github/check-run-view.ts';
import { keepHead, keepTail } from '../../src/github/cut-to-bytes.ts';
import type { ExecutionSummary, LogLine } from '../../src/store/store.ts';
import { executionSummary } from '../helpers/execution-summary.ts';

function execution(
  stages: ExecutionSummary['stages'],
  status: ExecutionSummary['status'] = 'running',
  reason?: string,
): ExecutionSummary {
  return executionSummary({ status, ...(reason && { reason }), stages });
}

const lines = (n: number, width = 100): LogLine[] =>
  Array.from({ length: n }, (_, i) => ({ stream: 'stdout', text: `line ${i} ${'x'.repeat(width)}`, at: i }));

describe('a stage as a check run', () => {
  test('a chatty log keeps its newest lines within GitHub’s 65,535 bytes and says the start was cut', () => {
    const view = checkRunView(
      execution([
        {
          name: 'build',
          status: 'running',
          attempt: 1,
          actions: [{ name: 'compile', status: 'running', attempt: 1, startedAt: 0 }],
        },
      ]),
      'build',
      { compile: lines(5000) },
      'https://sluice.example.com/executions/e1',
    );
    assert.equal(view.status, 'in_progress');
    assert.ok(Buffer.byteLength(view.output.text!) <= OUTPUT_LIMIT, `${Buffer.byteLength(view.output.text!)}`);
    assert.match(
      view.output.text!,
      /^### compile\n```\n… \(earlier lines cut; the full log is on Sluice\)\nline \d+ x+\n/,
    );
    assert.match(view.output.text!, /line 4999 x+\n```$/);
  });

  test('stages an execution never reached end skipped, or cancelled with the supersede sentence', () => {
    const pending = {
      name: 'dev',
      status: 'pending' as const,
      attempt: 1,
      actions: [{ name: 'dev-deploy', status: 'pending' as const, attempt: 1 }],
    };
    const failed = checkRunView(execution([pending], 'failed', 'stage "build" failed'), 'dev', {}, 'u');
    assert.deepEqual(
      [failed.status, failed.conclusion, failed.output.title],
      ['completed', 'skipped', 'Not run: the execution failed'],
    );
    const superseded = checkRunView(
      execution([pending], 'superseded', 'superseded by execution #5 (1234567)'),
      'dev',
      {},
      'u',
    );
    assert.deepEqual(
      [superseded.conclusion, superseded.output.title],
      ['cancelled', 'Superseded by execution #5 (1234567)'],
    );
  });

  test('a gate shows as waiting for approval, and a failure offers Retry', () => {
    const waiting = checkRunView(
      execution([
        {
          name: 'production',
          status: 'running',
          attempt: 1,
          actions: [{ name: 'approve', status: 'awaiting_approval', attempt: 1 }],
        },
      ]),
      'production',
      {},
      'u',
    );
    assert.deepEqual([waiting.status, waiting.output.title], ['in_progress', 'Waiting for approval']);
    assert.match(waiting.output.summary, /⏸ \*\*approve\*\* waiting for approval/);
    const failed = checkRunView(
      execution(
        [
          {
            name: 'build',
            status: 'failed',
            attempt: 1,
            actions: [
              {
                name: 'compile',
                status: 'failed',
                attempt: 1,
                reason: 'exit code 2',
                startedAt: 0,
                finishedAt: 61_000,
              },
            ],
          },
        ],
        'failed',
      ),
      'build',
      {},
      'u',
    );
    assert.equal(failed.conclusion, 'failure');
    assert.match(failed.output.summary, /✗ \*\*compile\*\* failed in 1m 1s: exit code 2/);
    assert.deepEqual(
      failed.actions.map((a) => a.label),
      ['Retry'],
    );
  });

  test('cutting never splits a character made of two UTF-16 units', () => {
    const text = `${'😀'.repeat(40_000)}`;
    const cut = cutStart(text, 1001);
    assert.ok(cut.length <= 1001);
    assert.equal(/[\uD800-\uDBFF]$|^[\uDC00-\uDFFF]/.test(cut.split('\n').at(-1)!), false);
  });

  test('a log of Hangul, emoji and box drawing is cut to 65,535 bytes of UTF-8, its newest lines kept whole', () => {
    const korean: LogLine[] = Array.from({ length: 30_000 }, (_, i) => ({
      stream: 'stdout',
      text: `빌드 중 ━━━ ✅ 단계 ${i % 7}/7 🚀 ${i}`,
      at: i,
    }));
    const view = checkRunView(
      execution([
        {
          name: 'build',
          status: 'running',
          attempt: 1,
          actions: [
            { name: '컴파일', status: 'running', attempt: 1, startedAt: 0 },
            { name: 'lint', status: 'running', attempt: 1, startedAt: 0 },
          ],
        },
      ]),
      'build',
      { 컴파일: korean, lint: korean.slice(0, 10) },
      'https://sluice.example.com/executions/e1',
    );
    const text = view.output.text!;
    assert.ok(Buffer.byteLength(text) <= OUTPUT_LIMIT, `${Buffer.byteLength(text)} bytes`);
    assert.ok(text.length < OUTPUT_LIMIT / 2, 'far fewer characters than bytes');
    assert.equal(text.includes('\uFFFD'), false, 'no character was cut in half');
    assert.ok(
      /^### 컴파일\n```\n… \(earlier lines cut; the full log is on Sluice\)\n빌드 중 ━━━ ✅ 단계 \d\/7 🚀 \d+\n/.test(
        text,
      ),
      'the log starts at a whole line after the cut',
    );
    assert.ok(text.includes('빌드 중 ━━━ ✅ 단계 4/7 🚀 29999\n```\n### lint\n'), 'the newest line is kept');
    assert.ok(Buffer.byteLength(view.output.summary) <= OUTPUT_LIMIT);
  });

  test('cutting by bytes ends and starts at whole characters', () => {
    assert.equal(keepTail('ab한🚀', 5), '🚀');
    assert.equal(keepTail('ab한🚀', 7), '한🚀');
    assert.equal(keepTail('ab한🚀', 6), '🚀');
    assert.equal(keepHead('한🚀ab', 6), '한');
    assert.equal(keepHead('한🚀ab', 7), '한🚀');
    assert.equal(keepHead('short', 100), 'short');
    assert.equal(keepTail('short', 100), 'short');
  });

  test('a cancel reason of any length gives a title within 255 bytes, cut at a whole character with an ellipsis', () => {
    const reason = `취소: ${'배포를 멈춥니다 '.repeat(40)}`;
    const view = checkRunView(
      execution(
        [
          {
            name: 'build',
            status: 'cancelled',
            attempt: 1,
            reason,
            actions: [{ name: 'compile', status: 'cancelled', attempt: 1 }],
          },
        ],
        'cancelled',
        reason,
      ),
      'build',
      {},
      'https://sluice.example.com/e1',
    );
    assert.ok(
      Buffer.byteLength(view.output.title) <= TITLE_LIMIT && Buffer.byteLength(view.output.title) > TITLE_LIMIT - 6,
      `${Buffer.byteLength(view.output.title)} bytes`,
    );
    assert.ok(
      view.output.title.startsWith('취소: 배포를 멈춥니다') && view.output.title.endsWith('…'),
      view.output.title,
    );
    assert.equal(view.output.title.includes('\uFFFD'), false);
  });

  test('a log line of 70 KB of flags, family emoji or one letter under combining marks is cut to whole graphemes where there are any, within the bytes', () => {
    const segments = (text: string) =>
      [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)].map((s) => s.segment);
    for (const [unit, count] of [
      ['🇰🇷', 9000],
      ['👩‍👩‍👧‍👦', 3000],
      ['각', 24000],
    ] as const) {
      const line = unit.repeat(count);
      for (const limit of [OUTPUT_LIMIT, OUTPUT_LIMIT - 1, OUTPUT_LIMIT - 3, 1001]) {
        for (const cut of [keepTail(line, limit), keepHead(line, limit)]) {
          assert.ok(
            Buffer.byteLength(cut) <= limit && Buffer.byteLength(cut) > limit - Buffer.byteLength(unit),
            `${unit} within ${limit} bytes: ${Buffer.byteLength(cut)}`,
          );
          assert.ok(
            segments(cut).every((g) => g === unit),
            `only whole ${unit}, none cut into other emoji`,
          );
        }
      }
      const view = checkRunView(
        execution([
          {
            name: 'build',
            status: 'running',
            attempt: 1,
            actions: [{ name: 'compile', status: 'running', attempt: 1, startedAt: 0 }],
          },
        ]),
        'build',
        { compile: [{ stream: 'stdout', text: line, at: 0 }] },
        'https://sluice.example.com/e1',
      );
      const text = view.output.text ?? '';
      assert.ok(Buffer.byteLength(text) <= OUTPUT_LIMIT, `${Buffer.byteLength(text)} bytes`);
      const logged = text.split('\n').find((l) => l.includes(unit.slice(0, 2)))!;
      assert.ok(
        segments(logged).every((g) => g === unit),
        `the check run shows only whole ${unit}`,
      );
    }
    // One grapheme longer than the limit: cut between its characters, not dropped.
    const heavy = `e${'\u0301'.repeat(35_000)}`;
    assert.equal(Buffer.byteLength(keepTail(heavy, OUTPUT_LIMIT)), OUTPUT_LIMIT - 1);
    assert.equal(Buffer.byteLength(keepHead(heavy, OUTPUT_LIMIT)), OUTPUT_LIMIT);
  });
});
