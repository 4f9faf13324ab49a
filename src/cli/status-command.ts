/**
 * `sluice status`: the executions in the store with their stages, or one
 * execution with its actions and full history (PRODUCT P7). `--json` for
 * scripts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readDatabaseUrl } from '../config/read-settings.ts';
import { recoverInterrupted } from '../runner/recover-interrupted.ts';
import { openStore } from '../store/open-store.ts';
import type { ExecutionSummary, HistoryEntry } from '../store/store.ts';
import { cliDataDir } from './cli-data-dir.ts';
import { CliError } from './cli-error.ts';
import type { Io } from './io.ts';
import { parseCliArgs } from './parse-cli-args.ts';
import { formatDuration } from '../format-duration.ts';

export async function runStatus(args: string[], io: Io): Promise<number> {
  const { positionals, values } = parseCliArgs(args, { json: { type: 'boolean' }, limit: { type: 'string' } });
  const dataDir = cliDataDir(values.dataDir);
  const databaseUrl = values.databaseUrl ?? readDatabaseUrl(process.env);
  // Looking must not create anything: an empty state is said, not made.
  if (!databaseUrl && !existsSync(join(dataDir, 'sluice.db'))) {
    const where = `Sluice keeps its state in ${dataDir}, and nothing is there yet (give another with --data-dir or SLUICE_DATA_DIR)`;
    if (positionals[0]) throw new CliError(`No execution "${positionals[0]}": ${where}.`);
    if (values.json) io.out('[]\n');
    else io.out(`No executions yet: ${where}. Start one with \`sluice run\`.\n`);
    return 0;
  }
  const store = await openStore({ dataDir, databaseUrl });
  try {
    return await showStatus(store, positionals[0], values, dataDir, io);
  } finally {
    await store.close();
  }
}

/** What `sluice status` reads: executions and their history, after marking what a crash left running as interrupted. */
type StatusStore = Parameters<typeof recoverInterrupted>[0];

async function showStatus(
  store: StatusStore,
  ref: string | undefined,
  values: { json?: boolean; limit?: string },
  dataDir: string,
  io: Io,
): Promise<number> {
  // This process holds the data directory, so anything recorded as running has no process left.
  await recoverInterrupted(store, { actor: 'sluice', now: Date.now, hold: true });
  if (ref) {
    const execution = await store.getExecution(ref.replace(/^#/, ''));
    if (!execution) throw new CliError(`No execution "${ref}"; \`sluice status\` lists them.`);
    const history = await store.listHistory(execution.id);
    if (values.json) io.out(`${JSON.stringify({ ...execution, history }, null, 2)}\n`);
    else io.out(describeExecution(execution, history));
    return 0;
  }
  const limit = values.limit ? Number(values.limit) : 20;
  if (!Number.isInteger(limit) || limit < 1)
    throw new CliError(`--limit takes a positive whole number, not "${values.limit}"`, 2);
  const executions = await store.listExecutions({ limit });
  if (values.json) {
    io.out(`${JSON.stringify(executions, null, 2)}\n`);
  } else if (executions.length === 0) {
    io.out(`No executions yet in ${dataDir}. Start one with \`sluice run\`.\n`);
  } else {
    for (const e of executions) io.out(summaryLine(e));
  }
  return 0;
}

function summaryLine(e: ExecutionSummary): string {
  const r = e.revision;
  const stages = e.stages.map((s) => `${s.name}:${s.status}`).join('  ');
  const ago = formatDuration(Date.now() - e.updatedAt);
  return `#${e.seq}  ${e.repo}  ${r.sha.slice(0, 7)}${r.ref ? ` ${r.ref}` : ''}  ${e.status.toUpperCase()}  (${ago} ago)\n    ${stages}\n${e.reason ? `    ${e.reason}\n` : ''}`;
}

function describeExecution(e: ExecutionSummary, history: HistoryEntry[]): string {
  const lines = [summaryLine(e).trimEnd(), `    started by ${e.trigger}`, ''];
  for (const stage of e.stages) {
    lines.push(
      `  ${stage.name}: ${stage.status}${stage.attempt > 1 ? ` (attempt ${stage.attempt})` : ''}${stage.reason ? ` — ${stage.reason}` : ''}`,
    );
    for (const a of stage.actions) {
      lines.push(
        `    ${a.name}: ${a.status}${a.attempt > 1 ? ` (attempt ${a.attempt})` : ''}${a.reason ? ` — ${a.reason}` : ''}`,
      );
    }
  }
  lines.push('', 'History:');
  for (const h of history) {
    const what = h.entity === 'execution' ? 'execution' : `${h.stage}${h.action ? `/${h.action}` : ''}`;
    lines.push(
      `  ${new Date(h.at).toISOString()}  ${what}: ${h.from ?? '—'} → ${h.to}  by ${h.actor}${h.reason ? ` (${h.reason})` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
