import type { ArtifactStore } from '../artifact/artifact-store.ts';
import type { BuildSpec } from '../pipeline/definition.ts';
import type { HostActionResult } from './action-result.ts';
import { collectArtifact } from './collect-artifact.ts';
import { runAction, type ActionInput } from './run-action.ts';

export interface BuildActionInput extends ActionInput {
  spec: BuildSpec;
  /** Local path of the commit's source tarball. */
  sourceTarball: string;
  /** Where the produced artifact is kept. */
  artifacts: ArtifactStore;
}

/**
 * Run a build (PRODUCT S1) in an open session: unpack the source and the
 * input artifacts, run `spec.run` in order, then pack `spec.artifact` on the
 * host, verify it after download and store it. Never throws; the caller
 * closes the session.
 */
export function runBuildAction(input: BuildActionInput): Promise<HostActionResult> {
  const { spec, artifacts } = input;
  const artifact = spec.artifact;
  return runAction(input, spec, artifact ? (context) => collectArtifact(context, artifact, artifacts) : undefined);
}
