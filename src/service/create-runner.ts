/**
 * The service's runner: the actions it carries out (builds, commands and
 * deploys on the operator's hosts) and the pipeline runner that drives
 * them, telling each watcher — the reporters, the metrics — what changed.
 * As a part it stops as the stop asks: cancelled, or given the grace
 * period and then interrupted, its claims released.
 */
import type { ArtifactStore } from '../artifact/artifact-store.ts';
import { recoveryRules } from '../config/recovery-rules.ts';
import type { ServerConfig } from '../config/server.schema.ts';
import type { Logger } from '../log/create-logger.ts';
import { logActionOutput, logRunner } from '../log/log-runner.ts';
import { observeExecutions } from '../metrics/observe-executions.ts';
import type { SluiceMetrics } from '../metrics/sluice-metrics.ts';
import { createSluiceActions } from '../runner/create-sluice-actions.ts';
import { PipelineRunner } from '../runner/pipeline-runner.ts';
import { errorMessage } from '../sluice-error.ts';
import type { ActionRef, Store, StoreConcerns } from '../store/store.ts';
import type { ServicePart, StopRequest } from './service-part.ts';
import { formatDuration } from '../format-duration.ts';

/** Hears what the runner changed: the GitHub and Slack reporters, the metrics. */
export interface ExecutionWatcher {
  executionsChanged(executionIds: readonly string[]): void;
  /** An action of one of them wrote to its log. */
  logged?(ref: ActionRef): void;
}

export interface RunnerDeps {
  /** Every concern (the runner drives executions, claims, logs, artifacts and refs), without the transaction or close. */
  store: StoreConcerns & Pick<Store, 'kind' | 'blobs'>;
  server: ServerConfig;
  dataDir: string;
  clock: () => number;
  logger: Logger;
  metrics: SluiceMetrics;
  /** Whether `/metrics` is served, so the executions' states are counted. */
  countExecutions: boolean;
}

export interface ServiceRunner extends ServicePart {
  runner: PipelineRunner;
  /** Added to as the reporters are made; each hears every change. */
  watchers: ExecutionWatcher[];
  /** The hosts a deploy running here has drained or switched and not yet put back. */
  leftBehind(): string[];
  /** Tries again the hosts recovery could not reach, to stop what crashed attempts left running there. */
  retryUnreachable(): Promise<void>;
  /** Downloaded sources (see createSluiceActions). */
  sources: ArtifactStore;
}

export function createRunner(deps: RunnerDeps): ServiceRunner {
  const { store, logger, metrics } = deps;
  const warn = (line: string) => logger.warn(line);
  const { actions, sources, rollouts, stopOrphans, retryUnreachable } = createSluiceActions(
    store,
    deps.server,
    deps.dataDir,
  );
  const recovery = recoveryRules(deps.server);
  const watchers: ExecutionWatcher[] = [];
  if (deps.countExecutions) watchers.push({ executionsChanged: (ids) => observeExecutions(store, metrics, [...ids]) });
  const runner = new PipelineRunner({
    store,
    actions,
    stopOrphans,
    actor: 'sluice',
    clock: deps.clock,
    leaseMs: recovery.leaseMs,
    retryInterrupted: () => recovery.retryInterruptedBuilds,
    listener: {
      onChange: (_pipeline, ids) => {
        for (const watcher of watchers) watcher.executionsChanged(ids);
      },
      onLeaseRenewal: (outcome, count) => metrics.leaseRenewal(outcome, count),
      onLog: (ref, line) => {
        for (const watcher of watchers) watcher.logged?.(ref);
        logActionOutput(logger, ref, line);
      },
      ...logRunner(logger),
      onError: (error) => logger.error(`Sluice error: ${errorMessage(error)}`),
    },
  });

  async function stop(request: StopRequest): Promise<void> {
    if (request.cancel) await runner.cancelRunning('sluice', request.cancel);
    const interrupt = request.interrupt;
    if (interrupt && !(await idleWithin(runner, request.graceOver - Date.now()))) {
      const stopped = runner.interruptRunning(interrupt.reason);
      if (stopped.length > 0) {
        const actions = stopped.map((ref) => `${ref.stage}/${ref.action}`).join(', ');
        const them = stopped.length === 1 ? 'it' : 'them';
        warn(
          `The grace period (${formatDuration(interrupt.graceMs)}) is over: stopping ${actions} ` +
            `(a deploy first puts back the hosts it touched); the next start marks ${them} interrupted.`,
        );
      }
    }
    // From here an outcome the store refuses is not tried again: the process is going.
    runner.close();
    await runner.idle();
    await runner
      .releaseClaims()
      .catch((error: unknown) =>
        warn(
          `Sluice could not release its claims on what it leaves running (peers take it up when the claims run out): ${errorMessage(error)}`,
        ),
      );
    runner.stop();
  }

  return {
    runner,
    watchers,
    leftBehind: () => rollouts.leftBehind(),
    retryUnreachable,
    sources,
    idle: () => runner.idle(),
    get busy() {
      return runner.busy;
    },
    stop,
  };
}

/** Whether what runs ends within `ms`. */
async function idleWithin(runner: PipelineRunner, ms: number): Promise<boolean> {
  if (!runner.busy) return true;
  let timer: NodeJS.Timeout | undefined;
  const over = new Promise<false>((done) => (timer = setTimeout(() => done(false), Math.max(0, ms))));
  const ended = await Promise.race([runner.idle().then(() => true as const), over]);
  clearTimeout(timer);
  return ended;
}
