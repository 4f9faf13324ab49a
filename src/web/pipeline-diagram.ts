/**
 * The pipeline drawn as the seed's pipeline view draws it (PRODUCT R6):
 * stages as boxes in columns by their place in the graph (a stage stands
 * right of every stage it needs), arrows from each stage to those that need
 * it, and in each box the stage's actions with their state. Pure: a fixed
 * layout computed here, HTML boxes over an SVG of arrows.
 */
import { type ActionSummary, type ExecutionSummary, findStageSummary } from '../store/store.ts';
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

/** The two arrow heads: grey, and green for an arrow out of a stage that succeeded. */
const ARROW_HEADS = ['head', 'head-done']
  .map(
    (id) =>
      `<marker id="${id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" ` +
      `orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker>`,
  )
  .join('');

/** An arrow between two boxes; `done` once the stage it leaves has succeeded. */
function arrowPath(arrow: Layout['arrows'][number], done: boolean): string {
  const ends = `data-from="${escapeHtml(arrow.from)}" data-to="${escapeHtml(arrow.to)}"`;
  const head = `url(#${done ? 'head-done' : 'head'})`;
  return `<path class="arrow${done ? ' done' : ''}" d="${arrow.path}" marker-end="${head}" ${ends}/>`;
}

/** An action's line in its stage's box: icon, a link to its log, and its state. */
function actionItem(stage: string, action: ActionSummary, kind: string): string {
  const state = actionState(action, kind);
  const title = escapeHtml(`${action.name}: ${action.reason ?? state}`);
  const icon = `<span class="icon">${ICON[action.status] ?? '·'}</span>`;
  const link = `<a href="#log-${escapeHtml(`${stage}/${action.name}`)}">${escapeHtml(action.name)}</a>`;
  const attributes = `class="action ${action.status}" data-action="${escapeHtml(action.name)}" title="${title}"`;
  return `<li ${attributes}>${icon} ${link} <span class="state">${escapeHtml(state)}</span></li>`;
}

/** A stage's box at its place in the layout, its actions' lines inside. */
function stageBox(box: Box, status: string, actions: string): string {
  const style = `left:${box.x}px;top:${box.y}px;width:${box.width}px;height:${box.height}px`;
  const name = escapeHtml(box.stage);
  const attributes = `class="box ${status}" data-stage="${name}" data-status="${status}" style="${style}"`;
  const head = `<span class="icon">${ICON[status] ?? '·'}</span> <b>${name}</b> <span class="state">${status}</span>`;
  return `<div ${attributes}><div class="head">${head}</div><ul>${actions}</ul></div>`;
}

export function renderDiagram(execution: ExecutionSummary): string {
  const layout = layoutPipeline(execution);
  const arrows = layout.arrows
    .map((a) => arrowPath(a, findStageSummary(execution, a.from)?.status === 'succeeded'))
    .join('');
  const boxes = layout.boxes
    .map((box) => {
      const stage = findStageSummary(execution, box.stage);
      const actions = (stage?.actions ?? [])
        .map((action) =>
          actionItem(box.stage, action, findAction(execution.definition, box.stage, action.name)?.kind ?? 'build'),
        )
        .join('');
      return stageBox(box, stage?.status ?? 'pending', actions);
    })
    .join('');
  const { width, height } = layout;
  const svg = `<svg width="${width}" height="${height}" aria-hidden="true"><defs>${ARROW_HEADS}</defs>${arrows}</svg>`;
  return `<div class="diagram" style="width:${width}px;height:${height}px">${svg}${boxes}</div>`;
}
