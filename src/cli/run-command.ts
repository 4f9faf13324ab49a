/**
 * `sluice run`: run the pipeline of the checkout in the current directory,
 * on the same engine and executors the app uses, and print its progress.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { packSource, readRevision } from '../artifact/pack-source.ts';
import { loadPipelineConfig } from '../config/load-pipeline-config.ts';
import { retentionRules } from '../config/retention-rules.ts';
import { describePrune, pruneData, type PruneInput } from '../runner/prune-data.ts';
import { CliError } from './cli-error.ts';
import { detectRepo } from './detect-repo.ts';
import { driveAndReport } from './drive-and-report.ts';
import type { Io } from './io.ts';
import { openCliContext, type CliContext } from './open-cli-context.ts';
import { parseCliArgs } from './parse-cli-args.ts';
import { errorMessage } from '../sluice-error.ts';

export async function runPipeline(args: string[], io: Io): Promise<number> {
  const { values } = parseCliArgs(args, {
    pipeline: { type: 'string' },
    repo: { type: 'string' },
  });
  const checkout = process.cwd();
  const pipelineFile = resolve(values.pipeline ?? '.github/sluice.yml');
  const ctx = await openCliContext(values, io.out);
  try {
    const repo = values.repo ?? (await detectRepo(checkout));
    const loaded = await loadPipelineConfig(pipelineFile, { server: ctx.server, repo });
    if (!loaded.ok) {
      throw new CliError(loaded.problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`).join('\n'));
    }
    const pipelineId = await ctx.store.ensurePipeline(repo, relative(checkout, pipelineFile));
    const revision = await readRevision(checkout);
    const sources = resolve(ctx.dataDir, 'sources');
    await mkdir(sources, { recursive: true });
    const source = resolve(sources, `${randomUUID()}.tar.gz`);
    await packSource(checkout, source, { exclude: [ctx.dataDir] });

    const execution = await ctx.store.createExecution(
      { pipelineId, revision, definition: loaded.definition, trigger: ctx.actor, source },
      ctx.actor,
      Date.now(),
    );
    return await driveAndReport(ctx, io, pipelineId, execution.id, { type: 'tick' });
  } finally {
    await pruneAfterRun(ctx, io);
    await ctx.close();
  }
}

/**
 * Every run adds a source, an artifact, logs and a workspace to the data
 * directory; pruning after each keeps it bounded as the service's sweep
 * does. A failure to prune is said, but does not change how the run ended.
 */
async function pruneAfterRun(ctx: CliContext<PruneInput['store']>, io: Io): Promise<void> {
  try {
    const report = await pruneData({
      store: ctx.store,
      server: ctx.server,
      dataDir: ctx.dataDir,
      now: Date.now(),
      rules: retentionRules(ctx.server),
    });
    const said = describePrune(report);
    if (said) io.out(`${said}\n`);
  } catch (error) {
    io.err(`Sluice could not prune old data (retention): ${errorMessage(error)}\n`);
  }
}
