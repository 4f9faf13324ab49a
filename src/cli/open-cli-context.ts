/**
 * What every state-changing CLI command needs: the store (locked to this
 * process), the server config, and a runner whose progress prints to the
 * terminal. Recovers from an earlier crash before anything else. The
 * commands reach the store's executions, and `run` also what its prune
 * reads and deletes; each names the concerns it uses as `CliContext<…>`.
 */
import { loadServerConfig } from '../config/load-server-config.ts';
import { readDatabaseUrl, readServerConfigPath } from '../config/read-settings.ts';
import type { ServerConfig } from '../config/server.schema.ts';
import { createSluiceActions } from '../runner/create-sluice-actions.ts';
import { PipelineRunner } from '../runner/pipeline-runner.ts';
import { openStore } from '../store/open-store.ts';
import type { PruneInput } from '../runner/prune-data.ts';
import type { ActionRef, ExecutionStore } from '../store/store.ts';
import { cliDataDir } from './cli-data-dir.ts';
import { CliError } from './cli-error.ts';
import type { ApprovalAnswer } from './drive-execution.ts';
import { ProgressPrinter } from './progress-printer.ts';
import { errorMessage } from '../sluice-error.ts';

export interface CliOptions {
  dataDir?: string;
  databaseUrl?: string;
  serverFile?: string;
  approve?: ApprovalAnswer;
}

/** The store's concerns the CLI commands use: executions, and what `run`'s prune reads and deletes. */
export type CliStore = ExecutionStore & PruneInput['store'];

/** `S` narrows the store to the concerns a command uses. */
export interface CliContext<S = CliStore> {
  /** Locked to this process; the context closes it. */
  store: S;
  runner: PipelineRunner;
  printer: ProgressPrinter;
  server?: ServerConfig;
  dataDir: string;
  actor: string;
  /** How to answer approval gates opened while this process runs. */
  answer: ApprovalAnswer;
  /** Approval gates opened while this process runs. */
  approvals: ActionRef[];
  /** Print the progress of this execution as it changes. */
  watch(executionId: string): void;
  /** The hosts a deploy running here has drained or switched and not yet put back. */
  leftBehind(): string[];
  close(): Promise<void>;
}

export async function openCliContext(options: CliOptions, out: (text: string) => void): Promise<CliContext> {
  const dataDir = cliDataDir(options.dataDir);
  const serverFile = options.serverFile ?? readServerConfigPath(process.env);
  const server = serverFile ? await loadServerOrExplain(serverFile) : undefined;
  const store = await openStore({ dataDir, databaseUrl: options.databaseUrl ?? readDatabaseUrl(process.env) });
  const actor = `cli:${process.env.USER ?? process.env.LOGNAME ?? 'unknown'}`;
  const printer = new ProgressPrinter(out);
  const approvals: ActionRef[] = [];
  const watched = new Set<string>();
  // Progress is read back from the store, in order, after every saved change.
  let printing: Promise<void> = Promise.resolve();
  const refresh = () => {
    printing = printing.then(async () => {
      for (const id of watched) {
        const execution = await store.getExecution(id);
        if (execution) printer.update(execution);
      }
    });
  };
  const { actions, rollouts, stopOrphans } = createSluiceActions(store, server, dataDir);
  const runner = new PipelineRunner({
    store,
    actions,
    stopOrphans,
    actor: 'sluice',
    listener: {
      onChange: refresh,
      onLog: (ref, line) => printer.log(ref, line),
      onApprovalRequested: (_pipeline, ref) => approvals.push(ref),
      onError: (error) => out(`Sluice error: ${errorMessage(error)}\n`),
    },
  });
  const recovered = await runner.recover();
  if (recovered.length > 0)
    out(
      `Marked actions that were running when Sluice last stopped as interrupted (${recovered.length} pipeline(s)).\n`,
    );
  const close = async () => {
    await printing;
    await store.close();
  };
  return {
    store,
    runner,
    printer,
    server,
    dataDir,
    actor,
    answer: options.approve ?? 'leave',
    approvals,
    watch: (id) => watched.add(id),
    leftBehind: () => rollouts.leftBehind(),
    close,
  };
}

async function loadServerOrExplain(file: string): Promise<ServerConfig> {
  const result = await loadServerConfig(file);
  if (!result.ok) {
    throw new CliError(result.problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`).join('\n'));
  }
  return result.config;
}
