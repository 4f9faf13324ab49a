/**
 * The engine's view of one pipeline at one moment: its executions that are
 * not finished (plus any the caller wants to act on), the transitions that
 * are disabled, and each execution's own definition. The store loads it; the
 * engine returns a new one together with the changes to record.
 */
import type { PipelineDefinition } from './definition.ts';
import type { ActionStatus, ExecutionStatus, StageStatus } from './states.ts';

/** What an execution carries through the pipeline: one commit. */
export interface Revision {
  sha: string;
  /** Branch or tag, e.g. `main`; absent for a bare SHA. */
  ref?: string;
  message?: string;
  /**
   * The commit's author as people read it: their GitHub login, else the name the commit gives (`Name <email>` from a
   * local checkout).
   */
  author?: string;
  /**
   * The GitHub login GitHub tells for the author (`author.username` of a
   * push, `author.login` of a commit), never the commit's free-text name:
   * only this is taken as a login when telling who may not approve.
   */
  authorLogin?: string;
  /** The commit author's e-mail, to tell who may not approve their own change. */
  authorEmail?: string;
  /** The committer, as GitHub tells it (login, else name), their login as GitHub tells it, and their e-mail. */
  committer?: string;
  committerLogin?: string;
  committerEmail?: string;
  /**
   * Who pushed it: the push's sender (the GitHub login that authenticated
   * the push, which no commit can forge) and the pusher's e-mail. A re-run
   * keeps it, so the pusher may not approve the re-run either.
   */
  pusher?: { login?: string; email?: string };
}

export interface ActionState {
  status: ActionStatus;
  /** 1 on the first run, +1 on every retry. */
  attempt: number;
  /** Why it ended as it did, in plain words (failure, decision, supersede). */
  reason?: string;
}

export interface StageState {
  status: StageStatus;
  attempt: number;
  /** When it began waiting at its transition (ms); orders a FIFO queue. */
  waitingSince?: number;
  reason?: string;
  actions: Record<string, ActionState>;
}

export interface ExecutionState {
  id: string;
  /** 1, 2, 3 … within its pipeline; newer executions have higher numbers. */
  seq: number;
  status: ExecutionStatus;
  revision: Revision;
  definition: PipelineDefinition;
  reason?: string;
  stages: Record<string, StageState>;
}

export interface TransitionState {
  enabled: boolean;
  reason?: string;
  actor?: string;
  at?: number;
}

export interface PipelineSnapshot {
  pipelineId: string;
  /** Disabled (or once-disabled) transitions, by the stage they lead into. */
  transitions: Record<string, TransitionState>;
  /** Ordered by `seq`, oldest first. */
  executions: ExecutionState[];
}

/** One recorded state change (PRODUCT P7); the store adds time and actor. */
export interface StateChange {
  executionId: string;
  entity: 'execution' | 'stage' | 'action';
  stage?: string;
  action?: string;
  from: string | null;
  to: string;
  attempt?: number;
  reason?: string;
}

/** Work the engine asks its caller to do after the changes are saved. */
export type Command =
  /** Run a build, deploy or command action through an executor. */
  | { type: 'run'; executionId: string; stage: string; action: string; attempt: number }
  /** An approval gate opened: ask the approvers (terminal, Slack). */
  | { type: 'request_approval'; executionId: string; stage: string; action: string; attempt: number }
  /** A running action must stop (cancel): kill its processes. */
  | { type: 'abort'; executionId: string; stage: string; action: string; attempt: number }
  /** An open approval gate closed without a decision (superseded, cancelled). */
  | { type: 'withdraw_approval'; executionId: string; stage: string; action: string; attempt: number; reason: string };
