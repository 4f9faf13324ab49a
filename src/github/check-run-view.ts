/**
 * What a stage's check run says (PRODUCT G2), from the execution as the
 * store holds it. Pure: the reporter decides when to send it.
 */
import { capitalize } from '../capitalize.ts';
import { type ExecutionSummary, findStageSummary, type LogLine } from '../store/store.ts';
import { byteLength, keepHead, keepTail } from './cut-to-bytes.ts';
import { isBroken, isDecided, isStoppedShort } from '../pipeline/states.ts';
import { formatDuration } from '../format-duration.ts';

/** GitHub's limit for a check run's `output.text` and `output.summary`, in bytes of UTF-8. */
export const OUTPUT_LIMIT = 65_535;

/**
 * A title's room: GitHub's reference gives none, but it refuses longer ones
 * as it does annotation titles (255), and a refused title would leave the
 * check run as it was at every smaller try. A title carries a stage's or a
 * cancel's reason, which a person wrote.
 */
export const TITLE_LIMIT = 255;

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

export interface CheckRunViewOptions {
  /** The stage deployed the release its production environment runs now, so a success offers *Roll back*. */
  rollback?: boolean;
  /** Bytes for the summary and for the log text (default GitHub's limit): less when GitHub refused more. */
  outputLimit?: number;
}

export function checkRunView(
  execution: ExecutionSummary,
  stageName: string,
  logs: StageLogs,
  detailsUrl: string,
  options: CheckRunViewOptions = {},
): CheckRunView {
  const stage = findStageSummary(execution, stageName);
  // Cannot happen: check runs are made for the stages of the execution's own definition.
  if (!stage) throw new Error(`Execution #${execution.seq} has no stage "${stageName}".`);
  const started = Math.min(...stage.actions.map((a) => a.startedAt ?? Infinity));
  const finished = Math.max(...stage.actions.map((a) => a.finishedAt ?? -Infinity));
  const sha = execution.revision.sha.slice(0, 7);
  const where = `Execution #${execution.seq} of ${execution.repo}, commit ${sha}${execution.revision.ref ? ` on ${execution.revision.ref}` : ''}.`;
  const actionLines = stage.actions.map((a) => {
    const state = a.status === 'awaiting_approval' ? 'waiting for approval' : a.status;
    const time =
      a.startedAt !== undefined && a.finishedAt !== undefined
        ? ` in ${formatDuration(a.finishedAt - a.startedAt)}`
        : '';
    return `- ${ICON[a.status] ?? '·'} **${a.name}** ${state}${time}${a.reason ? `: ${a.reason}` : ''}`;
  });

  const view: CheckRunView = {
    name: checkRunName(stageName),
    status: 'queued',
    output: { title: '', summary: '' },
    actions: [],
  };
  if (Number.isFinite(started)) view.started_at = new Date(started).toISOString();
  const done = (conclusion: CheckConclusion, title: string) => {
    view.status = 'completed';
    view.conclusion = conclusion;
    view.completed_at = new Date(Number.isFinite(finished) ? finished : execution.updatedAt).toISOString();
    view.output.title = title;
  };
  const executionOver = execution.status !== 'running';
  const retryable = isStoppedShort(execution.status) || execution.status === 'running';

  if (isBroken(stage.status)) {
    const failed = stage.actions.find((a) => isBroken(a.status));
    done('failure', `${stageName} ${stage.status}${failed ? `: ${failed.name}` : ''}`);
    if (retryable)
      view.actions.push({
        label: 'Retry',
        description: 'Run this stage’s failed actions again',
        identifier: 'retry',
      });
  } else if (isDecided(stage.status)) {
    done('cancelled', capitalize(stage.reason ?? execution.reason ?? stage.status));
  } else {
    switch (stage.status) {
      case 'succeeded':
        done('success', `${stageName} succeeded`);
        if (options.rollback)
          view.actions.push({
            label: 'Roll back',
            description: 'Deploy the release before this one',
            identifier: 'rollback',
          });
        break;
      case 'running':
        view.status = 'in_progress';
        view.output.title = stage.actions.some((a) => a.status === 'awaiting_approval')
          ? 'Waiting for approval'
          : `${stageName} is running`;
        break;
      case 'pending':
      case 'waiting':
        if (executionOver) {
          if (isDecided(execution.status))
            done('cancelled', capitalize(execution.reason ?? `execution ${execution.status}`));
          else done('skipped', `Not run: the execution ${execution.status}`);
        } else {
          view.output.title =
            stage.status === 'waiting'
              ? `Waiting to enter ${stageName}${stage.reason ? `: ${stage.reason}` : ''}`
              : 'Queued';
        }
        break;
    }
  }
  view.output.title = cutTitle(view.output.title);
  const summary = [where, '', ...actionLines, '', `[Full log on Sluice](${detailsUrl})`].join('\n');
  const limit = Math.min(options.outputLimit ?? OUTPUT_LIMIT, OUTPUT_LIMIT);
  view.output.summary = cutStart(summary, limit);
  const text = logText(
    stage.actions.map((a) => a.name),
    logs,
    limit,
  );
  if (text) view.output.text = text;
  return view;
}

/**
 * Each action's log tail in a code block, the newest lines kept, within
 * `limit` bytes (GitHub's, unless a refusal asks for less).
 */
export function logText(actions: readonly string[], logs: StageLogs, limit = OUTPUT_LIMIT): string {
  const withLogs = actions.filter((name) => (logs[name]?.length ?? 0) > 0);
  if (withLogs.length === 0) return '';
  // The heading and fences of each block take 14 bytes besides the name; 64 leaves room.
  const share = Math.floor(limit / withLogs.length) - 64;
  return withLogs
    .map((name) => {
      const lines = (logs[name] ?? []).map((l) => l.text.replaceAll('```', "'''")).join('\n');
      return `### ${name}\n\`\`\`\n${cutStart(lines, Math.max(0, share - byteLength(name)))}\n\`\`\``;
    })
    .join('\n');
}

const CUT_MARKER = '… (earlier lines cut; the full log is on Sluice)\n';

/** Keeps the end of `text` within `limit` bytes of UTF-8, saying that the start was cut. */
export function cutStart(text: string, limit: number): string {
  if (byteLength(text) <= limit) return text;
  if (limit < 2 * byteLength(CUT_MARKER)) return keepTail(text, limit);
  let kept = keepTail(text, limit - byteLength(CUT_MARKER));
  // Start at a whole line when one starts near the cut.
  const newline = kept.indexOf('\n');
  if (newline !== -1 && newline < 200) kept = kept.slice(newline + 1);
  return CUT_MARKER + kept;
}

/** At most TITLE_LIMIT bytes, an ellipsis saying where it was cut. */
function cutTitle(title: string): string {
  return byteLength(title) <= TITLE_LIMIT ? title : `${keepHead(title, TITLE_LIMIT - byteLength('…'))}…`;
}
