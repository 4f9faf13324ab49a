/**
 * Sluice's one error model. Every error that reaches the top of the service
 * or of the `sluice` command on purpose is a `SluiceError`: a name (its
 * class's), a code from the one union below, and the error it wraps as
 * `cause`. Its message is written for the person who reads it — an operator
 * at a terminal, a pusher on GitHub, an approver in Slack — and says what to
 * fix, so it is shown as it is, without a stack. Anything else that reaches
 * the top is Sluice's own bug and keeps its stack. Inside an action, the
 * failures meant for the pusher are `ActionFailure`s with a code of their
 * own, and a `SluiceError` thrown there (a secret the server config does
 * not grant, say) is the action's reason as it is; a plain `Error` there
 * still ends the action as failed, with "failed unexpectedly: " and its
 * message in the log and the check run. Plain errors are left for what
 * cannot happen (a bug in Sluice) and for causes a coded error wraps.
 */

/**
 * The codes of each error class that has more than one, written here once:
 * the class narrows to its group (`SluiceError<EngineErrorCode>`), and
 * `ErrorCode` is the groups' union with the single codes beside them.
 */

/** What the server config does not give a repository (a `ServerRefusal`). */
export type ServerRefusalCode = 'NOT_IN_SERVER_CONFIG' | 'NOT_PERMITTED' | 'SECRET_NOT_SET';

/** A request the pipeline engine refuses (an `EngineError`). */
export type EngineErrorCode =
  | 'EXECUTION_NOT_FOUND'
  | 'NOT_RETRYABLE'
  | 'GATE_CLOSED'
  | 'ARTIFACT_NOT_BUILT' // an approval asked for before the artifact it binds to exists
  | 'NOT_RUNNING'
  | 'UNKNOWN_STAGE';

/** Why a build or command failed (an `ActionFailure`: timed out, cancelled…); the engine hears only the reason. */
export type FailureCode = 'command_failed' | 'timed_out' | 'cancelled' | 'setup_failed' | 'artifact_failed';

/** Why a host could not be reached or worked on (an `ExecutorError`). */
export type ExecutorErrorCode = 'HOST_UNREACHABLE' | 'HOST_KEY_REJECTED' | 'TRANSFER_FAILED' | 'WORKSPACE_FAILED';

/** Why an artifact or source operation failed (an `ArtifactError`). */
export type ArtifactErrorCode =
  | 'NOT_A_GIT_CHECKOUT'
  | 'NO_COMMITS'
  | 'PACK_FAILED'
  | 'DOWNLOAD_FAILED'
  | 'INVALID_DIGEST'
  | 'STORE_FAILED'
  | 'ARTIFACT_MISSING' // a kept artifact or source is not in the store this process reads
  | 'ARTIFACT_CORRUPTED';

/** Why the store could not open, migrate or read (a `StoreError`). */
export type StoreErrorCode =
  'DATA_DIR_LOCKED' | 'DATA_DIR_UNUSABLE' | 'DATABASE_UNREACHABLE' | 'MIGRATION_FAILED' | 'NOT_FOUND' | 'CORRUPT_ROW';

/** Every code a `SluiceError` may carry, by the part of Sluice that throws it. */
export type ErrorCode =
  // settings and configuration
  | 'INVALID_SETTINGS'
  | 'INVALID_CONFIG'
  | 'INVALID_PRIVATE_KEY'
  | 'INVALID_BRANCH_PATTERN'
  | ServerRefusalCode
  // start-up and the command line
  | 'START_FAILED'
  | 'SLACK_START_FAILED'
  | 'CLI_ERROR'
  // the pipeline engine
  | 'ILLEGAL_TRANSITION'
  | EngineErrorCode
  // the pipeline runner, in the operator's log
  | 'CLAIM_RENEWAL_FAILED'
  | 'OUTCOME_NOT_RECORDED'
  // actions
  | FailureCode
  // hosts and deploys
  | ExecutorErrorCode
  | 'DEPLOY_FAILED'
  | 'UNSAFE_ARCHIVE'
  | 'ROLLOUT_PLAN'
  // artifacts and sources
  | ArtifactErrorCode
  // the store
  | StoreErrorCode
  // GitHub and Slack
  | 'DELIVERY_NOT_STORED'
  | 'PUSH_NOT_RECORDED'
  | 'GITHUB_REFUSED'
  | 'GITHUB_REPORT_FAILED'
  | 'SLACK_API_ERROR'
  | 'SLACK_REFUSED'
  | 'SLACK_LOOKUP_FAILED';

/** The base of every error Sluice throws on purpose; `C` narrows the codes a subclass uses. */
export class SluiceError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * A failure of the artifact store or of packing a checkout. It lives here,
 * beside the base, because both the artifact store and the database's blobs
 * (`store/artifact-blobs.ts`, below it) throw it.
 */
export class ArtifactError extends SluiceError<ArtifactErrorCode> {}

/** The message of anything thrown, for a log line or a sentence of Sluice's. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The one rule for what is shown to people as it is: a `SluiceError`'s
 * message, and a system call's refusal (it names the call and the path, as
 * "EACCES: permission denied, mkdir '/srv/sluice'"). For anything else it is
 * `undefined`, and the caller shows the error with its stack, as a bug.
 */
export function messageForPeople(error: unknown): string | undefined {
  if (error instanceof SluiceError) return error.message;
  if (error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string') return error.message;
  return undefined;
}
