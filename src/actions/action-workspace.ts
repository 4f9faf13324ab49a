/**
 * What every step of a build or command action shares: the open session,
 * where things live in its workspace, the masked log and the cancel signal.
 * (What the pipeline runner hands an action runner is an `ActionRun`.)
 */
import { posix } from 'node:path';
import type { ExecSession } from '../executor/executor.ts';
import type { Masker } from '../executor/mask-secrets.ts';
import { ActionFailure, type ActionLog } from './action-result.ts';

export interface ActionWorkspace {
  session: ExecSession;
  /** The source tree: commands run here and artifact paths are relative to it. */
  sourceDir: string;
  /** Tarballs on their way in and out, kept out of the source tree so `paths: [.]` cannot pack them. */
  transferDir: string;
  /** Masks before it logs. */
  log: ActionLog;
  mask: Masker;
  signal?: AbortSignal;
}

/** Lay out an action's directories inside a session's workspace (host paths are POSIX). */
export function createActionWorkspace(
  session: ExecSession,
  mask: Masker,
  log: ActionLog,
  signal?: AbortSignal,
): ActionWorkspace {
  return {
    session,
    sourceDir: posix.join(session.workspace, 'source'),
    transferDir: posix.join(session.workspace, 'transfer'),
    log: (line, stream) => log(mask(line), stream),
    mask,
    ...(signal ? { signal } : {}),
  };
}

/** Stop between steps once the action has been cancelled. */
export function throwIfCancelled(context: ActionWorkspace): void {
  if (context.signal?.aborted) throw new ActionFailure('cancelled', 'was cancelled');
}
