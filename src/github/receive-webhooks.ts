/**
 * Probot's webhook middleware at `/api/github/webhooks` (or WEBHOOK_PATH,
 * as in Probot): it checks the signature (a bad one is refused and nothing
 * is stored); Sluice's one handler stores the delivery, de-duplicated by its id, and GitHub gets its
 * reply once it is on disk (PRODUCT G1). Handling happens from the store;
 * an event Sluice does not act on is stored as handled already.
 */
import type { IncomingMessage } from 'node:http';
import { createNodeMiddleware, type Probot } from 'probot';
import { DEFAULT_WEBHOOK_PATH } from '../config/read-settings.ts';
import type { Store } from '../store/store.ts';
import type { RouteHandler } from '../web/create-http-server.ts';
import { DeliveryBatcher } from './delivery-batcher.ts';
import { ACTED_ON_EVENTS, ignoredEventNote } from './handle-delivery.ts';

/** GitHub caps webhook payloads at 25 MB; a larger body is not GitHub's, and is not read whole. */
export const MAX_PAYLOAD_BYTES = 25 * 1024 * 1024;

export async function receiveWebhooks(
  probot: Probot,
  store: Store,
  stored: () => void,
  options: { path?: string | undefined; clock?: () => number } = {},
): Promise<RouteHandler> {
  const webhookPath = options.path ?? DEFAULT_WEBHOOK_PATH;
  const clock = options.clock ?? Date.now;
  const batcher = new DeliveryBatcher(store);
  const middleware = await createNodeMiddleware(
    (app) => {
      app.onAny(async (event) => {
        const acted = ACTED_ON_EVENTS.includes(event.name);
        const isNew = await batcher.record({
          id: event.id,
          event: event.name,
          payload: JSON.stringify(event.payload),
          receivedAt: clock(),
          ...(!acted && { done: ignoredEventNote(event.name) }),
        });
        if (isNew && acted) stored();
      });
    },
    { probot, webhooksPath: webhookPath },
  );
  return async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://sluice.invalid').pathname;
    if (path === webhookPath && req.method === 'POST') {
      const body = await readLimited(req, MAX_PAYLOAD_BYTES);
      if (body === undefined) {
        res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' }).end('This body is larger than the 25 MiB GitHub sends; nothing was stored.\n');
        req.destroy();
        return true;
      }
      // Probot's middleware reads a body already read from here.
      Object.assign(req, { body });
    }
    return (await middleware(req, res)) === true;
  };
}

/** The request body as text, or undefined as soon as it is longer than `limit` bytes. */
async function readLimited(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
