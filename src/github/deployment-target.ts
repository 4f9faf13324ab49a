/**
 * Which status a deploy action's GitHub Deployment should have now, from
 * the execution as the store holds it. Pure: the reporter sends it.

 */
import type { ExecutionSummary } from '../store/store.ts';

export type DeploymentState = 'queued' | 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

export interface DeploymentTarget {
  state: DeploymentState;
  /** Why, when the action's own reason does not say it. */
  description?: string;
}

/** `created`: the Deployment exists on GitHub already. Undefined: nothing to report (yet). */
export function deploymentTarget(execution: ExecutionSummary, stageName: string, actionName: string, created: boolean): DeploymentTarget | undefined {
  const stage = execution.stages.find((s) => s.name === stageName);
  const action = stage?.actions.find((a) => a.name === actionName);
  if (!stage || !action) return undefined;
  const withReason = (state: DeploymentState): DeploymentTarget => ({ state, ...(action.reason && { description: action.reason }) });
  switch (action.status) {
    case 'pending':
      return stage.status === 'running' ? { state: 'queued' } : undefined;
    case 'running':
      return withReason('in_progress');
    case 'succeeded':
      return withReason('success');
    case 'failed':
      return withReason('failure');
    case 'interrupted':
    case 'cancelled':
    case 'superseded':
      return created ? withReason('error') : undefined;
    default:
      return undefined;
  }
}
