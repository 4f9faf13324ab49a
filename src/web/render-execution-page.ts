/**
 * The read-only page of one execution: its stages and actions with their
 * state, and each action's full log. Pure: HTML from what the store holds.
 */
import type { ExecutionSummary, LogLine } from '../store/store.ts';

export function renderExecutionPage(execution: ExecutionSummary, logs: Map<string, readonly LogLine[]>): string {
  const title = `${execution.repo} #${execution.seq}`;
  const stages = execution.stages
    .map((stage) => {
      const actions = stage.actions
        .map((action) => {
          const lines = logs.get(`${stage.name}/${action.name}`) ?? [];
          const log = lines.map((l) => `<span class="${l.stream}">${escapeHtml(l.text)}</span>`).join('\n');
          return `<section class="action"><h3>${escapeHtml(action.name)} <span class="status ${action.status}">${action.status.replace('_', ' ')}</span></h3>${
            action.reason ? `<p>${escapeHtml(action.reason)}</p>` : ''
          }<pre>${log || '<i>no output</i>'}</pre></section>`;
        })
        .join('\n');
      return `<section class="stage" id="stage-${escapeHtml(stage.name)}"><h2>${escapeHtml(stage.name)} <span class="status ${stage.status}">${stage.status}</span></h2>${actions}</section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Sluice</title>
<meta name="referrer" content="no-referrer">
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:2rem;max-width:72rem}
pre{background:#111;color:#ddd;padding:.75rem;overflow:auto;max-height:40rem}
.stderr{color:#f99}.sluice{color:#8cf}
.status{font-size:.8em;padding:.1em .5em;border-radius:.5em;background:#eee}
.succeeded{background:#cfc}.failed,.interrupted{background:#fcc}.running,.awaiting_approval{background:#ffc}
</style></head><body>
<h1>${escapeHtml(title)} <span class="status ${execution.status}">${execution.status}</span></h1>
<p>Commit <code>${escapeHtml(execution.revision.sha)}</code>${execution.revision.ref ? ` on <code>${escapeHtml(execution.revision.ref)}</code>` : ''}; ${escapeHtml(execution.trigger)}.${
    execution.reason ? ` ${escapeHtml(execution.reason)}.` : ''
  }</p>
${stages}
</body></html>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
