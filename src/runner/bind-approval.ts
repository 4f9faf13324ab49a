/**
 * What an approval is bound to (PRODUCT K4), besides the commit: the sha256
 * of every artifact the deploys it gates will deploy — in its own stage or
 * in any later stage that needs it. The card carries it, a click is taken
 * only while those artifacts are still the ones shown, and an approval is
 * recorded with them, so a deploy refuses anything else.
 *
 * An approval beside the build (in the same stage, not needing it) opens
 * before the artifact exists: it waits for the build. The card says so and
 * a click is refused until the build has produced it; the card then shows
 * the digest and the click binds to it.
 */
import { deploysGatedBy } from '../pipeline/approval-gates.ts';
import { EngineError } from '../pipeline/engine.ts';
import type { ArtifactRecordStore, RefStore, ExecutionSummary } from '../store/store.ts';
import { findAction } from '../pipeline/definition.ts';
import { APPROVAL_BINDING, bindingKey, type ApprovalBinding } from '../pipeline/approval-binding.ts';

declare module '../store/ref-store.ts' {
  interface RefKinds {
    'approval-binding': ApprovalBinding;
  }
}

export interface BoundArtifacts {
  /** The digests, in artifact-name order, joined by `,`; absent while one is missing or nothing is gated. */
  digest?: string;
  artifacts: Record<string, string>;
  /** Artifact names not produced yet. */
  missing: string[];
}

export async function boundArtifacts(
  store: ArtifactRecordStore & RefStore,
  execution: ExecutionSummary,
  stage: string,
  action: string,
  environment: string,
): Promise<BoundArtifacts> {
  const names = [
    ...new Set(deploysGatedBy(execution.definition, stage, action, environment).map((d) => d.artifact)),
  ].sort();
  const artifacts: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of names) {
    const found = await store.findArtifact(execution.id, name);
    if (found) artifacts[name] = found.sha256;
    else missing.push(name);
  }
  const digest = names.length > 0 && missing.length === 0 ? names.map((n) => artifacts[n]).join(',') : undefined;
  return { ...(digest && { digest }), artifacts, missing };
}

/** Why an approval cannot be bound yet, as the person who approves reads it. */
export function notBuiltYet(missing: readonly string[]): string {
  return `The build has not produced ${missing.map((m) => `"${m}"`).join(', ')} yet, so there is nothing to approve; wait for it and approve again`;
}

/**
 * Records what an approval lets through, before the decision reaches the
 * engine (a deploy may start at once). Refused while an artifact is missing.
 * The first binding of an attempt stands: a doubled click after the artifact
 * was swapped cannot rebind a gate that is already decided.
 */
export async function bindApproval(
  store: ArtifactRecordStore & RefStore,
  execution: ExecutionSummary,
  stage: string,
  action: string,
  attempt: number,
  by: string,
  now: number,
): Promise<void> {
  const definition = findAction(execution.definition, stage, action);
  if (definition?.kind !== 'approval') return;
  const bound = await boundArtifacts(store, execution, stage, action, definition.approval.environment);
  if (bound.missing.length > 0) throw new EngineError('ARTIFACT_NOT_BUILT', `${notBuiltYet(bound.missing)}.`);
  const key = bindingKey(execution.id, stage, action, attempt);
  if (await store.getRef(APPROVAL_BINDING, key)) return;
  const binding: ApprovalBinding = { artifacts: bound.artifacts, by, at: now };
  await store.putRef(APPROVAL_BINDING, key, binding, now);
}
