/**
 * The one HTTP server of Sluice: GitHub webhooks (`/api/github/webhooks`, or
 * WEBHOOK_PATH), the GitHub App setup flow while there is no app, execution
 * pages, and health checks, and Slack's requests (`/slack/*`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { serveExecutionPage, type PageRoutes } from './serve-execution-page.ts';

/** A handler that answers the requests it owns and returns true; false leaves the request to others. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface HttpRoutes {
  /** Probot's webhook middleware, when the GitHub App is configured. */
  github?: RouteHandler;
  /** The GitHub App setup flow, when it is not. */
  setup?: RouteHandler;
  pages?: PageRoutes;
  /** Bolt's HTTP receiver, when Slack is configured in HTTP mode. */
  slack?: RouteHandler;
  /** Prometheus metrics at /metrics. */
  metrics?: RouteHandler;
}

/** `onError` hears of a request no handler could answer (default: stderr). */
export function createHttpServer(
  routes: HttpRoutes = {},
  onError: (error: unknown, req: IncomingMessage) => void = (error, req) =>
    console.error('Sluice could not answer', req.method, req.url, error),
): Server {
  return createServer((req, res) => {
    handle(routes, req, res).catch((error: unknown) => {
      onError(error, req);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('Sluice failed to answer this request; its log says why.\n');
    });
  });
}

async function handle(routes: HttpRoutes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://sluice.invalid').pathname;
  if (req.method === 'GET' && path === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  if (routes.metrics && (await routes.metrics(req, res))) return;
  // The webhook path is the operator's (WEBHOOK_PATH): the GitHub route says whether a request is its own.
  if (routes.github && (await routes.github(req, res))) return;
  if (!routes.github && path.startsWith('/api/github/')) {
    res
      .writeHead(503, { 'content-type': 'text/plain' })
      .end(
        'The GitHub App is not configured yet: open this server’s / page to create it, or set APP_ID, PRIVATE_KEY and WEBHOOK_SECRET.\n',
      );
    return;
  }
  if (path.startsWith('/slack/')) {
    if (routes.slack && (await routes.slack(req, res))) return;
    res
      .writeHead(404, { 'content-type': 'text/plain' })
      .end('Slack is not configured here (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET), or it uses Socket Mode.\n');
    return;
  }
  if (routes.pages && req.method === 'GET' && path.startsWith('/executions/')) {
    await serveExecutionPage(routes.pages, req, res);
    return;
  }
  if (routes.setup && (await routes.setup(req, res))) return;
  res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
}
