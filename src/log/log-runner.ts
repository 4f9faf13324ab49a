/**
 * The runner's log lines: an action starts and ends, each line carrying the
 * ids it concerns (pipeline, execution, stage, action, attempt), so a log
 * search finds every line of one execution.
 */
import type { ActionOutcome } from '../actions/action-runner.ts';
import type { RunnerListener } from '../runner/pipeline-runner.ts';
import type { ActionRef, LogLine } from '../store/store.ts';
import type { Logger } from './create-logger.ts';

export function actionLogger(logger: Logger, pipelineId: string, ref: ActionRef): Logger {
  return logger.child({
    pipeline: pipelineId,
    execution: ref.executionId,
    stage: ref.stage,
    action: ref.action,
    attempt: ref.attempt,
  });
}

/** With LOG_LEVEL=debug, every line of an action's output too (masked by the action, and again by the logger). */
export function logActionOutput(logger: Logger, ref: ActionRef, line: LogLine): void {
  if (!logger.isLevelEnabled('debug')) return;
  logger
    .child({ execution: ref.executionId, stage: ref.stage, action: ref.action, attempt: ref.attempt })
    .debug({ stream: line.stream }, line.text);
}

export function logRunner(logger: Logger): Pick<RunnerListener, 'onActionStarted' | 'onActionEnded'> {
  return {
    onActionStarted: (pipelineId, ref) =>
      actionLogger(logger, pipelineId, ref).info(`${ref.stage}/${ref.action} started (attempt ${ref.attempt})`),
    onActionEnded: (pipelineId, ref, outcome: ActionOutcome) => {
      const child = actionLogger(logger, pipelineId, ref);
      if (outcome.ok) child.info(`${ref.stage}/${ref.action} succeeded`);
      else child.warn(`${ref.stage}/${ref.action} failed: ${outcome.reason}`);
    },
  };
}
