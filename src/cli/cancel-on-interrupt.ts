/**
 * Ctrl-C while `sluice` drives an execution. The first SIGINT (or SIGTERM)
 * cancels what runs here the way any cancel does: a deploy stops, puts the
 * hosts it touched back on their previous release and undrains them, and the
 * command waits for that. A second one exits at once and says what it leaves
 * behind, since a host may then stay drained or on the new release.
 */
import type { Io } from './io.ts';
import type { CliContext } from './open-cli-context.ts';
import { errorMessage } from '../sluice-error.ts';

/** The exit code after Ctrl-C, as shells report a process ended by SIGINT. */
export const INTERRUPTED_EXIT_CODE = 130;

export interface InterruptWatch {
  /** Whether a signal came while it watched. */
  readonly interrupted: boolean;
  dispose(): void;
}

export function cancelOnInterrupt(
  ctx: Pick<CliContext, 'runner' | 'actor' | 'leftBehind'>,
  io: Io,
  exit: (code: number) => never = process.exit,
): InterruptWatch {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      const left = ctx.leftBehind();
      io.err(
        left.length > 0
          ? `${signal} again: exiting now, before the rollback finished. Left behind:\n${left.map((line) => `  ${line}`).join('\n')}\nRun the deploy again, or \`sluice retry\`, to put them right.\n`
          : `${signal} again: exiting now; no host was left drained or half deployed.\n`,
      );
      exit(INTERRUPTED_EXIT_CODE);
    }
    if (!ctx.runner.busy) {
      // Nothing runs here (an approval prompt, a wait): the execution stays as it is recorded.
      io.err(`\n${signal}: exiting; nothing was running here.\n`);
      exit(INTERRUPTED_EXIT_CODE);
    }
    io.err(
      `\n${signal}: cancelling; a deploy puts the hosts it touched back on their previous release first. Press Ctrl-C again to exit at once.\n`,
    );
    ctx.runner
      .cancelRunning(ctx.actor, `${signal} in the terminal`)
      .catch((error: unknown) => io.err(`Sluice could not cancel: ${errorMessage(error)}\n`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    get interrupted() {
      return signals > 0;
    },
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
