/**
 * Keeps GitHub in step with executions: check runs and Deployments. State
 * changes are sent at once, in order per execution; log lines only mark an
 * execution for an update at most every `logIntervalMs`, so a chatty build
 * does not run into GitHub's rate limits.
 *
 * A report that fails for a passing fault (GitHub answering 5xx, a lost
 * connection, a store that did not answer) is tried again after a pause
 * that doubles up to five minutes, until it goes through: an execution that
 * ended while GitHub was down would otherwise keep its check runs in
 * progress and its Deployments unfinished for ever, as nothing else
 * changes it again. Which executions wait for a report is kept in the
 * store, so a restart while GitHub is down sends them too (`resume`).
 */
import { successfulDeploys } from '../runner/deploy-history.ts';
import { SerialQueues } from '../runner/serial-queues.ts';
import type { ActionRef, ExecutionStore, LogStore, RefStore } from '../store/store.ts';
import { deployActions } from '../pipeline/definition.ts';
import type { GithubApi } from './github-api.ts';
import { RefusalLog } from './github-refusal.ts';
import { releaseLeftClaims, syncCheckRuns, type ReportContext, type UnreleasedClaim } from './report-check-runs.ts';
import { syncDeployments, type EnvironmentInfo } from './report-deployments.ts';
import { errorMessage, SluiceError } from '../sluice-error.ts';
import { CLAIM_RETRY_MS, CREATION_LEASE_MS } from '../store/ref-store.ts';
import { randomUUID } from 'node:crypto';
import { formatDuration } from '../format-duration.ts';

export interface GithubReporterOptions {
  store: ExecutionStore & LogStore & RefStore;
  api: GithubApi;
  /** The page of an execution (a stage's log when `stage` is given). */
  pageUrl(executionId: string, stage?: string): string;
  environmentInfo(environment: string): EnvironmentInfo;
  logIntervalMs?: number;
  /** The first pause before a failed report is tried again (default 15 s; it doubles, up to twenty times that). */
  retryMs?: number;
  clock?: () => number;
  onError?(error: unknown): void;
  /** Where a write GitHub refused is told, once (default: onError). */
  log?(line: string): void;
  /** Who claims the check runs and Deployments this reporter creates (one per replica), so two replicas create one. */
  owner?: string;
  /** How long a claim on a creation holds before another replica may take it over (its holder died). */
  creationLeaseMs?: number;
  /** The pause before a creation another replica has claimed is looked at again. */
  claimRetryMs?: number;
}

/** The store's record of executions whose GitHub report failed and waits to be sent. */
const DUE = 'github_report_due';

declare module '../store/ref-store.ts' {
  interface RefKinds {
    github_report_due: { due: boolean };
  }
}

export class GithubReporter {
  readonly #options: GithubReporterOptions;
  readonly #queues: SerialQueues;
  readonly #logTimers = new Map<string, NodeJS.Timeout>();
  readonly #refusals: RefusalLog;
  /** This replica's claims a failed write could not give back, given back at the next report. */
  readonly #unreleased: UnreleasedClaim[] = [];
  /** Executions whose last report failed: the pause before the next try, and its timer while it waits. */
  readonly #retries = new Map<string, { delayMs: number; timer?: NodeJS.Timeout }>();
  #stopped = false;
  /** Executions `resume` found waiting: once reported, the store's record of them is cleared. */
  readonly #resumed = new Set<string>();
  readonly #owner: string;
  /** Executions waiting for a creation another replica has claimed, with the timer that looks again. */
  readonly #lookAgain = new Map<string, NodeJS.Timeout>();
  /** Who waits in `idle` for the next look again. */
  #lookedAgain: Array<() => void> = [];

  constructor(options: GithubReporterOptions) {
    this.#options = options;
    this.#queues = new SerialQueues();
    this.#owner = options.owner ?? `sluice-${randomUUID()}`;
    this.#refusals = new RefusalLog(
      options.log ?? ((line) => options.onError?.(new SluiceError('GITHUB_REFUSED', line))),
    );
  }

  /** These executions changed state: report them now. */
  executionsChanged(executionIds: readonly string[]): void {
    for (const id of executionIds) this.#enqueue(id);
  }

  /** An action wrote to its log: report it with the next log update. */
  logged(ref: ActionRef): void {
    if (this.#logTimers.has(ref.executionId)) return;
    const timer = setTimeout(() => {
      this.#logTimers.delete(ref.executionId);
      this.#enqueue(ref.executionId);
    }, this.#options.logIntervalMs ?? 5000);
    timer.unref();
    this.#logTimers.set(ref.executionId, timer);
  }

  get busy(): boolean {
    return this.#queues.busy || this.#lookAgain.size > 0;
  }

  /**
   * Resolves when everything reported so far has been sent, what waited for
   * a peer's claim included (a claim lasts one call to GitHub, or until its
   * dead holder's lease runs out).
   */
  async idle(): Promise<void> {
    for (;;) {
      await this.#queues.idle();
      if (this.#lookAgain.size === 0 || this.#stopped) return;
      await new Promise<void>((resolve) => this.#lookedAgain.push(resolve));
    }
  }

  /** Reports what a failed report left waiting before this process started. */
  async resume(): Promise<void> {
    for (const { key, value } of await this.#options.store.listRefs(DUE, '')) {
      if (!value.due) continue;
      this.#resumed.add(key);
      this.#enqueue(key);
    }
  }

  stop(): void {
    for (const timer of this.#logTimers.values()) clearTimeout(timer);
    this.#logTimers.clear();
    for (const retry of this.#retries.values()) clearTimeout(retry.timer);
    this.#retries.clear();
    for (const timer of this.#lookAgain.values()) clearTimeout(timer);
    this.#lookAgain.clear();
    this.#stopped = true;
    this.#wakeIdle();
  }

  #wakeIdle(): void {
    const waiting = this.#lookedAgain;
    this.#lookedAgain = [];
    for (const resolve of waiting) resolve();
  }

  #enqueue(executionId: string): void {
    this.#queues.add(executionId, async () => {
      try {
        if (await this.#sync(executionId)) this.#waitForPeer(executionId);
        const retry = this.#retries.get(executionId);
        clearTimeout(retry?.timer);
        this.#retries.delete(executionId);
        if (retry || this.#resumed.delete(executionId)) await this.#markDue(executionId, false);
      } catch (error) {
        await this.#retryLater(executionId, error);
      }
    });
  }

  /** Another replica is creating a check run or Deployment of this execution: report again once it has recorded it. */
  #waitForPeer(executionId: string): void {
    if (this.#stopped || this.#lookAgain.has(executionId)) return;
    const timer = setTimeout(() => {
      this.#lookAgain.delete(executionId);
      this.#enqueue(executionId);
      this.#wakeIdle();
    }, this.#options.claimRetryMs ?? CLAIM_RETRY_MS);
    timer.unref();
    this.#lookAgain.set(executionId, timer);
  }

  async #retryLater(executionId: string, error: unknown): Promise<void> {
    const first = this.#options.retryMs ?? 15_000;
    const retry = this.#retries.get(executionId);
    // Twenty times the first pause at most: five minutes by default.
    const delayMs = retry ? Math.min(retry.delayMs * 2, first * 20) : first;
    if (!retry) await this.#markDue(executionId, true);
    const message = errorMessage(error);
    this.#options.onError?.(
      new SluiceError('GITHUB_REPORT_FAILED', `${message} (Sluice tries again in ${formatDuration(delayMs)})`, {
        cause: error,
      }),
    );
    if (this.#stopped) return;
    clearTimeout(retry?.timer);
    const timer = setTimeout(() => {
      const waiting = this.#retries.get(executionId);
      if (waiting) delete waiting.timer;
      this.#enqueue(executionId);
    }, delayMs);
    timer.unref();
    this.#retries.set(executionId, { delayMs, timer });
  }

  /**
   * Kept in the store, so a report that waits outlives a restart; a store that fails here is the next report's problem.
   */
  async #markDue(executionId: string, due: boolean): Promise<void> {
    await this.#options.store.putRef(DUE, executionId, { due }, (this.#options.clock ?? Date.now)()).catch(() => {});
  }

  /** Reports the execution; true when a creation was left to another replica that claimed it. */
  async #sync(executionId: string): Promise<boolean> {
    const { store, api, pageUrl, environmentInfo } = this.#options;
    const now = (this.#options.clock ?? Date.now)();
    const execution = await store.getExecution(executionId);
    if (!execution) return false;
    const installation = await store.getRef('installation', execution.repo);
    if (!installation) return false; // not a repository of the GitHub App
    const ctx: ReportContext = {
      store,
      octokit: await api.installation(installation.id),
      now,
      clock: this.#options.clock ?? Date.now,
      refusals: this.#refusals,
      claim: { owner: this.#owner, leaseMs: this.#options.creationLeaseMs ?? CREATION_LEASE_MS },
      claimedElsewhere: [],
      unreleased: this.#unreleased,
    };
    await releaseLeftClaims(ctx);
    const url = (stage: string) => pageUrl(execution.id, stage);
    // A stage that deploys reports its Deployment first, so its check run never runs ahead of it.
    const deploys = new Set(deployActions(execution.definition).map((d) => d.stage));
    // A production deploy offers *Roll back* while it is the release its environment runs;
    // once a newer one succeeds, the older check run loses the button.
    const current = new Set<string>();
    for (const { stage, action } of deployActions(execution.definition)) {
      if (!environmentInfo(action.deploy.environment).production) continue;
      const [latest, before] = await successfulDeploys(store, execution.pipelineId, action.deploy.environment);
      if (latest?.execution.id !== execution.id) continue;
      current.add(stage);
      if (before && before.execution.id !== execution.id) this.#enqueue(before.execution.id);
    }
    const canRollBack = (stage: string) => current.has(stage);
    await syncCheckRuns(ctx, execution, url, (stage) => !deploys.has(stage), canRollBack);
    await syncDeployments(ctx, execution, environmentInfo, url);
    await syncCheckRuns(ctx, execution, url, (stage) => deploys.has(stage), canRollBack);
    return ctx.claimedElsewhere.length > 0;
  }
}
