/**
 * Which status a deploy action's GitHub Deployment should have now, from
 * the execution as the store holds it. Pure: the reporter sends it.
 *
 * Every Deployment ends: one created `queued` when its stage started, whose
 * deploy then never ran (the approval was rejected, expired or superseded,
 * the execution was cancelled, a sibling action failed), becomes `inactive`
 * when someone or something decided against it, or `error` when something
 * broke, with a description of why; otherwise GitHub would show it queued
 * for ever.
 */
import { type ExecutionSummary, findActionSummary, findStageSummary } from '../store/store.ts';
import { hasEnded, isDecided } from '../pipeline/states.ts';
import { findAction } from '../pipeline/definition.ts';

export type DeploymentState = 'queued' | 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

export interface DeploymentTarget {
  state: DeploymentState;
  /** Why, when the action's own reason does not say it. */
  description?: string;
}

/** `created`: the Deployment exists on GitHub already. Undefined: nothing to report (yet). */
export function deploymentTarget(
  execution: ExecutionSummary,
  stageName: string,
  actionName: string,
  created: boolean,
): DeploymentTarget | undefined {
  const stage = findStageSummary(execution, stageName);
  const action = findActionSummary(execution, stageName, actionName);
  if (!stage || !action) return undefined;
  const withReason = (state: DeploymentState): DeploymentTarget => ({
    state,
    ...(action.reason && { description: action.reason }),
  });
  switch (action.status) {
    case 'pending':
      if (stage.status === 'running') return { state: 'queued' };
      if (!created || (!hasEnded(stage.status) && execution.status === 'running')) return undefined;
      return notDeployed(execution, stage);
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

type Stage = ExecutionSummary['stages'][number];

/**
 * The end of a Deployment whose deploy never ran: why, and whether that was a decision (inactive) or a fault (error).
 */
function notDeployed(execution: ExecutionSummary, stage: Stage): DeploymentTarget {
  const why =
    stage.reason ??
    execution.reason ??
    `the execution ${execution.status === 'failed' ? 'failed' : `was ${execution.status}`}`;
  return { state: decidedAgainst(execution, stage) ? 'inactive' : 'error', description: `Not deployed: ${why}` };
}

function decidedAgainst(execution: ExecutionSummary, stage: Stage): boolean {
  if (isDecided(stage.status)) return true;
  if (stage.status !== 'failed') return isDecided(execution.status);
  // A rejected or expired approval fails its stage, but nothing broke: the deploy was refused.
  const failed = stage.actions.filter((a) => a.status === 'failed');
  return (
    failed.length > 0 && failed.every((a) => findAction(execution.definition, stage.name, a.name)?.kind === 'approval')
  );
}
