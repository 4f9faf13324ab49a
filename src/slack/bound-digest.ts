/**
 * What an approval is bound to (PRODUCT K4), besides the commit: the sha256
 * of the artifact the gate's deploys would deploy. The card carries it, and
 * a click is taken only while the execution's artifact is still that one.
 */
import type { ExecutionSummary, Store } from '../store/store.ts';
import { gatedDeploys } from './approval-card.ts';

export async function boundDigest(store: Store, execution: ExecutionSummary, stage: string, environment: string): Promise<string | undefined> {
  const definition = execution.definition.stages.find((s) => s.name === stage);
  const names = gatedDeploys(execution, stage, environment);
  const deploy = definition?.actions.find((a) => a.kind === 'deploy' && names.includes(a.name));
  if (deploy?.kind !== 'deploy') return undefined;
  return (await store.findArtifact(execution.id, deploy.deploy.artifact))?.sha256;
}

