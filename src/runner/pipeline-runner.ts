/**
 * Drives executions: feeds events to the engine through the store, then
 * carries out the commands the engine returns (run an action, ask for an
 * approval, abort). The one place where the pure engine meets executors.
 *
 * Several processes may drive the same pipelines (PRODUCT R2): an action
 * runs in the process whose step started it, which claims it with a lease
 * and renews the lease while it runs. A process that finds a peer's lease
 * run out marks that action interrupted (`sweep`); one that finds its own
 * claim taken stops the action.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { EngineError, step, type EngineEvent } from '../pipeline/engine.ts';
import type { Command, ExecutionState } from '../pipeline/snapshot.ts';
import {
  type StoreConcerns,
  type Store,
  type ActionRef,
  findActionSummary,
  type LogLine,
  type NewExecution,
} from '../store/store.ts';
import type { ActionRunner, ActionOutcome } from '../actions/action-runner.ts';
import { bindApproval } from './bind-approval.ts';
import { LogBuffer } from './log-buffer.ts';
import { recoverInterrupted } from './recover-interrupted.ts';
import { errorMessage, SluiceError } from '../sluice-error.ts';
import { DEFAULT_LEASE_MS, keepLease } from '../store/keep-lease.ts';
import { findAction } from '../pipeline/definition.ts';
import { formatDuration } from '../format-duration.ts';

export interface RunnerListener {
  /** Something changed in a pipeline (after it was saved): these executions. */
  onChange?(pipelineId: string, executionIds: string[]): void;
  /** A log line of a running action (already masked). */
  onLog?(ref: ActionRef, line: LogLine): void;
  /** An approval gate opened and waits for a decision. */
  onApprovalRequested?(pipelineId: string, ref: ActionRef): void;
  /** An open gate closed without a decision (superseded, cancelled). */
  onApprovalWithdrawn?(pipelineId: string, ref: ActionRef, reason: string): void;
  /** An action started running in this process. */
  onActionStarted?(pipelineId: string, ref: ActionRef): void;
  /** An action that ran here ended, with this outcome (before it is recorded). */
  onActionEnded?(pipelineId: string, ref: ActionRef, outcome: ActionOutcome): void;
  /** An action runner threw instead of reporting an outcome. */
  onError?(error: unknown): void;
  /**
   * The claims on running actions were renewed: how many held, how many a peer had taken, or that the store could not
   * be reached.
   */
  onLeaseRenewal?(outcome: 'renewed' | 'lost' | 'failed', count: number): void;
}

export interface PipelineRunnerOptions {
  store: StoreConcerns & Pick<Store, 'kind'>;
  /** Runs build, command and deploy actions. */
  actions: ActionRunner;
  /** Recorded as the actor of changes the runner makes itself. */
  actor: string;
  clock?: () => number;
  listener?: RunnerListener;
  /** This process, as the holder of claims (default: a new random name). */
  owner?: string;
  /** How long a claim holds without renewal (default 30 s); a peer interrupts the action after that. */
  leaseMs?: number;
  /** Whether an action of this kind, interrupted because its process died, is retried at once (deploys never are). */
  retryInterrupted?: (kind: 'build' | 'command') => boolean;
  /**
   * Stops what a dead process's commands left running (of one attempt, or of all): done before they are marked
   * interrupted.
   */
  stopOrphans?: (ref?: ActionRef) => Promise<void>;
}

export class PipelineRunner {
  private readonly store: StoreConcerns & Pick<Store, 'kind'>;
  private readonly actions: ActionRunner;
  private readonly actor: string;
  private readonly clock: () => number;
  private readonly listener: RunnerListener;
  private readonly inFlight = new Map<
    string,
    { pipelineId: string; ref: ActionRef; controller: AbortController; done: Promise<void>; interrupted?: string }
  >();
  /** Set when the process stops: actions the engine starts from now on are left to the next start, claims released. */
  private draining: string | undefined;
  private readonly leftToRecovery: ActionRef[] = [];
  readonly owner: string;
  readonly leaseMs: number;
  private readonly retryInterrupted: (kind: 'build' | 'command') => boolean;
  private readonly stopOrphans: (ref?: ActionRef) => Promise<void>;
  /** Stops the heartbeat that renews the claims of what runs here, while something does. */
  private stopHeartbeat: (() => void) | undefined;
  private readonly closed = new AbortController();

  constructor(options: PipelineRunnerOptions) {
    this.store = options.store;
    this.actions = options.actions;
    this.actor = options.actor;
    this.clock = options.clock ?? Date.now;
    this.listener = options.listener ?? {};
    this.owner = options.owner ?? `sluice-${process.pid}-${randomBytes(4).toString('hex')}`;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.retryInterrupted = options.retryInterrupted ?? (() => false);
    this.stopOrphans = options.stopOrphans ?? (() => Promise.resolve());
  }

  /** Create an execution and move it as far as it goes. */
  async start(input: NewExecution, actor: string): Promise<ExecutionState> {
    const execution = await this.store.createExecution(input, actor, this.clock());
    await this.dispatch(input.pipelineId, { type: 'tick' }, actor, [execution.id]);
    return execution;
  }

  /**
   * At start-up. Alone on an embedded database (its directory is locked),
   * whatever is recorded as running was left by a crash: mark it
   * interrupted at once (see recoverInterrupted). On a shared database only
   * actions whose claims ran out are, as `sweep` does.
   */
  async recover(): Promise<string[]> {
    if (this.store.kind !== 'sqlite') {
      await this.sweep();
      return [];
    }
    // Nothing is retried while what the dead process left still runs: it would build beside it, or deploy under it.
    await this.stopOrphans();
    // Every action recorded as running, whatever its claim: each is interrupted now, and retried as its kind wants.
    const running = await this.store.listExpiredClaims(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    const recovered = await recoverInterrupted(this.store, { actor: this.actor, now: this.clock, hold: false });
    for (const { pipelineId, commands, executionIds } of recovered) {
      this.listener.onChange?.(pipelineId, executionIds);
      for (const command of commands) this.carryOut(pipelineId, command);
    }
    for (const ref of running) await this.retryIfWanted(ref);
    return recovered.map((r) => r.pipelineId);
  }

  /**
   * Running actions whose process is gone (their claims ran out) become
   * interrupted, and are retried when the operator wants that for their
   * kind. Returns how many were interrupted.
   */
  async sweep(): Promise<number> {
    const now = this.clock();
    const expired = (await this.store.listExpiredClaims(now, now - this.leaseMs)).filter(
      (ref) => !this.inFlight.has(keyOf(ref)),
    );
    for (const ref of expired) {
      const reason = `the Sluice process running it${ref.owner ? ` (${ref.owner})` : ''} stopped: its claim ran out`;
      await this.stopOrphans(ref);
      await this.dispatch(
        ref.pipelineId,
        {
          type: 'interrupt_action',
          executionId: ref.executionId,
          stage: ref.stage,
          action: ref.action,
          attempt: ref.attempt,
          reason,
        },
        this.actor,
      );
      await this.retryIfWanted(ref);
    }
    return expired.length;
  }

  /**
   * An interrupted build or command runs again when the operator wants that for its kind (deploys never do by
   * themselves).
   */
  private async retryIfWanted(ref: ActionRef & { pipelineId: string }): Promise<void> {
    const execution = await this.store.getExecution(ref.executionId);
    const kind = (execution && findAction(execution.definition, ref.stage, ref.action))?.kind;
    if ((kind !== 'build' && kind !== 'command') || !this.retryInterrupted(kind)) return;
    try {
      await this.dispatch(
        ref.pipelineId,
        {
          type: 'retry_stage',
          executionId: ref.executionId,
          stage: ref.stage,
          by: `${this.actor} (after an interrupted ${kind})`,
        },
        this.actor,
      );
    } catch (error) {
      // Its stage still runs other actions, or was retried already: a person retries it.
      if (!(error instanceof EngineError)) throw error;
    }
  }

  /**
   * The process is stopping gracefully: no action starts from now on (one
   * the engine starts is left recorded as running, for the next start).
   */
  drain(reason: string): void {
    this.draining ??= reason;
  }

  /**
   * The grace period is over: stop what still runs — a deploy first puts
   * back the hosts it touched, as a cancel does — without recording an
   * outcome, so it stays running in the store until the next start (or a
   * peer) marks it interrupted, as after a crash. `idle` waits for the
   * rollbacks. Returns what it stopped.
   */
  interruptRunning(reason: string): ActionRef[] {
    this.drain(reason);
    const stopped: ActionRef[] = [];
    for (const flight of this.inFlight.values()) {
      flight.interrupted = reason;
      flight.controller.abort(new Error(reason));
      stopped.push(flight.ref);
    }
    return stopped;
  }

  /**
   * Frees the claims on what this process leaves to recovery (interrupted,
   * or never started because it was draining), so a peer takes it up at its
   * next sweep instead of when the lease runs out.
   */
  async releaseClaims(): Promise<void> {
    if (this.leftToRecovery.length === 0) return;
    await this.store.renewClaims(this.owner, this.leftToRecovery, 0);
  }

  /** The process is about to exit: an outcome that could not be recorded is no longer tried again. */
  close(): void {
    this.closed.abort();
  }

  /**
   * Cancel every execution with an action running in this process (the
   * process was told to stop). Their actions stop as a cancel stops them —
   * a deploy puts back the hosts it touched — and `idle` waits for that.
   * Returns how many executions it cancelled.
   */
  async cancelRunning(by: string, reason: string): Promise<number> {
    const executions = new Map<string, string>();
    for (const { pipelineId, ref } of this.inFlight.values()) executions.set(ref.executionId, pipelineId);
    let cancelled = 0;
    for (const [executionId, pipelineId] of executions) {
      try {
        await this.dispatch(pipelineId, { type: 'cancel_execution', executionId, by, reason }, by);
        cancelled += 1;
      } catch (error) {
        // Cancelled already, by someone else: its actions are stopping.
        if (!(error instanceof EngineError)) throw error;
      }
    }
    return cancelled;
  }

  /** Stops renewing claims (the process is about to exit). */
  stop(): void {
    this.stopHeartbeat?.();
    this.stopHeartbeat = undefined;
  }

  /** Save what the engine makes of an event, then carry out its commands. */
  async dispatch(pipelineId: string, event: EngineEvent, actor: string, include: string[] = []): Promise<void> {
    const ids = 'executionId' in event ? [event.executionId, ...include] : include;
    const changed = new Set(ids);
    const claim = { owner: this.owner, until: this.clock() + this.leaseMs };
    if (event.type === 'approval_decided' && event.approved) await this.bind(event);
    const commands = await this.store.updatePipeline(
      pipelineId,
      { actor, now: this.clock(), include: ids, claim },
      (snapshot) => {
        const result = step(snapshot, event, this.clock());
        for (const change of result.changes) changed.add(change.executionId);
        return result;
      },
    );
    this.listener.onChange?.(pipelineId, [...changed]);
    for (const command of commands) this.carryOut(pipelineId, command);
  }

  /** An approval is bound to the artifacts its deploys will use (PRODUCT K4), whoever decides it. */
  private async bind(event: Extract<EngineEvent, { type: 'approval_decided' }>): Promise<void> {
    const execution = await this.store.getExecution(event.executionId);
    const attempt = event.attempt ?? (execution && findActionSummary(execution, event.stage, event.action))?.attempt;
    if (!execution || attempt === undefined) return;
    await bindApproval(this.store, execution, event.stage, event.action, attempt, event.by, this.clock());
  }

  /** Resolves when no action started by this runner is still running. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight.values()].map((f) => f.done));
    }
  }

  get busy(): boolean {
    return this.inFlight.size > 0;
  }

  private carryOut(pipelineId: string, command: Command): void {
    const ref: ActionRef = {
      executionId: command.executionId,
      stage: command.stage,
      action: command.action,
      attempt: command.attempt,
    };
    const key = keyOf(ref);
    switch (command.type) {
      case 'run': {
        if (this.draining) {
          this.leftToRecovery.push(ref);
          return;
        }
        const controller = new AbortController();
        const done = this.runAction(pipelineId, ref, controller.signal)
          .catch((error: unknown) => this.listener.onError?.(error))
          .finally(() => {
            this.inFlight.delete(key);
            if (this.inFlight.size === 0) this.stop();
          });
        this.inFlight.set(key, { pipelineId, ref, controller, done });
        this.listener.onActionStarted?.(pipelineId, ref);
        this.stopHeartbeat ??= keepLease(this.leaseMs, () => this.renew());
        return;
      }
      case 'abort':
        this.inFlight.get(key)?.controller.abort();
        return;
      case 'request_approval':
        this.listener.onApprovalRequested?.(pipelineId, ref);
        return;
      case 'withdraw_approval':
        this.listener.onApprovalWithdrawn?.(pipelineId, ref, command.reason);
        return;
    }
  }

  /** Renews the claims of what runs here; an action whose claim was taken is stopped. */
  private async renew(): Promise<void> {
    const running = [...this.inFlight.values()];
    let lost: ActionRef[];
    try {
      lost = await this.store.renewClaims(
        this.owner,
        running.map((r) => r.ref),
        this.clock() + this.leaseMs,
      );
    } catch (error) {
      this.listener.onLeaseRenewal?.('failed', running.length);
      // Said with what failed: a bare "connect ECONNREFUSED" tells an operator nothing.
      const what = `could not renew the claim on ${running.length} running action${running.length === 1 ? '' : 's'} (it tries again shortly)`;
      this.listener.onError?.(
        new SluiceError('CLAIM_RENEWAL_FAILED', `${what}: ${errorMessage(error)}`, { cause: error }),
      );
      return;
    }
    this.listener.onLeaseRenewal?.('renewed', running.length - lost.length);
    this.listener.onLeaseRenewal?.('lost', lost.length);
    for (const ref of lost)
      this.inFlight.get(keyOf(ref))?.controller.abort(new Error('a peer took over this action: its claim ran out'));
    // A cancel sent to another process (a replica that took the Slack command) reaches its actions here.
    const unaborted = running.filter((r) => !r.controller.signal.aborted);
    for (const executionId of new Set(unaborted.map((r) => r.ref.executionId))) {
      const execution = await this.store.getExecution(executionId).catch(() => undefined);
      if (execution?.status !== 'cancelled') continue;
      for (const r of unaborted) if (r.ref.executionId === executionId) r.controller.abort();
    }
  }

  private async runAction(pipelineId: string, ref: ActionRef, signal: AbortSignal): Promise<void> {
    const logs = new LogBuffer(this.store, ref, (line) => this.listener.onLog?.(ref, line));
    let outcome: ActionOutcome;
    try {
      const execution = await this.store.getExecution(ref.executionId);
      if (!execution) throw new Error(`Execution ${ref.executionId} vanished from the store.`);
      const holdsClaim = async () =>
        (await this.store.renewClaims(this.owner, [ref], this.clock() + this.leaseMs)).length === 0;
      outcome = await this.actions.run({
        execution,
        ref,
        signal,
        log: (text, stream) => logs.add({ stream, text, at: this.clock() }),
        holdsClaim,
        claimOwner: this.owner,
      });
    } catch (error) {
      this.listener.onError?.(error);
      outcome = { ok: false, reason: `Sluice failed to run it: ${errorMessage(error)}` };
    }
    const interrupted = this.inFlight.get(keyOf(ref))?.interrupted;
    if (interrupted) {
      // Not an outcome: the action is left running in the store, for the next start to mark interrupted.
      logs.add({ stream: 'sluice', text: `✗ ${interrupted}; the next start marks it interrupted`, at: this.clock() });
      this.leftToRecovery.push(ref);
      this.listener.onActionEnded?.(pipelineId, ref, { ok: false, reason: interrupted });
      await logs.close().catch((error: unknown) => this.listener.onError?.(error));
      return;
    }
    if (!outcome.ok) logs.add({ stream: 'sluice', text: `✗ ${outcome.reason}`, at: this.clock() });
    this.listener.onActionEnded?.(pipelineId, ref, outcome);
    const event: EngineEvent = outcome.ok
      ? { type: 'action_succeeded', ...ref }
      : { type: 'action_failed', ...ref, reason: outcome.reason };
    await this.recordOutcome(pipelineId, event, logs);
  }

  /**
   * How an action ended (and its log, first) must reach the store, or its
   * execution waits for ever: while the store fails (a full disk, a
   * database restarting) both are tried again, 1 s, 2 s … 10 s apart, and
   * the action keeps its claim. It
   * gives up when the engine refuses it (a peer interrupted the action
   * meanwhile) or when the runner is closing; the action is then left to
   * recovery, which marks it interrupted.
   */
  private async recordOutcome(pipelineId: string, event: EngineEvent, logs: LogBuffer): Promise<void> {
    for (let wait = 1000; ; wait = Math.min(wait * 2, 10_000)) {
      try {
        await logs.close();
        await this.dispatch(pipelineId, event, this.actor);
        return;
      } catch (error) {
        this.listener.onError?.(
          new SluiceError(
            'OUTCOME_NOT_RECORDED',
            `could not record how ${describeRef(event)} ended${error instanceof EngineError || this.closed.signal.aborted ? '' : `, and tries again in ${formatDuration(wait)}`}: ${errorMessage(error)}`,
            { cause: error },
          ),
        );
        if (error instanceof EngineError || this.closed.signal.aborted) return;
      }
      await delay(wait, undefined, { signal: this.closed.signal }).catch(() => {});
      if (this.closed.signal.aborted) return;
    }
  }
}

function describeRef(event: EngineEvent): string {
  return 'stage' in event && 'action' in event ? `${event.stage}/${event.action}` : 'an action';
}

function keyOf(ref: ActionRef): string {
  return `${ref.executionId}/${ref.stage}/${ref.action}/${ref.attempt}`;
}
