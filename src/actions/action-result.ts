/**
 * What an action runner hands back to the engine, and the one error type
 * its steps throw to end the action early.
 */
import type { OutputStream } from '../executor/executor.ts';
import { SluiceError } from '../sluice-error.ts';

/** Why an action failed, for the engine to pick a state (timed out, cancelled…). */
export type FailureCode = 'command_failed' | 'timed_out' | 'cancelled' | 'setup_failed' | 'artifact_failed';

/** The artifact a build produced, as kept in the artifact store. */
export interface BuiltArtifact {
  name: string;
  sha256: string;
  size: number;
}

/** The outcome of an action; `reason` is a sentence for a user, secrets masked. */
export type ActionResult = { ok: true; artifact?: BuiltArtifact } | { ok: false; reason: string; code: FailureCode };

/** `sluice` lines are Sluice's own narration; the others are the command's output. */
export type LogStream = OutputStream | 'sluice';

/** Receives every log line of an action, already masked. */
export type ActionLog = (line: string, stream: LogStream) => void;

/** Ends an action with a reason; thrown by its steps, caught by `runAction`. */
export class ActionFailure extends SluiceError<FailureCode> {}
