/**
 * What a stage's check run says (PRODUCT G2), from the execution as the
 * store holds it. Pure: the reporter decides when to send it.
 */
import type { ExecutionSummary, LogLine } from '../store/store.ts';

/** GitHub's limit for a check run's `output.text` and `output.summary`. */
export const OUTPUT_LIMIT = 65_535;

export type CheckStatus = 'queued' | 'in_progress' | 'completed';
export type CheckConclusion = 'success' | 'failure' | 'cancelled' | 'skipped';

export interface CheckRunView {
  name: string;
  status: CheckStatus;
  conclusion?: CheckConclusion;
  started_at?: string;
  completed_at?: string;
  output: { title: string; summary: string; text?: string };
  actions: Array<{ label: string; description: string; identifier: string }>;
}

export interface StageLogs {
  /** By action name: the action's log lines (the current attempt). */
  [action: string]: readonly LogLine[];
}

export function checkRunName(stage: string): string {
  return `Sluice: ${stage}`;
}

const ICON: Record<string, string> = {
  succeeded: '✓',
  failed: '✗',
  interrupted: '✗',
  cancelled: '⊘',
  superseded: '⊘',
  running: '▶',
  awaiting_approval: '⏸',
  pending: '·',
};

/** `rollback`: the stage deployed the release its production environment runs now, so it offers *Roll back*. */
export function checkRunView(execution: ExecutionSummary, stageName: string, logs: StageLogs, detailsUrl: string, options: { rollback?: boolean } = {}): CheckRunView {
  const stage = execution.stages.find((s) => s.name === stageName);
  if (!stage) throw new Error(`Execution #${execution.seq} has no stage "${stageName}".`);
  const started = Math.min(...stage.actions.map((a) => a.startedAt ?? Infinity));
  const finished = Math.max(...stage.actions.map((a) => a.finishedAt ?? -Infinity));
  const sha = execution.revision.sha.slice(0, 7);
  const where = `Execution #${execution.seq} of ${execution.repo}, commit ${sha}${execution.revision.ref ? ` on ${execution.revision.ref}` : ''}.`;
  const actionLines = stage.actions.map((a) => {
    const state = a.status === 'awaiting_approval' ? 'waiting for approval' : a.status;
    const time = a.startedAt !== undefined && a.finishedAt !== undefined ? ` in ${formatDuration(a.finishedAt - a.startedAt)}` : '';
    return `- ${ICON[a.status] ?? '·'} **${a.name}** ${state}${time}${a.reason ? `: ${a.reason}` : ''}`;
  });

  const view: CheckRunView = { name: checkRunName(stageName), status: 'queued', output: { title: '', summary: '' }, actions: [] };
  if (Number.isFinite(started)) view.started_at = new Date(started).toISOString();
  const done = (conclusion: CheckConclusion, title: string) => {
    view.status = 'completed';
    view.conclusion = conclusion;
    view.completed_at = new Date(Number.isFinite(finished) ? finished : execution.updatedAt).toISOString();
    view.output.title = title;
  };
  const executionOver = execution.status !== 'running';
  const retryable = ['failed', 'interrupted', 'cancelled'].includes(execution.status) || execution.status === 'running';

  switch (stage.status) {
    case 'succeeded':
      done('success', `${stageName} succeeded`);
      if (options.rollback) view.actions.push({ label: 'Roll back', description: 'Deploy the release before this one', identifier: 'rollback' });
      break;
    case 'failed':
    case 'interrupted': {
      const failed = stage.actions.find((a) => a.status === 'failed' || a.status === 'interrupted');
      done('failure', `${stageName} ${stage.status}${failed ? `: ${failed.name}` : ''}`);
      if (retryable) view.actions.push({ label: 'Retry', description: 'Run this stage’s failed actions again', identifier: 'retry' });
      break;
    }
    case 'superseded':
    case 'cancelled':
      done('cancelled', capitalize(stage.reason ?? execution.reason ?? stage.status));
      break;
    case 'running':
      view.status = 'in_progress';
      view.output.title = stage.actions.some((a) => a.status === 'awaiting_approval') ? 'Waiting for approval' : `${stageName} is running`;
      break;
    case 'pending':
    case 'waiting':
      if (executionOver) {
        if (execution.status === 'superseded' || execution.status === 'cancelled') done('cancelled', capitalize(execution.reason ?? `execution ${execution.status}`));
        else done('skipped', `Not run: the execution ${execution.status}`);
      } else {
        view.output.title = stage.status === 'waiting' ? `Waiting to enter ${stageName}${stage.reason ? `: ${stage.reason}` : ''}` : 'Queued';
      }
      break;
  }
  const summary = [where, '', ...actionLines, '', `[Full log on Sluice](${detailsUrl})`].join('\n');
  view.output.summary = cutStart(summary, OUTPUT_LIMIT);
  const text = logText(stage.actions.map((a) => a.name), logs);
  if (text) view.output.text = text;
  return view;
}

/** Each action's log tail in a code block, the newest lines kept, within GitHub's limit. */
export function logText(actions: readonly string[], logs: StageLogs): string {
  const withLogs = actions.filter((name) => (logs[name]?.length ?? 0) > 0);
  if (withLogs.length === 0) return '';
  const share = Math.floor(OUTPUT_LIMIT / withLogs.length) - 64;
  return withLogs
    .map((name) => {
      const lines = (logs[name] ?? []).map((l) => l.text.replaceAll('```', "'''")).join('\n');
      return `### ${name}\n\`\`\`\n${cutStart(lines, share - name.length)}\n\`\`\``;
    })
    .join('\n');
}

/** Keeps the end of `text` within `limit` characters, saying that the start was cut. */
export function cutStart(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const marker = '… (earlier lines cut; the full log is on Sluice)\n';
  let kept = text.slice(text.length - (limit - marker.length));
  // Start at a whole line, and never split a surrogate pair.
  const newline = kept.indexOf('\n');
  if (newline !== -1 && newline < 200) kept = kept.slice(newline + 1);
  else if (/^[\uDC00-\uDFFF]/.test(kept)) kept = kept.slice(1);
  return marker + kept;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}
