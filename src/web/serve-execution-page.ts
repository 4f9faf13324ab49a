/**
 * GET /executions/<id>?sig=… — the execution's page — and
 * GET /executions/<id>/events?sig=… — its live updates as server-sent
 * events, for holders of a signed link. The stream reads the store when
 * this process stores a line or a state change of the execution (and, with
 * replicas, every `pollMs`, for what another one stored): the execution,
 * and of each log only the lines after the cursor, by the index, so a read
 * costs the same at the first line and the millionth, and an idle stream
 * reads nothing. A page that stops taking in what is sent is sent nothing
 * more (nor is more read for it) until it has. It ends once the execution
 * is over and every line was sent.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecutionNews } from '../store/announce-changes.ts';
import type { ExecutionStore, LogStore, ActionRef, ExecutionSummary, NumberedLogLine } from '../store/store.ts';
import { cursorOf, decodeCursor, encodeCursor, stateEvent } from './execution-events.ts';
import type { PageLinks } from './page-links.ts';
import { renderExecutionPage } from './render-execution-page.ts';

export interface PageRoutes {
  store: ExecutionStore & LogStore;
  links: PageLinks;
  /** Wakes an event stream when this process stores a line or a change of its execution. */
  news: ExecutionNews;
  /**
   * How often an event stream also looks for news another process stored
   * (replicas on one PostgreSQL); none: only this process writes the store.
   */
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
  /** False when the page has not taken in what was sent before: wait for `drained` before sending more. */
  const send = (event: string, data: unknown): boolean =>
    res.write(`event: ${event}\nid: ${encodeCursor(cursor)}\ndata: ${JSON.stringify(data)}\n\n`);
  // A page that reads slowly (a tab in the background) or not at all is sent no more than it takes in:
  // the log is read on only once it has, so the server holds one event for it, not its whole log.
  const drained = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  // Woken by this process's writes; what other replicas write is found by the slow poll, if there is one.
  let woken = false;
  let reading = false;
  const wake = () => {
    woken = true;
    if (!reading && !closed) void readNews();
  };
  const unfollow = routes.news.follow(first.id, wake);
  const poll = routes.pollMs === undefined ? undefined : setInterval(wake, routes.pollMs);
  // A comment now and then keeps proxies from closing a quiet stream; it costs no read.
  const heartbeat = setInterval(() => res.write(': still here\n\n'), HEARTBEAT_MS);
  const stop = () => {
    closed = true;
    unfollow();
    clearInterval(poll);
    clearInterval(heartbeat);
  };
  req.on('close', stop);
  res.on('close', stop);
  const end = () => {
    stop();
    res.end();
  };

  /** Sends what is new in `execution`; false once there will be nothing more. */
  const tick = async (execution: ExecutionSummary | undefined): Promise<boolean> => {
    if (!execution) return false;
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
          if (closed) return false;
          count += chunk.length;
          cursor[key] = [attempt, count, chunk.at(-1)!.seq];
          if (!send('log', { key, attempt, lines: chunk.map((l) => ({ stream: l.stream, text: l.text })) }))
            await drained();
          if (closed) return false;
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
      return false;
    }
    return true;
  };
  /** Reads until no wake-up came in meanwhile: news that arrives during a read is read right after it. */
  const readNews = async () => {
    reading = true;
    try {
      while (woken && !closed) {
        woken = false;
        if (!(await tick(await routes.store.getExecution(first.id)))) return end();
      }
    } catch {
      end();
    } finally {
      reading = false;
    }
  };
  reading = true;
  void tick(first).then(
    (more) => {
      reading = false;
      if (!more) end();
      else if (woken) void readNews();
    },
    () => {
      reading = false;
      end();
    },
  );
}
