/**
 * Why the service could not start, in the operator's words: which setting
 * or file to change.
 */
import { SluiceError } from '../sluice-error.ts';

export class StartError extends SluiceError<'START_FAILED'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('START_FAILED', message, options);
  }
}

/** A listen failure in the operator's words: which setting to change. */
export function listenError(error: NodeJS.ErrnoException, port: number, address: string): Error {
  const where = address === '::' ? `port ${port}` : `${address} port ${port}`;
  if (error.code === 'EADDRINUSE')
    return new StartError(
      `PORT ${port} is in use: another process listens on ${where}. Stop it, or set PORT to a free port.`,
      { cause: error },
    );
  if (error.code === 'EACCES')
    return new StartError(
      `PORT ${port} needs privileges this process lacks: use a port above 1023 (and a reverse proxy in front), or give Node the capability to bind it.`,
      { cause: error },
    );
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND')
    return new StartError(
      `HOST ${address} is not an address of this machine: set HOST to one of its addresses (or leave it unset to listen on all).`,
      { cause: error },
    );
  return error;
}
