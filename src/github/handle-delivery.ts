/**
 * One stored webhook, handled: the installation of its repository is
 * remembered (for reports on executions started elsewhere, such as Slack),
 * then the event goes to its handler. Events Sluice does not use are
 * recorded and left alone.
 */
import type { Delivery } from '../store/store.ts';
import { handleCheckRun, type CheckRunDeps, type CheckRunPayload } from './handle-check-run.ts';
import { handlePush, type PushDeps, type PushPayload } from './handle-push.ts';

export type DeliveryDeps = PushDeps & CheckRunDeps;

export async function handleDelivery(deps: DeliveryDeps, delivery: Delivery): Promise<string> {
  const payload = JSON.parse(delivery.payload) as { installation?: { id?: number }; repository?: { full_name?: string } };
  const installation = payload.installation?.id;
  const repo = payload.repository?.full_name;
  if (typeof installation === 'number' && typeof repo === 'string') {
    await deps.store.putRef('installation', repo, { id: installation }, deps.clock());
  }
  switch (delivery.event) {
    case 'push':
      return handlePush(deps, delivery.id, payload as PushPayload);
    case 'check_run':
      return handleCheckRun(deps, payload as CheckRunPayload);
    default:
      return `${delivery.event} is not an event Sluice acts on`;
  }
}
