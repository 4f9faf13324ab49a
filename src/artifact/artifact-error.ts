import { SluiceError } from '../sluice-error.ts';

/** Why an artifact or source operation failed; `code` is for callers, the message for users. */
export type ArtifactErrorCode =
  | 'NOT_A_GIT_CHECKOUT'
  | 'NO_COMMITS'
  | 'PACK_FAILED'
  | 'INVALID_DIGEST'
  | 'STORE_FAILED'
  | 'ARTIFACT_MISSING'
  | 'ARTIFACT_CORRUPTED';

/** A failure of the artifact store or of packing a checkout. */
export class ArtifactError extends SluiceError<ArtifactErrorCode> {}
