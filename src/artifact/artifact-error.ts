import { SluiceError, type ArtifactErrorCode } from '../sluice-error.ts';

/** A failure of the artifact store or of packing a checkout. */
export class ArtifactError extends SluiceError<ArtifactErrorCode> {}
