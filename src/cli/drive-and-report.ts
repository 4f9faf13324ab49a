import { createInterface } from 'node:readline/promises';
import type { EngineEvent } from '../pipeline/engine.ts';
import { cancelOnInterrupt, INTERRUPTED_EXIT_CODE } from './cancel-on-interrupt.ts';
import { driveExecution, explainStall } from './drive-execution.ts';
import type { Io } from './io.ts';
import type { ExecutionStore } from '../store/store.ts';
import type { CliContext } from './open-cli-context.ts';

/**
 * Send one event, keep the execution moving until it ends or waits on
 * someone, print the outcome. Exit code 0 only when it succeeded.
 */
export async function driveAndReport(
  ctx: CliContext<ExecutionStore>,
  io: Io,
  pipelineId: string,
  executionId: string,
  event: EngineEvent,
): Promise<number> {
  const before = await ctx.store.getExecution(executionId);
  if (before) ctx.printer.header(before);
  ctx.watch(executionId);
  const interrupt = cancelOnInterrupt(ctx, io);
  try {
    await ctx.runner.dispatch(pipelineId, event, ctx.actor, [executionId]);
    const execution = await driveExecution({
      store: ctx.store,
      runner: ctx.runner,
      printer: ctx.printer,
      pipelineId,
      executionId,
      approvals: ctx.approvals,
      answer: ctx.answer,
      ask,
      actor: ctx.actor,
    });
    if (execution.status === 'running') {
      io.out(`${explainStall(execution)}\n`);
      return 1;
    }
    ctx.printer.footer(execution);
    if (interrupt.interrupted) return INTERRUPTED_EXIT_CODE;
    return execution.status === 'succeeded' ? 0 : 1;
  } finally {
    interrupt.dispose();
  }
}

async function ask(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
