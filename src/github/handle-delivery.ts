/**
 * One stored webhook, handled: the installation of its repository is
 * remembered (for reports on executions started elsewhere, such as Slack),
 * then the event goes to its handler. Events Sluice does not use are
 * recorded and left alone.
 */
import type { Delivery } from '../store/store.ts';
import { handleCheckRun, type CheckRunDeps } from './handle-check-run.ts';
import { handleCheckSuite, type CheckSuiteDeps } from './handle-check-suite.ts';
import { handlePush, type PushDeps } from './handle-push.ts';
import { readCheckRun, readCheckSuite, readPush } from './webhook-payloads.ts';

export type DeliveryDeps = PushDeps & CheckRunDeps & CheckSuiteDeps;

/** The events Sluice handles; any other is stored as handled already. */
export const ACTED_ON_EVENTS: readonly string[] = ['push', 'check_run', 'check_suite'];

export function ignoredEventNote(event: string): string {
  return `${event} is not an event Sluice acts on`;
}

declare module '../store/ref-store.ts' {
  interface RefKinds {
    /** The GitHub App's installation on a repository, by `<owner>/<repo>`: how Sluice gets a token for it. */
    installation: { id: number };
  }
}

export async function handleDelivery(deps: DeliveryDeps, delivery: Delivery): Promise<string> {
  const payload = JSON.parse(delivery.payload) as {
    installation?: { id?: unknown };
    repository?: { full_name?: unknown };
  } | null;
  if (!payload || typeof payload !== 'object')
    return `not a ${delivery.event} Sluice can read: the payload is not an object`;
  const installation = payload.installation?.id;
  const repo = payload.repository?.full_name;
  // Kept for reports on executions started elsewhere (Slack); only what looks like GitHub's.
  if (typeof installation === 'number' && typeof repo === 'string' && /^[\w.-]+\/[\w.-]+$/.test(repo)) {
    await deps.store.putRef('installation', repo, { id: installation }, deps.clock());
  }
  switch (delivery.event) {
    case 'push': {
      const push = readPush(payload);
      return push.ok ? handlePush(deps, delivery.id, push.payload) : push.why;
    }
    case 'check_run': {
      const checkRun = readCheckRun(payload);
      return checkRun.ok ? handleCheckRun(deps, checkRun.payload) : checkRun.why;
    }
    case 'check_suite': {
      const checkSuite = readCheckSuite(payload);
      return checkSuite.ok ? handleCheckSuite(deps, checkSuite.payload) : checkSuite.why;
    }
    default:
      return ignoredEventNote(delivery.event);
  }
}
