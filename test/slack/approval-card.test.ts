import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { approvalCard, type ApprovalCardInput } from '../../src/slack/approval-card.ts';
import type { ExecutionSummary } from '../../src/store/store.ts';
import { blockKitErrors } from '../helpers/slack-block-kit.ts';
import { executionSummary } from '../helpers/execution-summary.ts';
import { builtStage, twoStagePipeline } from '../store/fixtures/two-stage-pipeline.ts';

function execution(
  message: string,
  author: string,
  gate: ExecutionSummary['stages'][number]['actions'][number]['status'] = 'awaiting_approval',
): ExecutionSummary {
  return executionSummary({
    revision: { sha: 'c0ffee0123456789c0ffee0123456789c0ffee01', ref: 'main', message, author },
    trigger: 'push',
    definition: twoStagePipeline,
    stages: [
      builtStage,
      {
        name: 'production',
        status: 'running',
        attempt: 1,
        actions: [
          { name: 'approve', status: gate, attempt: 1, startedAt: 1_000 },
          { name: 'deploy', status: 'pending', attempt: 1 },
        ],
      },
    ],
  });
}

const input = (e: ExecutionSummary, changes?: ApprovalCardInput['changes']): ApprovalCardInput => ({
  execution: e,
  stage: 'production',
  action: 'approve',
  environment: 'production',
  approvers: ['U0ANN', 'S0RELEASE'],
  expiresAt: 86_401_000,
  pageUrl: 'http://sluice.test/executions/e1?sig=x',
  ...(changes && { changes }),
});

const allText = (blocks: Array<Record<string, unknown>>) => JSON.stringify(blocks);

describe('the approval card', () => {
  test('text from a commit cannot mention the channel, a user or a link: Slack’s control characters are escaped', () => {
    const card = approvalCard(
      input(execution('<!channel> ship it <@U0BOSS> <https://evil.example|click>', 'mallory <!here>')),
    );
    const text = allText(card.blocks);
    for (const raw of ['<!channel>', '<@U0BOSS>', '<https://evil.example', '<!here>'])
      assert.equal(text.includes(raw), false, `${raw} reached the card unescaped`);
    assert.ok(text.includes('&lt;!channel&gt; ship it &lt;@U0BOSS&gt;'));
  });

  test('a long history and huge commit messages stay within Slack’s block limits, newest commits first', () => {
    const commits = Array.from({ length: 250 }, (_, i) => ({
      sha: `${String(i).padStart(7, '0')}abc`,
      message: `${'x'.repeat(5000)} ${i}`,
    }));
    const card = approvalCard(
      input(execution('y'.repeat(10_000), 'alice'), { base: 'b'.repeat(40), commits, total: 300 }),
    );
    assert.ok(card.text.length <= 150);
    for (const block of card.blocks) {
      const text = (block.text as { text?: string } | undefined)?.text ?? '';
      assert.ok(text.length <= 3000, `${String(block.type)} text is ${text.length} long`);
      for (const field of (block.fields as Array<{ text: string }> | undefined) ?? [])
        assert.ok(field.text.length <= 2000);
    }
    const changes = card.blocks.find((b) =>
      ((b.text as { text?: string } | undefined)?.text ?? '').includes('commits since'),
    );
    const lines = String((changes?.text as { text: string }).text).split('\n');
    assert.equal(lines[0], '*300 commits since what production runs, `bbbbbbb`*');
    assert.match(lines[1]!, /^• `0000249` x+/, 'the newest commit comes first');
    assert.equal(lines.at(-1), '…and 290 more');
  });

  test('in every state, with the longest inputs, the card is Block Kit Slack accepts (plain-text confirmations, a long reason cut to fit)', () => {
    const commits = Array.from({ length: 50 }, (_, i) => ({
      sha: `${String(i).padStart(7, '0')}abc`,
      message: 'z'.repeat(3000),
    }));
    for (const status of [
      'awaiting_approval',
      'succeeded',
      'failed',
      'superseded',
      'cancelled',
      'interrupted',
    ] as const) {
      const e = execution('y'.repeat(10_000), 'a'.repeat(500), status);
      const gate = e.stages[1]!.actions[0]!;
      Object.assign(gate, { reason: `rejected by slack:U0ANN: ${'<why> '.repeat(2000)}`, finishedAt: 5_000 });
      const many = {
        ...input(e, { base: 'b'.repeat(40), commits, total: 50 }),
        approvers: Array.from({ length: 400 }, (_, i) => `U0APPROVER${i}`),
        unchecked: Array.from({ length: 20 }, () => 'x'.repeat(400)),
      };
      assert.deepEqual(blockKitErrors(approvalCard(many).blocks), [], `the ${status} card`);
    }
  });

  test('a commit message or reason in emoji, Hangul and markup is cut on whole characters, never inside an escape or a mention', () => {
    // Each a cut at 200 (the commit subject) or 2900 (the reason) would land in the middle of.
    const subject = `a${'😀'.repeat(300)}`;
    const reason = `x${'<'.repeat(1000)}${'한😀'.repeat(2000)}`;
    for (const [message, why] of [
      [subject, reason],
      [`ab${'&'.repeat(300)}`, `${'😀'.repeat(3000)}`],
      ['Fix', `${'x'.repeat(2894)} by slack:U0ANNABELLE and more`],
    ] as const) {
      const e = execution(message, 'alice', 'failed');
      Object.assign(e.stages[1]!.actions[0]!, { reason: why, finishedAt: 5_000 });
      const commits = [{ sha: 'c0ffee0123', message: message.slice(1) }];
      const texts = approvalCard(input(e, { base: 'b'.repeat(40), commits, total: 1 })).blocks.flatMap((block) => [
        (block.text as { text?: string } | undefined)?.text ?? '',
        ...((block.fields as Array<{ text: string }> | undefined) ?? []).map((field) => field.text),
      ]);
      for (const text of texts) {
        assert.ok(text.isWellFormed(), `half an emoji left in ${JSON.stringify(text.slice(-20))}`);
        assert.doesNotMatch(text, /&[a-z]{0,3}(?![a-z;])/, `an escape cut short in ${JSON.stringify(text.slice(-20))}`);
        assert.doesNotMatch(text, /<[^>]*$/, `a mention cut short in ${JSON.stringify(text.slice(-20))}`);
      }
    }
  });

  test('an environment that already runs the commit, or whose history Sluice cannot read, says so', () => {
    const same = allText(
      approvalCard(input(execution('Fix', 'alice'), { base: 'c0ffee0123', commits: [], total: 0 })).blocks,
    );
    assert.ok(same.includes('production runs `c0ffee0`: no new commits.'));
    const unknown = allText(approvalCard(input(execution('Fix', 'alice'), { base: 'c0ffee0123', commits: [] })).blocks);
    assert.ok(unknown.includes('production runs `c0ffee0` now.'));
  });

  test('an open card has confirmed Approve and Reject buttons bound to the gate’s attempt and commit; a closed one has none', () => {
    const open = approvalCard(input(execution('Fix', 'alice')));
    const actions = open.blocks.find((b) => b.type === 'actions') as {
      elements: Array<{ action_id: string; value: string; confirm?: object }>;
    };
    assert.deepEqual(
      actions.elements.map((e) => e.action_id),
      ['sluice_approve', 'sluice_reject'],
    );
    assert.ok(
      actions.elements.every((e) => e.confirm),
      'each button asks for confirmation',
    );
    assert.deepEqual(JSON.parse(actions.elements[0]!.value), {
      e: 'e1',
      s: 'production',
      a: 'approve',
      n: 1,
      sha: 'c0ffee0123456789c0ffee0123456789c0ffee01',
    });
    for (const status of ['succeeded', 'failed', 'superseded', 'cancelled', 'interrupted'] as const) {
      assert.equal(
        approvalCard(input(execution('Fix', 'alice', status))).blocks.some((b) => b.type === 'actions'),
        false,
        `${status} still has buttons`,
      );
    }
  });
});
