/**
 * The action runner Sluice uses: finds the action's definition, picks a host
 * and its executor, gathers the source, input artifacts and secrets, and
 * hands them to the code for the action's kind.
 */
import { runBuildAction } from '../actions/run-build-action.ts';
import { runCommandAction } from '../actions/run-command-action.ts';
import type { ArtifactStore } from '../artifact/artifact-store.ts';
import type { InputArtifact } from '../actions/prepare-workspace.ts';
import { localSource } from '../artifact/keep-source.ts';
import type { ExecSession, Executor, HostRef } from '../executor/executor.ts';
import { type ActionDefinition, type DeploySpec, findAction } from '../pipeline/definition.ts';
import type { RefStore, ArtifactRecordStore } from '../store/store.ts';
import type { ActionRun, ActionOutcome, ActionRunner } from '../actions/action-runner.ts';
import { errorMessage } from '../sluice-error.ts';
import { trackCommands } from './track-commands.ts';

export interface ActionRunnerDeps {
  store: ArtifactRecordStore & RefStore;
  artifacts: ArtifactStore;
  /** Downloaded sources, when they are kept in the shared database (see keepSource). */
  sources?: ArtifactStore;
  /**
   * The hosts of a host group (or `local`) for a repository's action; throws with a clear message if unknown or not
   * open to it.
   */
  hostsOf(group: string, repo: string): HostRef[];
  /** The executor that reaches a host (each action's sessions record what they run, see trackCommands). */
  executorFor(host: HostRef): Executor;
  /** Values of the secrets a repository was granted, by name. */
  secretsFor(repo: string, names: string[]): Record<string, string>;
  /** Deploys; absent until an environment can be reached. */
  deploy?(context: ActionRun, spec: DeploySpec): Promise<ActionOutcome>;
}

export function createActionRunner(deps: ActionRunnerDeps): ActionRunner {
  return {
    async run(context) {
      const action = requireAction(context);
      switch (action.kind) {
        case 'build':
        case 'command':
          return runOnHost(
            { ...deps, executorFor: trackCommands(deps.executorFor, deps.store, context.ref) },
            context,
            action,
          );
        case 'deploy':
          if (!deps.deploy) {
            return {
              ok: false,
              reason: `no environment "${action.deploy.environment}" can be deployed to from here: give Sluice a server config that defines it`,
            };
          }
          return deps.deploy(context, action.deploy);
        case 'approval':
          return { ok: false, reason: 'an approval is decided, not run' };
      }
    },
  };
}

/** The definition of the action to run, which the execution's own pipeline must have. */
function requireAction(context: ActionRun): ActionDefinition {
  const action = findAction(context.execution.definition, context.ref.stage, context.ref.action);
  // Cannot happen: the engine starts only actions of the execution's own definition.
  if (!action)
    throw new Error(
      `The pipeline of execution #${context.execution.seq} has no action ${context.ref.stage}/${context.ref.action}.`,
    );
  return action;
}

async function runOnHost(
  deps: ActionRunnerDeps,
  context: ActionRun,
  action: Extract<ActionDefinition, { kind: 'build' | 'command' }>,
): Promise<ActionOutcome> {
  const spec = action.kind === 'build' ? action.build : action.command;
  const { execution } = context;
  if (!execution.source) return { ok: false, reason: `execution #${execution.seq} has no source to build from` };

  let hosts;
  try {
    hosts = deps.hostsOf(spec.host, execution.repo);
  } catch (error) {
    return { ok: false, reason: errorMessage(error) };
  }
  // Spread builds over the group's hosts; an execution and attempt always land on the same one.
  const host = hosts[(execution.seq + context.ref.attempt) % hosts.length];
  if (!host) return { ok: false, reason: `host group "${spec.host}" has no hosts` };

  // Each held as the action's own file: the caches they come from may be deleted while the action runs.
  const held: (() => Promise<void>)[] = [];
  try {
    const inputs = [];
    for (const name of spec.inputs) {
      const artifact = await deps.store.findArtifact(execution.id, name);
      if (!artifact)
        return { ok: false, reason: `input artifact "${name}" was not produced in execution #${execution.seq}` };
      try {
        const file = await deps.artifacts.hold(artifact.sha256);
        held.push(file.release);
        inputs.push({ name, sha256: artifact.sha256, file: file.path });
      } catch (error) {
        return { ok: false, reason: `input artifact "${name}" cannot be used: ${errorMessage(error)}` };
      }
    }
    let source;
    try {
      source = await localSource(deps.sources, execution.source);
      held.push(source.release);
    } catch (error) {
      return { ok: false, reason: `the source of execution #${execution.seq} cannot be used: ${errorMessage(error)}` };
    }
    return await runWithInputs(deps, context, action, host, inputs, source);
  } finally {
    for (const release of held) await release();
  }
}

async function runWithInputs(
  deps: ActionRunnerDeps,
  context: ActionRun,
  action: Extract<ActionDefinition, { kind: 'build' | 'command' }>,
  host: HostRef,
  inputs: InputArtifact[],
  source: { file: string; strip: number },
): Promise<ActionOutcome> {
  const spec = action.kind === 'build' ? action.build : action.command;
  const { execution, signal } = context;
  let secrets;
  try {
    secrets = deps.secretsFor(execution.repo, spec.secrets);
  } catch (error) {
    return { ok: false, reason: errorMessage(error) };
  }

  context.log(`on ${host.name}${host.address !== host.name ? ` (${host.address})` : ''}`, 'sluice');
  let session: ExecSession | undefined;
  try {
    session = await deps.executorFor(host).open(host, { signal });
    const input = {
      session,
      sourceTarball: source.file,
      sourceStrip: source.strip,
      inputs,
      secrets,
      artifacts: deps.artifacts,
      signal,
      log: context.log,
    };
    if (action.kind === 'command') return await runCommandAction({ ...input, spec: action.command });
    const result = await runBuildAction({ ...input, spec: action.build });
    if (!result.ok) return result;
    if (result.artifact) {
      const artifact = result.artifact;
      try {
        if (context.holdsClaim && !(await context.holdsClaim())) {
          return {
            ok: false,
            reason:
              'this Sluice process lost its claim on the action (another took it for dead), so its artifact was not recorded',
          };
        }
        await deps.store.recordArtifact({
          executionId: execution.id,
          name: artifact.name,
          sha256: artifact.sha256,
          size: artifact.size,
          stage: context.ref.stage,
          action: context.ref.action,
          createdAt: Date.now(),
        });
      } catch (error) {
        const why = errorMessage(error);
        return {
          ok: false,
          reason: `the build succeeded, but Sluice's database failed as it recorded the artifact (${why}); retry the stage once the database is back`,
        };
      }
      context.log(`artifact ${artifact.name} sha256:${artifact.sha256} (${artifact.size} bytes)`, 'sluice');
    }
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: errorMessage(error) };
  } finally {
    await session?.close();
  }
}
