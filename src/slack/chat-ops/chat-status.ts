/**
 * `/sluice status`: one line per pipeline (its newest execution), the
 * environments that are locked, or one repository's latest executions stage
 * by stage. Pure: it formats what the caller loaded.
 */
import { isBroken } from '../../pipeline/states.ts';
import type { ExecutionSummary, LockState } from '../../store/store.ts';
import { escapeText, mentionActors } from '../slack-text.ts';

const ICON: Record<string, string> = {
  succeeded: '✅',
  failed: '❌',
  interrupted: '⚠️',
  cancelled: '⊘',
  superseded: '⏭',
  running: '▶️',
  waiting: '⏳',
  pending: '·',
};

/** What an execution is doing, in a few words: `waiting for approval in production`, `failed in build`. */
export function executionState(execution: ExecutionSummary): string {
  if (execution.status === 'running') {
    const gate = execution.stages.find((s) => s.actions.some((a) => a.status === 'awaiting_approval'));
    if (gate) return `⏸ waiting for approval in ${escapeText(gate.name)}`;
    const running = execution.stages.filter((s) => s.status === 'running').map((s) => escapeText(s.name));
    if (running.length > 0) return `▶️ running ${running.join(', ')}`;
    const waiting = execution.stages.find((s) => s.status === 'waiting');
    if (waiting)
      return `⏳ waiting to enter ${escapeText(waiting.name)}${waiting.reason ? ` (${escapeText(waiting.reason)})` : ''}`;
    const failed = execution.stages.find((s) => isBroken(s.status));
    if (failed) return `❌ ${failed.status} in ${escapeText(failed.name)}`;
    return '▶️ running';
  }
  const failed = execution.stages.find((s) => isBroken(s.status));
  return `${ICON[execution.status] ?? ''} ${execution.status}${failed ? ` in ${escapeText(failed.name)}` : ''}`;
}

function headline(execution: ExecutionSummary, pageUrl: string): string {
  const ref = execution.revision.ref ? ` ${escapeText(execution.revision.ref)}` : '';
  return `<${pageUrl}|#${execution.seq}> \`${execution.revision.sha.slice(0, 7)}\`${ref}`;
}

export function overviewText(newest: ExecutionSummary[], locks: LockState[], pageUrl: (id: string) => string): string {
  const lines = newest.map((e) => `*${escapeText(e.repo)}* ${headline(e, pageUrl(e.id))} — ${executionState(e)}`);
  for (const lock of locks)
    lines.push(
      `🔒 *${lock.name.replace(/^environment:/, '')}* is locked by ${mentionActors(escapeText(lock.owner))}: ${escapeText(lock.reason)}`,
    );
  return lines.length > 0
    ? lines.join('\n')
    : 'Sluice has run no pipeline yet. Push to a repository with the GitHub App installed, or `/sluice run <repo>`.';
}

export function repoText(repo: string, executions: ExecutionSummary[], pageUrl: (id: string) => string): string {
  if (executions.length === 0) return `*${escapeText(repo)}* has no executions yet.`;
  const lines = executions.map((e) => {
    const stages = e.stages
      .map(
        (s) =>
          `${escapeText(s.name)} ${s.actions.some((a) => a.status === 'awaiting_approval') ? '⏸' : (ICON[s.status] ?? s.status)}`,
      )
      .join(' · ');
    return `${headline(e, pageUrl(e.id))} — ${executionState(e)}\n      ${stages}`;
  });
  return [`*${escapeText(repo)}*`, ...lines].join('\n');
}
