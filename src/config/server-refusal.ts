/**
 * What the operator's server config does not give a repository's pipeline:
 * a host group or environment it does not define, one the repository may
 * not use, a secret not granted or not set. Said so that the pusher (who
 * sees it as the action's reason) or the operator (at `sluice run`) knows
 * which line of the server config, or which variable, to change.
 */
import { SluiceError, type ServerRefusalCode } from '../sluice-error.ts';

export class ServerRefusal extends SluiceError<ServerRefusalCode> {}
