/**
 * A deploy action: the environment from the operator's config, the artifact
 * from the store (checked for escaping paths), the environment's lock for
 * the whole rollout (S8), one session per host, then the rolling deploy.
 */
import { tmpdir } from 'node:os';
import type { ArtifactStore, HeldArtifact } from '../artifact/artifact-store.ts';
import type { Executor, HostRef } from '../executor/executor.ts';
import { runLocalCommand } from '../executor/run-local-command.ts';
import { formatDuration } from '../format-duration.ts';
import { gatingApprovals } from '../pipeline/approval-gates.ts';
import { type DeploySpec, findAction } from '../pipeline/definition.ts';
import { APPROVAL_BINDING, bindingKey } from '../pipeline/approval-binding.ts';
import type { ActionRun, ActionOutcome } from '../actions/action-runner.ts';
import {
  type ClaimStore,
  type ArtifactRecordStore,
  type RefStore,
  findActionSummary,
  type LockState,
} from '../store/store.ts';
import type { ActiveRollouts } from './active-rollouts.ts';
import { checkArchive } from './check-archive.ts';
import { haproxyDrain, haproxyUndrain, type HaproxyTarget } from './haproxy-runtime.ts';
import { DeployFailure, hostToRollOut, type HostStepContext } from './host-steps.ts';
import type { Amount } from './plan-batches.ts';
import { releaseId } from './release-commands.ts';
import { rollingDeploy } from './rolling-deploy.ts';
import { errorMessage } from '../sluice-error.ts';
import { DEFAULT_LEASE_MS, keepLease } from '../store/keep-lease.ts';

/** An environment as the operator configured it, resolved. */
export interface DeployTarget {
  environment: string;
  hosts: HostRef[];
  path: string;
  batch: Amount;
  minHealthy: Amount;
  /** Shell text run on the Sluice machine; `{host}` becomes the host's name. */
  drain?: string;
  undrain?: string;
  /** Drain through HAProxy's runtime API instead of commands. */
  haproxy?: HaproxyTarget;
  keepReleases: number;
}

export interface DeployDeps {
  store: ClaimStore & ArtifactRecordStore & RefStore;
  artifacts: ArtifactStore;
  executorFor(host: HostRef): Executor;
  /** The environment, if the repository may deploy there; throws a plain reason otherwise. */
  targetFor(environment: string, repo: string): DeployTarget;
  /** The lease on an environment lock; a holder that dies frees it after this long. */
  lockLeaseMs?: number;
  hookTimeoutMs?: number;
  /** How long a deploy waits for an environment another deploy holds (default 30 min). */
  lockWaitMs?: number;
  /** How long a rollback may take once it started, whatever stopped the rollout (default 15 min). */
  rollbackTimeoutMs?: number;
  /** Where the process follows its rollouts' hosts, to say what an exit at once leaves behind. */
  rollouts?: ActiveRollouts;
  /**
   * Hosts a rollout holds a session on at once, and artifact uploads at once (the operator's ssh.max_sessions,
   * ssh.max_uploads).
   */
  maxSessions?: number;
  maxUploads?: number;
}

const DEFAULT_LOCK_WAIT_MS = 30 * 60_000;

/**
 * The environment's lock (S8). Held by another deploy, it is waited for (the
 * deploy says so in its log); taken by hand (`/sluice lock`), it fails the
 * deploy at once with who locked it and why.
 */
async function takeEnvironmentLock(
  deps: DeployDeps,
  context: ActionRun,
  lock: { name: string; owner: string; reason: string; ttlMs: number },
): Promise<{ ok: true; lock: LockState } | { ok: false; reason: string }> {
  const environment = lock.name.replace(/^environment:/, '');
  const deadline = Date.now() + (deps.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS);
  let told = '';
  for (;;) {
    const taken = await deps.store.acquireLock({ ...lock, now: Date.now() });
    if (taken.ok) return taken;
    const { held } = taken;
    if (held.expiresAt === null)
      return { ok: false, reason: `environment "${environment}" is locked by ${held.owner}: ${held.reason}` };
    if (Date.now() >= deadline)
      return {
        ok: false,
        reason: `environment "${environment}" is still locked by ${held.owner} (${held.reason}) after waiting ${formatDuration(deps.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS)}`,
      };
    if (told !== held.owner) {
      context.log(`waiting for environment "${environment}": ${held.owner} is ${held.reason}`, 'sluice');
      told = held.owner;
    }
    if (!(await pause(1000, context.signal)))
      return { ok: false, reason: `cancelled while waiting for environment "${environment}"` };
  }
}

/** False when the signal aborted the pause. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Who holds an environment while a deploy runs. The attempt and the claim
 * are part of it: a retry of the same action (attempt N+1), or the same
 * attempt taken over by another process, is another owner, so it waits for
 * the lease of attempt N instead of being handed a lock that is still in use.
 */
export function environmentLockOwner(context: Pick<ActionRun, 'execution' | 'ref' | 'claimOwner'>): string {
  const { execution, ref } = context;
  const by = context.claimOwner ? ` by ${context.claimOwner}` : '';
  return `execution #${execution.seq} of ${execution.repo} (${ref.stage}/${ref.action}, attempt ${ref.attempt}${by})`;
}

export async function runDeployAction(deps: DeployDeps, context: ActionRun, spec: DeploySpec): Promise<ActionOutcome> {
  const { execution } = context;
  let target: DeployTarget;
  try {
    target = deps.targetFor(spec.environment, execution.repo);
  } catch (error) {
    return { ok: false, reason: errorMessage(error) };
  }
  const artifact = await deps.store.findArtifact(execution.id, spec.artifact);
  if (!artifact)
    return { ok: false, reason: `artifact "${spec.artifact}" was not produced in execution #${execution.seq}` };
  const unbound = await checkApprovalBinding(deps.store, context, spec, artifact.sha256);
  if (unbound) return { ok: false, reason: unbound };
  let held: HeldArtifact;
  try {
    // Verified as it is read: from this process's directory, or from the database another replica stored it in;
    // then held as a file of the deploy's own, so the cache may be deleted while later hosts still upload it.
    held = await deps.artifacts.hold(artifact.sha256);
  } catch (error) {
    return { ok: false, reason: `artifact "${spec.artifact}" cannot be deployed: ${errorMessage(error)}` };
  }
  try {
    return await rollOutHeld(deps, context, spec, target, artifact.sha256, held.path);
  } finally {
    await held.release();
  }
}

async function rollOutHeld(
  deps: DeployDeps,
  context: ActionRun,
  spec: DeploySpec,
  target: DeployTarget,
  sha256: string,
  tarball: string,
): Promise<ActionOutcome> {
  const { execution } = context;
  await checkArchive(tarball);

  const lease = deps.lockLeaseMs ?? DEFAULT_LEASE_MS;
  const lockName = `environment:${target.environment}`;
  const sha = execution.revision.sha.slice(0, 7);
  const taken = await takeEnvironmentLock(deps, context, {
    name: lockName,
    owner: environmentLockOwner(context),
    reason: `deploying ${sha} to ${target.environment}`,
    ttlMs: lease,
  });
  if (!taken.ok) return taken;

  // Renew the lease while the rollout (and a rollback) runs; losing it stops the rollout.
  const lost = new AbortController();
  const loseLock = () => lost.abort(new Error(`lost the lock on environment "${target.environment}"`));
  const signal = AbortSignal.any([context.signal, lost.signal]);
  let lostWhy = 'its lease ran out and another holder may have it';
  const stopHeartbeat = keepLease(lease, () =>
    deps.store.renewLock(lockName, taken.lock.token, lease, Date.now()).then(
      (held) => {
        if (!held) loseLock();
      },
      (error: unknown) => {
        // Without a renewal the lease may run out mid-rollout; a deploy stops rather than risk two at once.
        lostWhy = `Sluice's database failed as it renewed the lock: ${errorMessage(error)}`;
        loseLock();
      },
    ),
  );

  let untrack: (() => void) | undefined;
  try {
    const step: HostStepContext = {
      app: execution.definition.app ?? { hooks: {} },
      releaseId: releaseId(new Date(), execution.seq, execution.revision.sha),
      env: {
        SLUICE_ENVIRONMENT: target.environment,
        SLUICE_DEPLOY_PATH: target.path,
        SLUICE_REPO: execution.repo,
        SLUICE_REVISION: execution.revision.sha,
        ...(execution.revision.ref ? { SLUICE_REF: execution.revision.ref } : {}),
      },
      hookTimeoutMs: deps.hookTimeoutMs ?? 10 * 60_000,
      signal,
      log: (host, line, stream) => context.log(`[${host}] ${line}`, stream),
      // Fencing: a host is switched only while this deploy still holds the environment.
      async beforeSwitch() {
        if (!(await deps.store.renewLock(lockName, taken.lock.token, lease, Date.now()))) {
          loseLock();
          throw new DeployFailure(
            `lost the lock on environment "${target.environment}" (its lease ran out and another holder may have it), so no more hosts are switched`,
          );
        }
      },
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    };
    context.log(
      `deploying ${sha} to ${target.environment} (${target.hosts.map((h) => h.name).join(', ')}) as release ${step.releaseId}`,
      'sluice',
    );
    // Sessions are opened by the rollout, a limited number at once, and all closed when it ends.
    const hosts = target.hosts.map((host) => hostToRollOut(host, target.path));
    untrack = deps.rollouts?.track(target.environment, step.releaseId, hosts);
    const result = await rollingDeploy(step, {
      environment: target.environment,
      hosts,
      batch: target.batch,
      minHealthy: target.minHealthy,
      keepReleases: target.keepReleases,
      tarball,
      sha256,
      ...loadBalancerSteps(target),
      ...(deps.rollbackTimeoutMs !== undefined && { rollbackTimeoutMs: deps.rollbackTimeoutMs }),
      open: (host, again) => deps.executorFor(host).open(host, again ? { signal: again } : {}),
      ...(deps.maxSessions !== undefined && { maxSessions: deps.maxSessions }),
      ...(deps.maxUploads !== undefined && { maxUploads: deps.maxUploads }),
    });
    if (!result.ok && lost.signal.aborted)
      return {
        ok: false,
        reason: `lost the lock on environment "${target.environment}" (${lostWhy}): ${result.reason}`,
      };
    return result;
  } finally {
    untrack?.();
    stopHeartbeat();
    // A release that fails (the database is away) leaves the lock to run out on its own; the deploy's outcome stands.
    await deps.store.releaseLock(lockName, { token: taken.lock.token }, Date.now()).catch((error: unknown) => {
      context.log(
        `could not release the lock on environment "${target.environment}" (${errorMessage(error)}); it frees itself when its lease runs out`,
        'sluice',
      );
    });
  }
}

/**
 * PRODUCT K4: a deploy goes out only with the artifact each approval that
 * gates it was bound to when it was approved. A record swapped since (a
 * retried build, a changed row) is refused, and nothing is deployed.
 */
async function checkApprovalBinding(
  store: ClaimStore & ArtifactRecordStore & RefStore,
  context: ActionRun,
  spec: DeploySpec,
  sha256: string,
): Promise<string | undefined> {
  const { execution, ref } = context;
  for (const gate of gatingApprovals(execution.definition, ref.stage, ref.action)) {
    const definition = findAction(execution.definition, gate.stage, gate.action);
    if (definition?.kind !== 'approval' || definition.approval.environment !== spec.environment) continue;
    const attempt = findActionSummary(execution, gate.stage, gate.action)?.attempt ?? 1;
    const binding = await store.getRef(APPROVAL_BINDING, bindingKey(execution.id, gate.stage, gate.action, attempt));
    const approved = binding?.artifacts[spec.artifact];
    if (!approved)
      return `the approval ${gate.stage}/${gate.action} is bound to no artifact "${spec.artifact}", so nothing is deployed; retry the stage of the approval to approve it again`;
    if (approved !== sha256) {
      return `artifact "${spec.artifact}" is now sha256 ${sha256}, but the approval ${gate.stage}/${gate.action} (by ${binding.by}) let through sha256 ${approved}, so nothing is deployed`;
    }
  }
  return undefined;
}

function loadBalancerSteps(target: DeployTarget): {
  drain?: (host: string) => Promise<void>;
  undrain?: (host: string) => Promise<void>;
} {
  const { haproxy, drain, undrain } = target;
  if (haproxy)
    return { drain: (host) => haproxyDrain(haproxy, host), undrain: (host) => haproxyUndrain(haproxy, host) };
  return {
    ...(drain ? { drain: (host: string) => runOperatorCommand(drain, host) } : {}),
    ...(undrain ? { undrain: (host: string) => runOperatorCommand(undrain, host) } : {}),
  };
}

/**
 * The operator's drain/undrain command, on the Sluice machine. `{host}` is
 * a host name from the operator's own config (checked to be a plain name),
 * never a value from a webhook. Its error is plain: the rollout says it
 * inside a `DeployFailure` that names the host and the step.
 */
async function runOperatorCommand(template: string, host: string): Promise<void> {
  const lines: string[] = [];
  const result = await runLocalCommand(template.replaceAll('{host}', host), {
    cwd: tmpdir(),
    timeoutMs: 60_000,
    killGraceMs: 2000,
    onLine: (line) => lines.push(line),
  });
  if (result.exitCode !== 0) {
    throw new Error(
      `${result.timedOut ? 'timed out' : `exit code ${result.exitCode}`}${lines.length ? `: ${lines.slice(-2).join(' / ')}` : ''}`,
    );
  }
}
