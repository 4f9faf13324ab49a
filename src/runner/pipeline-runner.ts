/**
 * Drives executions: feeds events to the engine through the store, then
 * carries out the commands the engine returns (run an action, ask for an
 * approval, abort). The one place where the pure engine meets executors.
 */
import { step, type EngineEvent } from '../pipeline/engine.ts';
import type { Command, ExecutionState } from '../pipeline/snapshot.ts';
import type { ActionRef, LogLine, NewExecution, Store } from '../store/store.ts';
import type { ActionRunner, ActionOutcome } from './action-runner.ts';
import { LogBuffer } from './log-buffer.ts';
import { recoverInterrupted } from './recover-interrupted.ts';

export interface RunnerListener {
  /** Something changed in a pipeline (after it was saved): these executions. */
  onChange?(pipelineId: string, executionIds: string[]): void;
  /** A log line of a running action (already masked). */
  onLog?(ref: ActionRef, line: LogLine): void;
  /** An approval gate opened and waits for a decision. */
  onApprovalRequested?(pipelineId: string, ref: ActionRef): void;
  /** An open gate closed without a decision (superseded, cancelled). */
  onApprovalWithdrawn?(pipelineId: string, ref: ActionRef, reason: string): void;
  /** An action runner threw instead of reporting an outcome. */
  onError?(error: unknown): void;
}

export interface PipelineRunnerOptions {
  store: Store;
  /** Runs build, command and deploy actions. */
  actions: ActionRunner;
  /** Recorded as the actor of changes the runner makes itself. */
  actor: string;
  clock?: () => number;
  listener?: RunnerListener;
}

export class PipelineRunner {
  private readonly store: Store;
  private readonly actions: ActionRunner;
  private readonly actor: string;
  private readonly clock: () => number;
  private readonly listener: RunnerListener;
  private readonly inFlight = new Map<string, { controller: AbortController; done: Promise<void> }>();

  constructor(options: PipelineRunnerOptions) {
    this.store = options.store;
    this.actions = options.actions;
    this.actor = options.actor;
    this.clock = options.clock ?? Date.now;
    this.listener = options.listener ?? {};
  }

  /** Create an execution and move it as far as it goes. */
  async start(input: NewExecution, actor: string): Promise<ExecutionState> {
    const execution = await this.store.createExecution(input, actor, this.clock());
    await this.dispatch(input.pipelineId, { type: 'tick' }, actor, [execution.id]);
    return execution;
  }

  /** After a crash: mark what was running interrupted, then go on (see recoverInterrupted). */
  async recover(): Promise<string[]> {
    const recovered = await recoverInterrupted(this.store, { actor: this.actor, now: this.clock, hold: false });
    for (const { pipelineId, commands, executionIds } of recovered) {
      this.listener.onChange?.(pipelineId, executionIds);
      for (const command of commands) this.carryOut(pipelineId, command);
    }
    return recovered.map((r) => r.pipelineId);
  }

  /** Save what the engine makes of an event, then carry out its commands. */
  async dispatch(pipelineId: string, event: EngineEvent, actor: string, include: string[] = []): Promise<void> {
    const ids = 'executionId' in event ? [event.executionId, ...include] : include;
    const changed = new Set(ids);
    const commands = await this.store.updatePipeline(pipelineId, { actor, now: this.clock(), include: ids }, (snapshot) => {
      const result = step(snapshot, event, this.clock());
      for (const change of result.changes) changed.add(change.executionId);
      return result;
    });
    this.listener.onChange?.(pipelineId, [...changed]);
    for (const command of commands) this.carryOut(pipelineId, command);
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
    const ref: ActionRef = { executionId: command.executionId, stage: command.stage, action: command.action, attempt: command.attempt };
    const key = `${ref.executionId}/${ref.stage}/${ref.action}/${ref.attempt}`;
    switch (command.type) {
      case 'run': {
        const controller = new AbortController();
        const done = this.runAction(pipelineId, ref, controller.signal).finally(() => this.inFlight.delete(key));
        this.inFlight.set(key, { controller, done });
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

  private async runAction(pipelineId: string, ref: ActionRef, signal: AbortSignal): Promise<void> {
    const logs = new LogBuffer(this.store, ref, (line) => this.listener.onLog?.(ref, line));
    let outcome: ActionOutcome;
    try {
      const execution = await this.store.getExecution(ref.executionId);
      if (!execution) throw new Error(`Execution ${ref.executionId} vanished from the store.`);
      outcome = await this.actions.run({ execution, ref, signal, log: (text, stream) => logs.add({ stream, text, at: this.clock() }) });
    } catch (error) {
      this.listener.onError?.(error);
      outcome = { ok: false, reason: `Sluice failed to run it: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (!outcome.ok) logs.add({ stream: 'sluice', text: `✗ ${outcome.reason}`, at: this.clock() });
    await logs.close();
    const event: EngineEvent = outcome.ok
      ? { type: 'action_succeeded', ...ref }
      : { type: 'action_failed', ...ref, reason: outcome.reason };
    await this.dispatch(pipelineId, event, this.actor);
  }
}
