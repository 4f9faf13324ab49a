/**
 * What the page's event stream sends (pure): the log lines an action wrote
 * since the cursor, and the execution's state as the page shows it. The
 * cursor says, per action, which attempt, how many of its lines the reader
 * has and the store's number of the last one, so the stream reads only the
 * lines after it; it travels as the events' `id`, so a reconnecting browser
 * (`Last-Event-ID`) picks up where it left off.
 */
import type { ExecutionSummary, NumberedLogLine } from '../store/store.ts';
import { actionState, renderDiagram } from './pipeline-diagram.ts';
import { findAction } from '../pipeline/definition.ts';

/** By `stage/action`: [attempt, lines the reader has, the store's number of the last of them (0: none)]. */
export type Cursor = Record<string, [number, number, number]>;

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodeCursor(text: string | undefined): Cursor {
  if (!text) return {};
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
    const cursor: Cursor = {};
    for (const [key, pair] of Object.entries(value)) {
      if (Array.isArray(pair) && pair.length === 3 && pair.every((n) => Number.isInteger(n) && n >= 0))
        cursor[key] = [pair[0], pair[1], pair[2]];
    }
    return cursor;
  } catch {
    return {};
  }
}

/** The cursor of a page rendered with these logs. */
export function cursorOf(execution: ExecutionSummary, logs: Map<string, readonly NumberedLogLine[]>): Cursor {
  const cursor: Cursor = {};
  for (const stage of execution.stages) {
    for (const action of stage.actions) {
      const key = `${stage.name}/${action.name}`;
      const lines = logs.get(key) ?? [];
      cursor[key] = [action.attempt, lines.length, lines.at(-1)?.seq ?? 0];
    }
  }
  return cursor;
}

export interface StateEvent {
  status: string;
  reason: string;
  diagram: string;
  /** By stage name or `stage/action`: what its badge says. */
  badges: Record<string, { status: string; text: string }>;
}

export function stateEvent(execution: ExecutionSummary): StateEvent {
  const badges: StateEvent['badges'] = {};
  for (const stage of execution.stages) {
    badges[stage.name] = { status: stage.status, text: stage.status };
    for (const action of stage.actions) {
      const kind = findAction(execution.definition, stage.name, action.name)?.kind ?? 'build';
      badges[`${stage.name}/${action.name}`] = { status: action.status, text: actionState(action, kind) };
    }
  }
  return { status: execution.status, reason: execution.reason ?? '', diagram: renderDiagram(execution), badges };
}
