/**
 * The read-only page of one execution (PRODUCT R6): the pipeline drawn as
 * stages and arrows, the approval state and who decided, and each action's
 * full log. While the execution runs, a small script follows the page's
 * event stream: log lines are appended as they come and the drawing is
 * replaced when a state changes. Pure: HTML from what the store holds.
 */
import type { ExecutionSummary, LogLine } from '../store/store.ts';
import { escapeHtml } from './escape-html.ts';
import { actionState, renderDiagram } from './pipeline-diagram.ts';
import { findAction } from '../pipeline/definition.ts';
import { isActive, isStoppedShort } from '../pipeline/states.ts';

export interface PageInput {
  execution: ExecutionSummary;
  /** By `stage/action`: the lines of the action's current attempt. */
  logs: Map<string, readonly LogLine[]>;
  /** The page's event stream (signed like the page); absent: no live updates. */
  eventsUrl?: string;
  /** For the inline script and style, allowed by the page's Content-Security-Policy. */
  nonce: string;
}

export function renderExecutionPage(input: PageInput): string {
  const { execution, logs, nonce } = input;
  const title = `${execution.repo} #${execution.seq}`;
  const sections = execution.stages
    .map((stage) => {
      const actions = stage.actions
        .map((action) => {
          const key = `${stage.name}/${action.name}`;
          const kind = findAction(execution.definition, stage.name, action.name)?.kind ?? 'build';
          const lines = logs.get(key) ?? [];
          // A log opens while its action runs or waits for a decision, and once it stopped short.
          const open = isActive(action.status) || isStoppedShort(action.status) ? ' open' : '';
          return `<details class="log" id="log-${escapeHtml(key)}"${open}><summary><b>${escapeHtml(action.name)}</b> <span class="badge ${action.status}" data-badge="${escapeHtml(key)}">${escapeHtml(actionState(action, kind))}</span>${
            action.attempt > 1 ? ` <small>attempt ${action.attempt}</small>` : ''
          }</summary><pre data-log="${escapeHtml(key)}" data-attempt="${action.attempt}">${lines.map(renderLine).join('')}</pre></details>`;
        })
        .join('\n');
      return `<section class="stage" id="stage-${escapeHtml(stage.name)}"><h2>${escapeHtml(stage.name)} <span class="badge ${stage.status}" data-badge="${escapeHtml(stage.name)}">${stage.status}</span></h2>${actions}</section>`;
    })
    .join('\n');
  const ref = execution.revision.ref ? ` on <code>${escapeHtml(execution.revision.ref)}</code>` : '';
  const subject = (execution.revision.message ?? '').split('\n')[0] ?? '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Sluice</title>
<meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width">
<style nonce="${nonce}">${STYLE}</style></head><body${input.eventsUrl ? ` data-events="${escapeHtml(input.eventsUrl)}"` : ''}>
<header><h1>${escapeHtml(title)} <span class="badge ${execution.status}" id="execution-status">${execution.status}</span></h1>
<p>Commit <code>${escapeHtml(execution.revision.sha.slice(0, 12))}</code>${ref}${subject ? ` — ${escapeHtml(subject)}` : ''}${execution.revision.author ? ` by ${escapeHtml(execution.revision.author)}` : ''}. Started by ${escapeHtml(execution.trigger)}.</p>
<p id="execution-reason">${execution.reason ? escapeHtml(execution.reason) : ''}</p></header>
<div id="diagram">${renderDiagram(execution)}</div>
${sections}
${input.eventsUrl ? `<script nonce="${nonce}">${SCRIPT}</script>` : ''}
</body></html>`;
}

export function renderLine(line: Pick<LogLine, 'stream' | 'text'>): string {
  return `<span class="${line.stream}">${escapeHtml(line.text)}\n</span>`;
}

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:1.5rem 2rem;color:#1b1f24}
h1{font-size:1.4rem;margin:0 0 .3rem}h2{font-size:1.1rem;margin:1.5rem 0 .4rem}
code{font-size:.9em}
.diagram{position:relative;margin:1.5rem 0 1rem}
.diagram svg{position:absolute;left:0;top:0;overflow:visible}
.arrow{fill:none;stroke:#8a949e;stroke-width:2}.arrow.done{stroke:#2da44e}
#head path{fill:#8a949e}#head-done path{fill:#2da44e}
.box{position:absolute;box-sizing:border-box;border:2px solid #d0d7de;border-radius:8px;background:#f6f8fa;overflow:hidden}
.box .head{padding:.45rem .6rem;border-bottom:1px solid #d0d7de;white-space:nowrap}
.box ul{list-style:none;margin:0;padding:.25rem .6rem}
.box li{height:26px;line-height:26px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.box .state{color:#57606a;font-size:.85em}
.box.succeeded{border-color:#2da44e;background:#f0fff4}.box.failed,.box.interrupted{border-color:#cf222e;background:#fff5f5}
.box.running{border-color:#bf8700;background:#fffbea}.box.waiting{border-color:#0969da}
.action.succeeded .icon{color:#2da44e}.action.failed .icon,.action.interrupted .icon{color:#cf222e}
.action.running .icon,.action.awaiting_approval .icon{color:#bf8700}
.badge{font-size:.75em;padding:.1em .5em;border-radius:1em;background:#eaeef2;font-weight:normal}
.badge.succeeded{background:#dafbe1}.badge.failed,.badge.interrupted{background:#ffebe9}
.badge.running,.badge.awaiting_approval{background:#fff8c5}
details.log{margin:.3rem 0}summary{cursor:pointer}
pre{background:#0d1117;color:#c9d1d9;padding:.6rem .8rem;overflow:auto;max-height:36rem;margin:.3rem 0;font-size:13px}
pre:empty::before{content:"no output";color:#6e7681;font-style:italic}
.stderr{color:#ff7b72}.sluice{color:#79c0ff}
`;

/** Follows the event stream: appends log lines, swaps the drawing and badges on a state change. */
const SCRIPT = `
(() => {
  const url = document.body.dataset.events;
  if (!url || !window.EventSource) return;
  const events = new EventSource(url);
  const byData = (name, key) => [...document.querySelectorAll('[data-' + name + ']')].find((e) => e.dataset[name] === key);
  events.addEventListener('log', (event) => {
    const data = JSON.parse(event.data);
    const pre = byData('log', data.key);
    if (!pre) return;
    if (pre.dataset.attempt !== String(data.attempt)) { pre.textContent = ''; pre.dataset.attempt = String(data.attempt); }
    const follow = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    for (const line of data.lines) {
      const span = document.createElement('span');
      span.className = line.stream;
      span.textContent = line.text + '\\n';
      pre.append(span);
    }
    if (follow) pre.scrollTop = pre.scrollHeight;
  });
  events.addEventListener('state', (event) => {
    const data = JSON.parse(event.data);
    document.getElementById('diagram').innerHTML = data.diagram;
    const status = document.getElementById('execution-status');
    status.textContent = data.status;
    status.className = 'badge ' + data.status;
    document.getElementById('execution-reason').textContent = data.reason || '';
    for (const [key, badge] of Object.entries(data.badges)) {
      const element = byData('badge', key);
      if (element) { element.textContent = badge.text; element.className = 'badge ' + badge.status; }
    }
  });
  events.addEventListener('done', () => events.close());
})();
`;
