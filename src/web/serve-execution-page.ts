/** GET /executions/<id>?sig=… — the execution's page, for holders of a signed link. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LogLine, Store } from '../store/store.ts';
import type { PageLinks } from './page-links.ts';
import { renderExecutionPage } from './render-execution-page.ts';

export async function serveExecutionPage(store: Store, links: PageLinks, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sluice.invalid');
  const id = decodeURIComponent(url.pathname.slice('/executions/'.length));
  const signature = url.searchParams.get('sig') ?? '';
  // The same answer for a wrong link and an unknown execution: a link tells nothing unless it is real.
  const execution = links.verify(id, signature) ? await store.getExecution(id) : undefined;
  if (!execution || execution.id !== id) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('No such page. Links to executions come from their check runs and Slack cards.\n');
    return;
  }
  const logs = new Map<string, readonly LogLine[]>();
  for (const stage of execution.stages) {
    for (const action of stage.actions) {
      logs.set(`${stage.name}/${action.name}`, await store.readLog({ executionId: id, stage: stage.name, action: action.name, attempt: action.attempt }));
    }
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-frame-options': 'DENY' }).end(renderExecutionPage(execution, logs));
}
