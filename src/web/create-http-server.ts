/**
 * The one HTTP server of Sluice. GitHub webhooks (`/api/github/*`) and Slack
 * (`/slack/*`) mount here as they arrive; today it answers health checks.
 */
import { createServer, type Server } from 'node:http';

export function createHttpServer(): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://sluice.invalid').pathname;
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
  });
}
