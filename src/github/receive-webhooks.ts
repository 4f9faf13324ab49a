/**
 * Probot's webhook middleware at `/api/github/webhooks` (or WEBHOOK_PATH,
 * as in Probot): it checks the signature (a bad one is refused and nothing
 * is stored); Sluice's one handler stores the delivery, de-duplicated by its id, and GitHub gets its
 * reply once it is on disk (PRODUCT G1). Handling happens from the store;
 * an event Sluice does not act on is stored as handled already.
 *
 * Limits guard the middleware. Every request that reaches it has its
 * body read here first, at most 25 MiB within 10 s (read-limited-body): the middleware accepts the path with
 * trailing slashes, a query string and dot segments, so no path test decides
 * which requests are limited. And a delivery not stored within
 * `storeDeadlineMs` is answered 503, before the middleware's own timer would
 * answer 202 ("still processing") to a delivery that may never be stored.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createNodeMiddleware, type Probot } from 'probot';
import { DEFAULT_WEBHOOK_PATH } from '../config/read-settings.ts';
import type { InboxStore, NewDelivery } from '../store/store.ts';
import type { RouteHandler } from '../web/create-http-server.ts';
import { readLimitedBody, refuseBody } from '../web/read-limited-body.ts';
import { DeliveryBatcher } from './delivery-batcher.ts';
import { ACTED_ON_EVENTS, ignoredEventNote } from './handle-delivery.ts';
import { errorMessage, SluiceError } from '../sluice-error.ts';
import { formatDuration } from '../format-duration.ts';

/** GitHub caps webhook payloads at 25 MB; a larger body is not GitHub's, and is not read whole. */
export const MAX_PAYLOAD_BYTES = 25 * 1024 * 1024;

/**
 * How long a delivery may take to be stored. GitHub gives up after 10 s, and
 * Probot's middleware answers 202 after 9 s whether or not the handler is
 * done; this deadline comes first, so the answer is a 503 GitHub shows as
 * failed and lets the operator redeliver.
 */
export const STORE_DEADLINE_MS = 8000;

export interface ReceiveWebhooksOptions {
  /** Where GitHub posts webhooks (WEBHOOK_PATH). */
  path?: string | undefined;
  clock?: () => number;
  storeDeadlineMs?: number;
}

/** Why a delivery was answered 503: the middleware answers with `status`. */
export class DeliveryNotStoredError extends SluiceError<'DELIVERY_NOT_STORED'> {
  readonly status = 503;
  constructor(message: string, options?: { cause?: unknown }) {
    super('DELIVERY_NOT_STORED', message, options);
  }
}

export async function receiveWebhooks(
  probot: Probot,
  store: InboxStore,
  stored: () => void,
  options: ReceiveWebhooksOptions = {},
): Promise<RouteHandler> {
  const webhookPath = options.path ?? DEFAULT_WEBHOOK_PATH;
  const clock = options.clock ?? Date.now;
  const deadlineMs = options.storeDeadlineMs ?? STORE_DEADLINE_MS;
  const batcher = new DeliveryBatcher(store);
  const deadlines = new AsyncLocalStorage<AbortSignal>();
  const middleware = await createNodeMiddleware(
    (app) => {
      app.onAny(async (event) => {
        const acted = ACTED_ON_EVENTS.includes(event.name);
        const delivery: NewDelivery = {
          id: event.id,
          event: event.name,
          payload: JSON.stringify(event.payload),
          receivedAt: clock(),
          ...(!acted && { done: ignoredEventNote(event.name) }),
        };
        await storeInTime(batcher, delivery, deadlines.getStore(), (isNew) => {
          if (isNew && acted) stored();
        });
      });
    },
    { probot, webhooksPath: webhookPath },
  );
  return async (req, res) => {
    // The requests Probot's middleware takes as webhooks, whichever form of the path: the
    // body limit and the storage deadline apply to all of them, and other requests go on.
    if (!isWebhookRequest(req.url ?? '/', webhookPath)) return false;
    const read = await readLimitedBody(req, MAX_PAYLOAD_BYTES);
    if (!read.ok) {
      refuseBody(req, res, read.status, '25 MiB GitHub sends');
      return true;
    }
    // Probot's middleware reads a body already read from here.
    Object.assign(req, { body: read.body.toString('utf8') });
    // Started before the middleware's own 9 s timer, so it fires first.
    const deadline = new AbortController();
    const timer = setTimeout(
      () =>
        deadline.abort(
          new DeliveryNotStoredError(
            `Sluice could not store this delivery within ${formatDuration(deadlineMs)} (its database is slow or unreachable); nothing was acknowledged, so redeliver it.`,
          ),
        ),
      deadlineMs,
    );
    try {
      return (await deadlines.run(deadline.signal, () => middleware(req, res))) === true;
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * Stores one delivery, or throws a `DeliveryNotStoredError` when the store
 * fails or the deadline passes first. A delivery whose write was already
 * under way at the deadline may still be stored after its 503: `onStored`
 * then wakes the inbox, and GitHub's redelivery is de-duplicated by its id.
 */
async function storeInTime(
  batcher: DeliveryBatcher,
  delivery: NewDelivery,
  signal: AbortSignal | undefined,
  onStored: (isNew: boolean) => void,
): Promise<void> {
  const recording = batcher.record(delivery, signal);
  recording.then(onStored, () => {});
  try {
    await (signal ? beforeAbort(recording, signal) : recording);
  } catch (error) {
    if (error instanceof DeliveryNotStoredError) throw error;
    const why = errorMessage(error);
    throw new DeliveryNotStoredError(
      `Sluice could not store this delivery (${why}); nothing was acknowledged, so redeliver it once its database is back.`,
      { cause: error },
    );
  }
}

function beforeAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    promise.then(resolve, reject);
  });
}

/**
 * Whether Probot's middleware (@octokit/webhooks) takes this URL for its
 * webhook path: it strips trailing slashes, resolves the URL (`.`, `..`,
 * the query and fragment go), then compares the path exactly. A URL it
 * cannot parse is its to refuse (422).
 */
export function isWebhookRequest(url: string, webhookPath: string): boolean {
  const trim = (path: string) => path.replace(/\/+$/, '') || '/';
  try {
    return new URL(trim(url), 'http://localhost').pathname === trim(webhookPath);
  } catch {
    return true;
  }
}
