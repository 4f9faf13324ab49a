/**
 * The CLI commands that steer an existing execution or pipeline: retry,
 * rerun, approve/reject, cancel, and disabling or enabling a transition.
 * Each sends one event, then keeps the pipeline moving here, as `run` does.
 */
import { relative, resolve } from 'node:path';
import type { ExecutionStore, ExecutionSummary } from '../store/store.ts';
import { CliError } from './cli-error.ts';
import { detectRepo } from './detect-repo.ts';
import { driveAndReport } from './drive-and-report.ts';
import type { Io } from './io.ts';
import { openCliContext, type CliContext } from './open-cli-context.ts';
import { parseCliArgs } from './parse-cli-args.ts';
import { isStoppedShort } from '../pipeline/states.ts';

/** Each steering command reads and writes executions only. */
type SteerContext = CliContext<ExecutionStore>;

async function withContext(
  values: Parameters<typeof openCliContext>[0],
  io: Io,
  run: (ctx: SteerContext) => Promise<number>,
) {
  const ctx = await openCliContext(values, io.out);
  try {
    return await run(ctx);
  } finally {
    await ctx.close();
  }
}

async function findExecution(ctx: SteerContext, ref: string | undefined, usage: string): Promise<ExecutionSummary> {
  if (!ref) throw new CliError(`Which execution? Usage: ${usage}`, 2);
  const execution = await ctx.store.getExecution(ref.replace(/^#/, ''));
  if (!execution) throw new CliError(`No execution "${ref}" in this data directory; \`sluice status\` lists them.`);
  return execution;
}

export async function runRetry(args: string[], io: Io): Promise<number> {
  const { positionals, values } = parseCliArgs(args, {});
  return withContext(values, io, async (ctx) => {
    const usage = 'sluice retry <execution> <stage>';
    const execution = await findExecution(ctx, positionals[0], usage);
    const stage = positionals[1] ?? execution.stages.find((s) => isStoppedShort(s.status))?.name;
    if (!stage) throw new CliError(`Execution #${execution.seq} has no failed stage to retry. Usage: ${usage}`, 2);
    return driveAndReport(ctx, io, execution.pipelineId, execution.id, {
      type: 'retry_stage',
      executionId: execution.id,
      stage,
      by: ctx.actor,
    });
  });
}

export async function runRerun(args: string[], io: Io): Promise<number> {
  const { positionals, values } = parseCliArgs(args, {});
  return withContext(values, io, async (ctx) => {
    const old = await findExecution(ctx, positionals[0], 'sluice rerun <execution>');
    const execution = await ctx.store.createExecution(
      {
        pipelineId: old.pipelineId,
        revision: old.revision,
        definition: old.definition,
        trigger: `rerun of #${old.seq} by ${ctx.actor}`,
        source: old.source,
        rerunOf: old.id,
      },
      ctx.actor,
      Date.now(),
    );
    return driveAndReport(ctx, io, old.pipelineId, execution.id, { type: 'tick' });
  });
}

export async function runApprove(args: string[], io: Io, approved: boolean): Promise<number> {
  const { positionals, values } = parseCliArgs(args, { comment: { type: 'string' } });
  return withContext(values, io, async (ctx) => {
    const verb = approved ? 'approve' : 'reject';
    const execution = await findExecution(ctx, positionals[0], `sluice ${verb} <execution> [--comment <text>]`);
    const open = execution.stages.flatMap((s) =>
      s.actions
        .filter((a) => a.status === 'awaiting_approval')
        .map((a) => ({ stage: s.name, action: a.name, attempt: a.attempt })),
    );
    const gate = open[0];
    if (!gate) throw new CliError(`Execution #${execution.seq} has no approval waiting for a decision.`);
    const event = {
      type: 'approval_decided' as const,
      executionId: execution.id,
      ...gate,
      approved,
      by: ctx.actor,
      comment: values.comment,
    };
    return driveAndReport(ctx, io, execution.pipelineId, execution.id, event);
  });
}

export async function runCancel(args: string[], io: Io): Promise<number> {
  const { positionals, values } = parseCliArgs(args, { reason: { type: 'string' } });
  return withContext(values, io, async (ctx) => {
    const execution = await findExecution(ctx, positionals[0], 'sluice cancel <execution>');
    const event = {
      type: 'cancel_execution' as const,
      executionId: execution.id,
      by: ctx.actor,
      reason: values.reason,
    };
    await driveAndReport(ctx, io, execution.pipelineId, execution.id, event);
    return 0;
  });
}

export async function runTransition(args: string[], io: Io): Promise<number> {
  const { positionals, values } = parseCliArgs(args, {
    reason: { type: 'string' },
    pipeline: { type: 'string' },
    repo: { type: 'string' },
  });
  const [verb, stage] = positionals;
  const usage = 'sluice transition disable|enable <stage> [--reason <text>]';
  if ((verb !== 'disable' && verb !== 'enable') || !stage) throw new CliError(`Usage: ${usage}`, 2);
  return withContext(values, io, async (ctx) => {
    const checkout = process.cwd();
    const repo = values.repo ?? (await detectRepo(checkout));
    const pipelineId = await ctx.store.ensurePipeline(
      repo,
      relative(checkout, resolve(values.pipeline ?? '.github/sluice.yml')),
    );
    const enabled = verb === 'enable';
    const before = (await ctx.store.listExecutions({ pipelineId })).filter((e) => e.status === 'running');
    await ctx.runner.dispatch(
      pipelineId,
      { type: 'set_transition', stage, enabled, reason: values.reason, by: ctx.actor },
      ctx.actor,
    );
    io.out(
      `The transition into "${stage}" of ${repo} is ${enabled ? 'enabled' : `disabled${values.reason ? ` (${values.reason})` : ''}`}.\n`,
    );
    if (!enabled) return 0;
    // Executions that waited at it go on now, driven from here.
    let code = 0;
    for (const execution of before.reverse()) {
      const now = await ctx.store.getExecution(execution.id);
      if (now?.status !== 'running') continue;
      code = Math.max(code, await driveAndReport(ctx, io, pipelineId, execution.id, { type: 'tick' }));
    }
    return code;
  });
}
