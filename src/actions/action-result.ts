/**
 * What a build or command action hands back to the action runner, and the
 * one error type its steps throw to end the action early.
 */
import type { LogStream } from '../store/log-store.ts';
import { SluiceError, type FailureCode } from '../sluice-error.ts';

/** The artifact a build produced, as kept in the artifact store. */
export interface BuiltArtifact {
  name: string;
  sha256: string;
  size: number;
}

/**
 * How a build or command ended on its host: with the artifact it built, or
 * with why it failed. The action runner records the artifact and tells the
 * engine an `ActionOutcome`; `reason` is a sentence for a user, secrets masked.
 */
export type HostActionResult =
  { ok: true; artifact?: BuiltArtifact } | { ok: false; reason: string; code: FailureCode };

/** Receives every log line of an action, already masked. */
export type ActionLog = (line: string, stream: LogStream) => void;

/** Ends an action with a reason; thrown by its steps, caught by `runAction`. */
export class ActionFailure extends SluiceError<FailureCode> {}
