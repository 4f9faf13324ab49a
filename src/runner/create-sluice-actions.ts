/**
 * The action runner wired to the operator's server config: host groups,
 * executors (local or SSH), secrets, and deploys to its environments. The
 * CLI and the server use the same one. Without a server config (only
 * `sluice run`, where the operator runs their own checkout) `local` is this
 * machine; the app always passes one, so every repository's host groups are
 * checked when its actions start, not only when its pipeline is read.
 */
import { resolve } from 'node:path';
import { ArtifactStore } from '../artifact/artifact-store.ts';
import { deployTarget } from '../config/deploy-target.ts';
import { recoveryRules } from '../config/recovery-rules.ts';
import { rollbackLimitMs } from '../config/rollback-limit.ts';
import { hostsFor } from '../config/check-host-access.ts';
import type { ServerConfig } from '../config/server.schema.ts';
import { ActiveRollouts } from '../deploy/active-rollouts.ts';
import { runDeployAction } from '../deploy/run-deploy-action.ts';
import type { ActionRef, ArtifactRecordStore, ClaimStore, LogStore, RefStore, Store } from '../store/store.ts';
import type { ActionRunner } from '../actions/action-runner.ts';
import { createActionRunner } from './create-action-runner.ts';
import { hostExecutors } from './host-executors.ts';
import { resolveSecrets } from './resolve-secrets.ts';
import { holdingForOrphans } from './hold-for-orphans.ts';
import { retryUnreachable, stopOrphans } from './stop-orphans.ts';
import { trackCommands } from './track-commands.ts';

export interface SluiceActions {
  actions: ActionRunner;
  artifacts: ArtifactStore;
  /** Downloaded sources: in the shared database with PostgreSQL (see keepSource), else files. */
  sources: ArtifactStore;
  rollouts: ActiveRollouts;
  /** Stops what dead processes' commands left running: of one attempt, or of all (see stopOrphans). */
  stopOrphans(ref?: ActionRef): Promise<void>;
  /** Tries again the hosts recovery could not reach, those whose turn it is (the service's sweep). */
  retryUnreachable(): Promise<void>;
}

export function createSluiceActions(
  store: ClaimStore & LogStore & ArtifactRecordStore & RefStore & Pick<Store, 'blobs'>,
  server: ServerConfig | undefined,
  dataDir: string,
): SluiceActions {
  // With PostgreSQL the database holds both, and these directories are only caches (R2).
  const artifacts = new ArtifactStore(resolve(dataDir, 'artifacts'), store.blobs);
  const sources = new ArtifactStore(resolve(dataDir, 'sources'), store.blobs);
  const rollouts = new ActiveRollouts();
  const executorFor = hostExecutors(server, dataDir);
  const stop = (ref?: ActionRef) => stopOrphans(store, executorFor, ref);
  const run = createActionRunner({
    store,
    artifacts,
    sources,
    hostsOf: (group, repo) => hostsFor(server, repo, group),
    executorFor,
    secretsFor: (repo, names) => resolveSecrets(server, repo, names),
    deploy: (context, spec) =>
      runDeployAction(
        {
          store,
          artifacts,
          executorFor: trackCommands(executorFor, store, context.ref),
          targetFor: (environment, repo) => deployTarget(server, environment, repo),
          lockLeaseMs: recoveryRules(server).leaseMs,
          rollouts,
          rollbackTimeoutMs: rollbackLimitMs(server),
          ...(server?.ssh?.max_sessions !== undefined && { maxSessions: server.ssh.max_sessions }),
          ...(server?.ssh?.max_uploads !== undefined && { maxUploads: server.ssh.max_uploads }),
        },
        context,
        spec,
      ),
  });
  // A retry starts only once what an earlier attempt left on a host recovery could not reach is gone.
  const actions = holdingForOrphans(run, store, stop);
  return {
    actions,
    artifacts,
    sources,
    rollouts,
    stopOrphans: stop,
    retryUnreachable: () => retryUnreachable(store, executorFor),
  };
}
