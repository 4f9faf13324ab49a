/**
 * `GET /metrics` for Prometheus. Metrics name repositories and environments,
 * so they are off until the operator sets `SLUICE_METRICS_TOKEN`, and then
 * answered only to a scraper that sends it as a bearer token (Prometheus's
 * `authorization: { credentials: … }`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SluiceMetrics } from './sluice-metrics.ts';

export function serveMetrics(metrics: SluiceMetrics | undefined, token: string | undefined) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = new URL(req.url ?? '/', 'http://sluice.invalid').pathname;
    if (path !== '/metrics') return false;
    if (!metrics || !token) {
      res
        .writeHead(404, { 'content-type': 'text/plain' })
        .end(
          'Metrics are off: set SLUICE_METRICS_TOKEN and give Prometheus that token (authorization: { credentials: … }).\n',
        );
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('GET /metrics\n');
      return true;
    }
    if (!sameToken(/^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1], token)) {
      res
        .writeHead(401, { 'www-authenticate': 'Bearer realm="sluice metrics"', 'content-type': 'text/plain' })
        .end('Send the metrics token as "Authorization: Bearer <SLUICE_METRICS_TOKEN>".\n');
      return true;
    }
    const { contentType, body } = await metrics.render();
    res
      .writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' })
      .end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}

/** Compared as digests, so neither the length nor the bytes of the token leak through timing. */
function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}
