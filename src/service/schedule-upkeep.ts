/**
 * The service's upkeep on timers. The sweep interrupts the actions of dead
 * peers, expires the approvals that waited too long and sends Slack what it
 * could not send before; the prune lets go of what the retention settings
 * allow (once at start, then every `retention.interval`).
 */
import { approvalRules } from '../config/approval-rules.ts';
import { retentionRules } from '../config/retention-rules.ts';
import type { ServerConfig } from '../config/server.schema.ts';
import { timerDelay } from '../executor/timer-delay.ts';
import type { Logger } from '../log/create-logger.ts';
import { expireApprovals } from '../runner/expire-approvals.ts';
import type { PipelineRunner } from '../runner/pipeline-runner.ts';
import { describePrune, pruneData, type PruneInput, type PruneReport } from '../runner/prune-data.ts';
import { sweepIntervalMs } from '../runner/sweep-interval.ts';
import type { SlackReporter } from '../slack/slack-reporter.ts';
import { errorMessage } from '../sluice-error.ts';
import { repeatInBackground, type Repeated } from './repeat-in-background.ts';

export interface UpkeepDeps {
  /** What the prune reads and deletes; the approvals expire through its executions. */
  store: PruneInput['store'];
  server: ServerConfig;
  runner: PipelineRunner;
  slackReporter: SlackReporter | undefined;
  /** Tries again the hosts where recovery could not stop what crashed attempts left running. */
  retryUnreachable?: () => Promise<void>;
  dataDir: string;
  clock: () => number;
  logger: Logger;
  /** How often the sweep runs (default: sweepIntervalMs of the runner's lease). */
  sweepMs?: number;
  /** Aborted when a stop is announced. */
  signal: AbortSignal;
}

export interface Upkeep {
  /** One sweep, now; returns how many approvals expired. */
  sweep(): Promise<number>;
  sweeper: Repeated<number>;
  pruner: Repeated<PruneReport>;
}

export function scheduleUpkeep(deps: UpkeepDeps): Upkeep {
  const { store, server, runner, clock, logger } = deps;
  const sweep = async () => {
    await runner.sweep();
    await deps.retryUnreachable?.();
    const rules = (environment: string) => approvalRules(server, environment);
    const expired = await expireApprovals(store, runner, rules, clock());
    await deps.slackReporter?.catchUp();
    return expired;
  };
  const retention = retentionRules(server);
  const prune = async () => {
    const report = await pruneData({ store, server, dataDir: deps.dataDir, now: clock(), rules: retention });
    const said = describePrune(report);
    if (said) logger.info(said);
    return report;
  };
  return {
    sweep,
    sweeper: repeatInBackground({
      task: sweep,
      everyMs: deps.sweepMs ?? sweepIntervalMs(runner.leaseMs),
      onError: (error) => logger.warn(`Sluice could not expire approvals or catch Slack up: ${errorMessage(error)}`),
      signal: deps.signal,
    }),
    pruner: repeatInBackground({
      task: prune,
      // At least a minute apart: a prune reads every pipeline's history.
      everyMs: timerDelay(Math.max(60_000, retention.intervalMs)),
      atStart: true,
      onError: (error) => logger.warn(`Sluice could not prune old data (retention): ${errorMessage(error)}`),
      signal: deps.signal,
    }),
  };
}
