/**
 * A task the service repeats on a timer — the sweep, the prune — as a
 * part. Runs never overlap: each waits for the one before, and a failed
 * run is told and the next tried on time. A stop, once announced, ends the
 * timer at once; the part's own stop waits for the run in hand.
 */
import type { ServicePart } from './service-part.ts';

export interface Repeated<T> extends ServicePart {
  /** Runs the task now, after any run in hand; its failure is the caller's. */
  runNow(): Promise<T>;
}

export function repeatInBackground<T>(options: {
  task: () => Promise<T>;
  everyMs: number;
  /** Whether the part's start runs it once, besides setting the timer. */
  atStart?: boolean;
  onError(error: unknown): void;
  /** Aborted when a stop is announced. */
  signal: AbortSignal;
}): Repeated<T> {
  let running: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const inBackground = () => {
    running = running.then(options.task).catch(options.onError);
  };
  const end = () => clearInterval(timer);
  options.signal.addEventListener('abort', end, { once: true });
  return {
    runNow() {
      const run = running.then(options.task);
      running = run.catch(() => {});
      return run;
    },
    start() {
      if (options.atStart) inBackground();
      timer = setInterval(inBackground, options.everyMs);
      timer.unref();
    },
    async stop() {
      end();
      await running;
    },
  };
}
