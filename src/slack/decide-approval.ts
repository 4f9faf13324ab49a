/**
 * A click on an approval card's Approve or Reject (PRODUCT K2, K4, K6), in
 * the order a reader checks it:
 *  1. the button belongs to a gate Sluice knows, of this execution;
 *  2. the gate is still bound to the same commit and artifact digests (an
 *     approval beside the build is refused until the build produced them);
 *  3. the user is an approver of the environment (a user id or a member of
 *     a user group);
 *  4. unless self-approval is allowed, an approval by anyone who brought the
 *     change is refused: the pusher, the authors and committers of the
 *     commits since what the environment runs, whoever started or retried
 *     the execution (worked out when the card was posted), and the head
 *     commit's author;
 *  5. the decision goes to the engine, which takes only the first one — a
 *     doubled, replayed or racing click is told the gate is closed.
 * A refused click is answered and written to the gate's log (the audit).
 */
import type { ApprovalRules } from '../config/approval-rules.ts';
import { EngineError } from '../pipeline/engine.ts';
import { boundArtifacts, notBuiltYet } from '../runner/bind-approval.ts';
import type { PipelineRunner } from '../runner/pipeline-runner.ts';
import type { ArtifactRecordStore, ExecutionStore, LogStore, RefStore, ActionRef } from '../store/store.ts';
import { approverMention, decisionOf, type ApprovalButtonValue } from './approval-card.ts';
import type { SlackPeople } from './slack-people.ts';
import { CARD_REF } from './slack-reporter.ts';
import { escapeText, mentionActors } from './slack-text.ts';
import { findAction } from '../pipeline/definition.ts';

export interface ApprovalClick {
  /** The Slack user who clicked. */
  user: string;
  approved: boolean;
  /** The button's value, as the card set it. */
  value: string;
}

export interface DecideDeps {
  store: ExecutionStore & LogStore & ArtifactRecordStore & RefStore;
  runner: PipelineRunner;
  rulesFor(environment: string): ApprovalRules | undefined;
  people: SlackPeople;
  clock?: () => number;
}

/** `ok`: the decision was taken. Otherwise `text` tells the user why not (an ephemeral message). */
export type ClickAnswer = { ok: true } | { ok: false; text: string };

export async function decideApproval(deps: DecideDeps, click: ApprovalClick): Promise<ClickAnswer> {
  const value = parseValue(click.value);
  const unknown = {
    ok: false as const,
    text: 'This card is not one Sluice can match to an approval; nothing was decided.',
  };
  if (!value) return unknown;
  const execution = await deps.store.getExecution(value.e);
  const definition = execution && findAction(execution.definition, value.s, value.a);
  if (!execution || definition?.kind !== 'approval') return unknown;
  const environment = definition.approval.environment;
  const ref: ActionRef = { executionId: execution.id, stage: value.s, action: value.a, attempt: value.n };
  const verb = click.approved ? 'approve' : 'reject';
  const refuse = async (why: string, text: string): Promise<ClickAnswer> => {
    const at = (deps.clock ?? Date.now)();
    await deps.store.appendLog(ref, [
      { stream: 'sluice', text: `slack:${click.user} tried to ${verb} and was refused: ${why}`, at },
    ]);
    return { ok: false, text };
  };

  if (value.sha !== execution.revision.sha)
    return refuse(
      'the card was for another commit',
      'This card is for another commit than the execution; nothing was decided.',
    );
  const bound = await boundArtifacts(deps.store, execution, value.s, value.a, environment);
  if (click.approved && bound.missing.length > 0) {
    return refuse(
      `the build has not produced ${bound.missing.join(', ')} yet`,
      `${notBuiltYet(bound.missing)}; nothing was decided.`,
    );
  }
  if (value.d !== bound.digest) {
    return refuse(
      'the artifact changed since the card was posted',
      `The artifact changed since this card was posted, so this approval no longer holds; nothing was decided.`,
    );
  }
  const rules = deps.rulesFor(environment);
  if (!rules)
    return refuse(
      `${environment} has no approval rules any more`,
      `*${environment}* has no approval rules in Sluice's server config any more; nothing was decided.`,
    );
  if (!(await deps.people.isAmong(click.user, rules.approvers))) {
    const who = rules.approvers.map(approverMention).join(', ');
    return refuse(
      `not an approver of ${environment}`,
      `You are not one of the approvers of *${environment}* (${who}), so nothing was decided. Ask one of them, or the operator to add you.`,
    );
  }
  if (click.approved && !rules.allowSelfApproval) {
    const card = await deps.store.getRef(CARD_REF, `${execution.id}/${value.s}/${value.a}/${value.n}`);
    const own =
      card?.refused?.find((r) => r.user === click.user) ??
      ((await deps.people.authorOf(execution.revision)) === click.user ? { did: 'wrote this change' } : undefined);
    if (own) {
      return refuse(
        `they ${own.did}, so someone else must approve it`,
        `You ${own.did} (\`${execution.revision.sha.slice(0, 7)}\`), and *${environment}* needs someone else to approve it; nothing was decided. You may still reject it.`,
      );
    }
  }

  try {
    await deps.runner.dispatch(
      execution.pipelineId,
      {
        type: 'approval_decided',
        executionId: execution.id,
        stage: value.s,
        action: value.a,
        attempt: value.n,
        approved: click.approved,
        by: `slack:${click.user}`,
      },
      `slack:${click.user}`,
    );
    return { ok: true };
  } catch (error) {
    if (!(error instanceof EngineError) || error.code !== 'GATE_CLOSED') throw error;
    const now = await deps.store.getExecution(execution.id);
    const decision = now ? decisionOf(now, value.s, value.a) : undefined;
    const what = decision?.reason ? mentionActors(escapeText(decision.reason)) : (decision?.state ?? 'closed');
    return { ok: false, text: `Nothing changed: this approval is already closed (${what}).` };
  }
}

function parseValue(text: string): ApprovalButtonValue | undefined {
  try {
    const value = JSON.parse(text) as Partial<ApprovalButtonValue>;
    const ok =
      typeof value.e === 'string' &&
      typeof value.s === 'string' &&
      typeof value.a === 'string' &&
      Number.isInteger(value.n) &&
      typeof value.sha === 'string';
    return ok && (value.d === undefined || typeof value.d === 'string') ? (value as ApprovalButtonValue) : undefined;
  } catch {
    return undefined;
  }
}
