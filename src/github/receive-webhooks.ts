/**
 * Probot's webhook middleware at `/api/github/webhooks`: it checks the
 * signature (a bad one is refused and nothing is stored); Sluice's one
 * handler stores the delivery, de-duplicated by its id, and GitHub gets its
 * reply once it is on disk (PRODUCT G1). Handling happens from the store.
 */
import { createNodeMiddleware, type Probot } from 'probot';
import type { Store } from '../store/store.ts';
import type { RouteHandler } from '../web/create-http-server.ts';

export const WEBHOOK_PATH = '/api/github/webhooks';

export async function receiveWebhooks(probot: Probot, store: Store, stored: () => void, clock: () => number = Date.now): Promise<RouteHandler> {
  const middleware = await createNodeMiddleware(
    (app) => {
      app.onAny(async (event) => {
        const isNew = await store.recordDelivery({ id: event.id, event: event.name, payload: JSON.stringify(event.payload), receivedAt: clock() });
        if (isNew) stored();
      });
    },
    { probot, webhooksPath: WEBHOOK_PATH },
  );
  return async (req, res) => (await middleware(req, res)) === true;
}
