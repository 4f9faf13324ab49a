/**
 * The approval card (PRODUCT K1, K3) in Block Kit: what is about to go to
 * production, what changed since what runs there now, who may decide and
 * until when — and, once decided, expired or superseded, what happened, by
 * whom and when, with the buttons gone, then how the deploy went. Pure:
 * rendered again from the store's state whenever it changes, so Slack,
 * GitHub and the CLI tell the same story.
 */
import { APPROVAL_EXPIRED } from '../pipeline/engine.ts';
import { type ExecutionSummary, findActionSummary } from '../store/store.ts';
import type { SlackBlock } from './slack-api.ts';
import { capitalize } from '../capitalize.ts';
import { cutText, escapeText, mentionActors, mrkdwn, slackDate } from './slack-text.ts';
import { deployActions } from '../pipeline/definition.ts';
import { isStoppedShort } from '../pipeline/states.ts';

export interface CardCommit {
  sha: string;
  message: string;
  author?: string;
  /** Its author and committer, to keep them from approving it. */
  people?: Array<{ role: 'author' | 'committer'; login?: string; email?: string }>;
}

export interface ApprovalCardInput {
  execution: ExecutionSummary;
  stage: string;
  action: string;
  environment: string;
  approvers: readonly string[];
  expiresAt: number;
  /** What the approval is bound to: the artifact that would be deployed. */
  digest?: string;
  /** Artifacts the build beside the gate has not produced yet: it cannot be approved before. */
  waitingFor?: readonly string[];
  commitUrl?: string;
  /** What the environment runs now, and the commits between it and this one; absent on a first deploy. */
  changes?: { base: string; compareUrl?: string; commits: CardCommit[]; /** Absent when not known. */ total?: number };
  /**
   * Who brought the change but cannot be checked against the approvers (no Slack user matches them, or GitHub could not
   * list them), as sentences.
   */
  unchecked?: readonly string[];
  pageUrl: string;
}

/** What a click carries back: the gate and what it was bound to when shown. */
export interface ApprovalButtonValue {
  /** Execution id, stage, action, attempt. */
  e: string;
  s: string;
  a: string;
  n: number;
  sha: string;
  /** The artifact's sha256. */
  d?: string;
}

export const APPROVE_ACTION = 'sluice_approve';
export const REJECT_ACTION = 'sluice_reject';

export type DecisionState = 'open' | 'approved' | 'rejected' | 'expired' | 'superseded' | 'cancelled' | 'interrupted';

export interface Decision {
  state: DecisionState;
  reason?: string;
  at?: number;
}

export function decisionOf(execution: ExecutionSummary, stage: string, action: string): Decision {
  return decisionFrom(findActionSummary(execution, stage, action));
}

/** What a gate's action state means for the card. */
export function decisionFrom(state: { status: string; reason?: string; finishedAt?: number } | undefined): Decision {
  const base = {
    ...(state?.reason !== undefined && { reason: state.reason }),
    ...(state?.finishedAt !== undefined && { at: state.finishedAt }),
  };
  switch (state?.status) {
    case 'succeeded':
      return { state: 'approved', ...base };
    case 'failed':
      return { state: state.reason?.startsWith(`${APPROVAL_EXPIRED}:`) ? 'expired' : 'rejected', ...base };
    case 'superseded':
    case 'cancelled':
    case 'interrupted':
      return { state: state.status, ...base };
    default:
      return { state: 'open' };
  }
}

const HEADLINE: Record<DecisionState, string> = {
  open: 'Deploy to {env}?',
  approved: '✅ Approved for {env}',
  rejected: '⛔ Rejected for {env}',
  expired: '⌛ Expired: not deployed to {env}',
  superseded: '⏭ Superseded: not deployed to {env}',
  cancelled: '⊘ Cancelled: not deployed to {env}',
  interrupted: '⊘ Interrupted: not deployed to {env}',
};

/** `decision` overrides the gate's current state (for the card of an earlier attempt). */
export function approvalCard(
  input: ApprovalCardInput,
  decision: Decision = decisionOf(input.execution, input.stage, input.action),
): { text: string; blocks: SlackBlock[] } {
  const { execution } = input;
  const sha7 = execution.revision.sha.slice(0, 7);
  const title = `${HEADLINE[decision.state].replace('{env}', input.environment)} · ${execution.repo} ${sha7}`;
  const subject = (execution.revision.message ?? '').split('\n')[0] ?? '';
  const commit = input.commitUrl ? `<${input.commitUrl}|${sha7}>` : `\`${sha7}\``;
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
    {
      type: 'section',
      fields: [
        mrkdwn(`*Repository*\n${escapeText(execution.repo)}`),
        mrkdwn(`*Branch*\n${escapeText(execution.revision.ref ?? '—')}`),
        mrkdwn(`*Commit*\n${commit} ${cutText(escapeText(subject), 200)}`),
        mrkdwn(`*Author*\n${escapeText(execution.revision.author ?? '—')}`),
      ],
    },
    changesBlock(input),
  ];
  const before = execution.stages.filter((s) => s.name !== input.stage && s.status !== 'pending');
  if (before.length > 0) {
    blocks.push({
      type: 'context',
      elements: [
        mrkdwn(
          before.map((s) => `${s.status === 'succeeded' ? '✓' : '•'} ${escapeText(s.name)} ${s.status}`).join(' · '),
        ),
      ],
    });
  }
  if (input.unchecked && input.unchecked.length > 0 && decision.state === 'open') {
    const lines = input.unchecked.slice(0, 10).map((line) => `⚠ ${escapeText(line)}`);
    blocks.push({ type: 'context', elements: [mrkdwn(cutText(lines.join('\n'), 3000))] });
  }
  // A context's text holds at most 3000 characters: a long list of approvers is cut short.
  const more = input.approvers.length > 100 ? ` and ${input.approvers.length - 100} more` : '';
  const who = `${input.approvers.slice(0, 100).map(approverMention).join(', ')}${more}`;
  const digests = input.digest?.split(',') ?? [];
  const bound =
    digests.length > 0
      ? ` · artifact${digests.length > 1 ? 's' : ''} ${digests.map((d) => `\`sha256:${d.slice(0, 12)}\``).join(', ')}`
      : '';
  if (input.waitingFor && input.waitingFor.length > 0 && decision.state === 'open') {
    const names = input.waitingFor.map((n) => `\`${escapeText(n)}\``).join(', ');
    blocks.push({
      type: 'context',
      elements: [
        mrkdwn(
          `⏳ Waits for the build to produce ${names}: it can be approved once it has, and is bound to that artifact.`,
        ),
      ],
    });
  }
  const until = decision.state === 'open' ? 'expires' : 'was open until';
  blocks.push({
    type: 'context',
    elements: [
      mrkdwn(`Approvers: ${who} · ${until} ${slackDate(input.expiresAt)}${bound} · <${input.pageUrl}|pipeline>`),
    ],
  });
  if (decision.state === 'open') {
    blocks.push(buttons(input, sha7));
  } else {
    const when = decision.at !== undefined ? ` (${slackDate(decision.at)})` : '';
    // A section's text is at most 3000 characters; a reason (an error's message) can be longer.
    const reason = cutText(capitalize(mentionActors(escapeText(decision.reason ?? decision.state))), 2900);
    blocks.push({ type: 'section', text: mrkdwn(`*${reason}*${when}`) });
    const deploy = deployLine(input);
    if (deploy) blocks.push({ type: 'context', elements: [mrkdwn(deploy)] });
  }
  return { text: title, blocks };
}

function changesBlock(input: ApprovalCardInput): SlackBlock {
  const { changes, environment } = input;
  if (!changes) return { type: 'section', text: mrkdwn(`*First deploy of this pipeline to ${environment}.*`) };
  if (changes.total === undefined)
    return { type: 'section', text: mrkdwn(`*${environment} runs \`${changes.base.slice(0, 7)}\` now.*`) };
  if (changes.total === 0)
    return { type: 'section', text: mrkdwn(`*${environment} runs \`${changes.base.slice(0, 7)}\`: no new commits.*`) };
  const link = changes.compareUrl ? ` (<${changes.compareUrl}|compare>)` : '';
  const list = changes.commits
    .slice(-10)
    .reverse()
    .map(
      (c) =>
        `• \`${c.sha.slice(0, 7)}\` ${cutText(escapeText(c.message.split('\n')[0] ?? ''), 120)}${c.author ? ` — ${escapeText(c.author)}` : ''}`,
    )
    .join('\n');
  const more = changes.total > 10 ? `\n…and ${changes.total - 10} more` : '';
  const heading = `*${changes.total} commit${changes.total === 1 ? '' : 's'} since what ${environment} runs, \`${changes.base.slice(0, 7)}\`*${link}`;
  return { type: 'section', text: mrkdwn(cutText(`${heading}\n${list}${more}`, 3000)) };
}

function buttons(input: ApprovalCardInput, sha7: string): SlackBlock {
  const { execution } = input;
  const attempt = findActionSummary(execution, input.stage, input.action)?.attempt ?? 1;
  const value: ApprovalButtonValue = {
    e: execution.id,
    s: input.stage,
    a: input.action,
    n: attempt,
    sha: execution.revision.sha,
    ...(input.digest && { d: input.digest }),
  };
  // Slack takes only plain text in a confirmation dialog (no mrkdwn), of at most 300 characters.
  const confirm = (verb: string) => ({
    title: { type: 'plain_text', text: `${verb} this deploy?` },
    text: {
      type: 'plain_text',
      text: `${verb} deploying ${sha7} of ${execution.repo} to ${input.environment}.`.slice(0, 300),
    },
    confirm: { type: 'plain_text', text: verb },
    deny: { type: 'plain_text', text: 'Cancel' },
  });
  return {
    type: 'actions',
    block_id: 'sluice_approval',
    elements: [
      {
        type: 'button',
        action_id: APPROVE_ACTION,
        style: 'primary',
        text: { type: 'plain_text', text: 'Approve' },
        value: JSON.stringify(value),
        confirm: confirm('Approve'),
      },
      {
        type: 'button',
        action_id: REJECT_ACTION,
        style: 'danger',
        text: { type: 'plain_text', text: 'Reject' },
        value: JSON.stringify(value),
        confirm: confirm('Reject'),
      },
    ],
  };
}

/** How the deploys behind this gate went: running, succeeded, failed. */
function deployLine(input: ApprovalCardInput): string | undefined {
  const deploys = gatedDeploys(input.execution, input.stage, input.environment);
  const states = deploys
    .map((name) => findActionSummary(input.execution, input.stage, name))
    .filter((a) => a !== undefined);
  if (states.length === 0 || states.every((a) => a.status === 'pending')) return undefined;
  if (states.some((a) => a.status === 'running')) return `🚀 Deploying to ${input.environment}…`;
  if (states.every((a) => a.status === 'succeeded')) return `✅ Deployed to ${input.environment}`;
  const failed = states.find((a) => isStoppedShort(a.status));
  return failed ? `❌ The deploy to ${input.environment} ${failed.status}` : undefined;
}

/** The deploy actions of a stage that go to the gate's environment. */
export function gatedDeploys(execution: ExecutionSummary, stage: string, environment: string): string[] {
  return deployActions(execution.definition, { stage, environment }).map((d) => d.action.name);
}

export function approverMention(id: string): string {
  return id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`;
}
