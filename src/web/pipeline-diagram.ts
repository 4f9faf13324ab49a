/**
 * The pipeline drawn as the seed's pipeline view draws it (PRODUCT R6):
 * stages as boxes in columns by their place in the graph (a stage stands
 * right of every stage it needs), arrows from each stage to those that need
 * it, and in each box the stage's actions with their state. Pure: a fixed
 * layout computed here, HTML boxes over an SVG of arrows.
 */
import { type ExecutionSummary, findStageSummary } from '../store/store.ts';
import { escapeHtml } from './escape-html.ts';
import { findAction, findStage } from '../pipeline/definition.ts';

const BOX_WIDTH = 250;
const COLUMN_GAP = 70;
const ROW_GAP = 24;
const HEADER = 40;
const ACTION_ROW = 26;
const PADDING = 10;

export interface Box {
  stage: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Layout {
  boxes: Box[];
  arrows: Array<{ from: string; to: string; path: string }>;
  width: number;
  height: number;
}

/** Columns by depth in the `needs` graph, boxes stacked in each column in file order. */
export function layoutPipeline(execution: ExecutionSummary): Layout {
  const stages = execution.definition.stages;
  const depth = new Map<string, number>();
  const depthOf = (name: string, seen: Set<string> = new Set()): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) return 0; // a cycle cannot pass validation; draw it flat rather than loop
    seen.add(name);
    const needs = findStage(execution.definition, name)?.needs ?? [];
    const d = needs.length === 0 ? 0 : 1 + Math.max(...needs.map((n) => depthOf(n, seen)));
    depth.set(name, d);
    return d;
  };
  const columnHeights: number[] = [];
  const boxes: Box[] = stages.map((stage) => {
    const column = depthOf(stage.name);
    const height = HEADER + ACTION_ROW * stage.actions.length + PADDING;
    const y = columnHeights[column] ?? 0;
    columnHeights[column] = y + height + ROW_GAP;
    return { stage: stage.name, x: column * (BOX_WIDTH + COLUMN_GAP), y, width: BOX_WIDTH, height };
  });
  const byName = new Map(boxes.map((b) => [b.stage, b]));
  const arrows = stages.flatMap((stage) =>
    stage.needs.flatMap((need) => {
      const from = byName.get(need);
      const to = byName.get(stage.name);
      if (!from || !to) return [];
      const [x1, y1, x2, y2] = [from.x + from.width, from.y + HEADER / 2, to.x - 6, to.y + HEADER / 2];
      const bend = (x2 - x1) / 2;
      return [{ from: need, to: stage.name, path: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}` }];
    }),
  );
  const width = Math.max(...boxes.map((b) => b.x + b.width), 0);
  const height = Math.max(...boxes.map((b) => b.y + b.height), 0);
  return { boxes, arrows, width, height };
}

const ICON: Record<string, string> = {
  pending: '·',
  waiting: '⏳',
  running: '▶',
  awaiting_approval: '⏸',
  succeeded: '✓',
  failed: '✗',
  interrupted: '⚠',
  superseded: '⏭',
  cancelled: '⊘',
};

/** How an action's state reads in a box: `waiting for approval`, `approved by slack:U1`. */
export function actionState(action: { status: string; reason?: string }, kind: string): string {
  if (action.status === 'awaiting_approval') return 'waiting for approval';
  if (kind === 'approval' && action.reason) return action.reason;
  return action.status;
}

export function renderDiagram(execution: ExecutionSummary): string {
  const layout = layoutPipeline(execution);
  const arrows = layout.arrows
    .map((a) => {
      const done = findStageSummary(execution, a.from)?.status === 'succeeded';
      return `<path class="arrow${done ? ' done' : ''}" d="${a.path}" marker-end="url(#${done ? 'head-done' : 'head'})" data-from="${escapeHtml(a.from)}" data-to="${escapeHtml(a.to)}"/>`;
    })
    .join('');
  const boxes = layout.boxes
    .map((box) => {
      const stage = findStageSummary(execution, box.stage);
      const status = stage?.status ?? 'pending';
      const actions = (stage?.actions ?? [])
        .map((action) => {
          const kind = findAction(execution.definition, box.stage, action.name)?.kind ?? 'build';
          const state = actionState(action, kind);
          return `<li class="action ${action.status}" data-action="${escapeHtml(action.name)}" title="${escapeHtml(`${action.name}: ${action.reason ?? state}`)}"><span class="icon">${ICON[action.status] ?? '·'}</span> <a href="#log-${escapeHtml(`${box.stage}/${action.name}`)}">${escapeHtml(action.name)}</a> <span class="state">${escapeHtml(state)}</span></li>`;
        })
        .join('');
      const style = `left:${box.x}px;top:${box.y}px;width:${box.width}px;height:${box.height}px`;
      return `<div class="box ${status}" data-stage="${escapeHtml(box.stage)}" data-status="${status}" style="${style}"><div class="head"><span class="icon">${ICON[status] ?? '·'}</span> <b>${escapeHtml(box.stage)}</b> <span class="state">${status}</span></div><ul>${actions}</ul></div>`;
    })
    .join('');
  return `<div class="diagram" style="width:${layout.width}px;height:${layout.height}px"><svg width="${layout.width}" height="${layout.height}" aria-hidden="true"><defs>${['head', 'head-done'].map((id) => `<marker id="${id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker>`).join('')}</defs>${arrows}</svg>${boxes}</div>`;
}
