/**
 * What the last process left, taken up once the service listens: what a
 * crash left running is marked interrupted (on a full disk, in the
 * background once there is space), and what GitHub did not take before a
 * restart (it was down) is sent now.
 */
import type { GithubReporter } from '../github/github-reporter.ts';
import type { Logger } from '../log/create-logger.ts';
import { recoverWhenSpace } from '../runner/recover-when-space.ts';
import type { PipelineRunner } from '../runner/pipeline-runner.ts';
import { errorMessage } from '../sluice-error.ts';
import { diskFullLine } from '../web/open-store-when-space.ts';
import type { ServicePart } from './service-part.ts';

export function recoverAtStart(deps: {
  runner: PipelineRunner;
  reporter: GithubReporter | undefined;
  logger: Logger;
  /** What fills up, for the line a full disk logs. */
  stateDir: string;
  /** Aborted when a stop is announced: a recovery that waits for space gives up. */
  signal: AbortSignal;
}): ServicePart {
  const log = (line: string) => deps.logger.info(line);
  let recovering: { done: Promise<void> } | undefined;
  return {
    async start() {
      recovering = await recoverWhenSpace(() => deps.runner.recover(), {
        log,
        fullLine: diskFullLine(deps.stateDir),
        signal: deps.signal,
      });
      await deps.reporter
        ?.resume()
        .catch((error: unknown) => log(`Sluice could not read which GitHub reports wait: ${errorMessage(error)}`));
    },
    async stop() {
      await recovering?.done;
    },
  };
}
