/**
 * GET /executions/<id>?sig=… — the execution's page — and
 * GET /executions/<id>/events?sig=… — its live updates as server-sent
 * events, for holders of a signed link. The stream reads the store (so it
 * follows an action run by any replica) every `pollMs`: the execution, and
 * of each log only the lines after the cursor, by the index, so a poll costs
 * the same at the first line and the millionth. It ends once the execution
 * is over and every line was sent.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecutionStore, LogStore, ActionRef, ExecutionSummary, NumberedLogLine } from '../store/store.ts';
import { cursorOf, decodeCursor, encodeCursor, stateEvent } from './execution-events.ts';
import type { PageLinks } from './page-links.ts';
import { renderExecutionPage } from './render-execution-page.ts';

export interface PageRoutes {
  store: ExecutionStore & LogStore;
  links: PageLinks;
  /** How often the event stream looks for news (default 500 ms). */
  pollMs?: number;
}

const HEARTBEAT_MS = 15_000;
/** Lines per event, so one event stays small. */
const LINES_PER_EVENT = 500;

export async function serveExecutionPage(routes: PageRoutes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sluice.invalid');
  const [id = '', rest] = url.pathname.slice('/executions/'.length).split('/');
  const executionId = decodeURIComponent(id);
  const signature = url.searchParams.get('sig') ?? '';
  // The same answer for a wrong link and an unknown execution: a link tells nothing unless it is real.
  const execution = routes.links.verify(executionId, signature)
    ? await routes.store.getExecution(executionId)
    : undefined;
  if (!execution || execution.id !== executionId || (rest !== undefined && rest !== 'events')) {
    res
      .writeHead(404, { 'content-type': 'text/plain' })
      .end('No such page. Links to executions come from their check runs and Slack cards.\n');
    return;
  }
  if (rest === 'events') return streamEvents(routes, execution, req, res, url);

  const logs = await readLogs(routes.store, execution);
  const nonce = randomBytes(16).toString('base64');
  const live =
    execution.status === 'running'
      ? `${routes.links.eventsPath(execution.id)}&cursor=${encodeCursor(cursorOf(execution, logs))}`
      : undefined;
  res
    .writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; style-src-attr 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    })
    .end(renderExecutionPage({ execution, logs, nonce, ...(live && { eventsUrl: live }) }));
}

async function readLogs(
  store: ExecutionStore & LogStore,
  execution: ExecutionSummary,
): Promise<Map<string, readonly NumberedLogLine[]>> {
  const logs = new Map<string, readonly NumberedLogLine[]>();
  for (const stage of execution.stages) {
    for (const action of stage.actions) {
      const ref = { executionId: execution.id, stage: stage.name, action: action.name, attempt: action.attempt };
      const lines: NumberedLogLine[] = [];
      for await (const page of pagesAfter(store, ref, 0)) lines.push(...page);
      logs.set(`${stage.name}/${action.name}`, lines);
    }
  }
  return logs;
}

/** The lines of `ref` after number `afterSeq`, a page of at most `LINES_PER_EVENT` at a time. */
async function* pagesAfter(
  store: ExecutionStore & LogStore,
  ref: ActionRef,
  afterSeq: number,
): AsyncGenerator<NumberedLogLine[]> {
  for (let after = afterSeq; ;) {
    const page = await store.readLogAfter(ref, after, LINES_PER_EVENT);
    if (page.length > 0) yield page;
    if (page.length < LINES_PER_EVENT) return;
    after = page.at(-1)!.seq;
  }
}

function streamEvents(
  routes: PageRoutes,
  first: ExecutionSummary,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): void {
  const cursor = decodeCursor(
    (req.headers['last-event-id'] as string | undefined) ?? url.searchParams.get('cursor') ?? undefined,
  );
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  });
  res.write('retry: 2000\n\n');
  let lastState = '';
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let lastWrite = Date.now();
  const send = (event: string, data: unknown) => {
    res.write(`event: ${event}\nid: ${encodeCursor(cursor)}\ndata: ${JSON.stringify(data)}\n\n`);
    lastWrite = Date.now();
  };
  const stop = () => {
    closed = true;
    clearTimeout(timer);
  };
  req.on('close', stop);
  res.on('close', stop);

  const tick = async (execution: ExecutionSummary | undefined) => {
    if (closed) return;
    if (!execution) {
      res.end();
      return;
    }
    for (const stage of execution.stages) {
      for (const action of stage.actions) {
        const key = `${stage.name}/${action.name}`;
        const [attempt, had, lastSeq] = cursor[key]?.[0] === action.attempt ? cursor[key] : [action.attempt, 0, 0];
        let count = had;
        for await (const chunk of pagesAfter(
          routes.store,
          { executionId: execution.id, stage: stage.name, action: action.name, attempt },
          lastSeq,
        )) {
          if (closed) return;
          count += chunk.length;
          cursor[key] = [attempt, count, chunk.at(-1)!.seq];
          send('log', { key, attempt, lines: chunk.map((l) => ({ stream: l.stream, text: l.text })) });
        }
        cursor[key] ??= [attempt, count, lastSeq];
      }
    }
    const state = stateEvent(execution);
    const text = JSON.stringify(state);
    if (text !== lastState) {
      lastState = text;
      send('state', state);
    }
    if (execution.status !== 'running') {
      send('done', { status: execution.status });
      res.end();
      return;
    }
    if (Date.now() - lastWrite > HEARTBEAT_MS) {
      res.write(': still here\n\n');
      lastWrite = Date.now();
    }
    timer = setTimeout(() => void next(), routes.pollMs ?? 500);
  };
  const next = () =>
    routes.store.getExecution(first.id).then(tick, () => {
      if (!closed) res.end();
    });
  void tick(first).catch(() => {
    if (!closed) res.end();
  });
}
