/**
 * What commands of a dead Sluice process left running is stopped before
 * their action runs again (PRODUCT R3): at start-up (alone on an embedded
 * database: every record is a dead process's) and by the peer that finds a
 * replica's claim run out, for that attempt only. On each host the recorded
 * process groups that still carry their command's mark are stopped and the
 * workspaces removed; the attempt's log says what was found. A host that
 * cannot be reached is not tried again: what runs there stops at the host's
 * own time limit.
 */
import type { Executor, HostRef } from '../executor/executor.ts';
import { buildStopOrphansCommand } from '../ssh/remote-commands.ts';
import type { LogStore, RefStore, ActionRef } from '../store/store.ts';
import { LIVE_COMMAND, LIVE_WORKSPACE, liveKeyPrefix, type LiveCommand, type LiveWorkspace } from './track-commands.ts';

const KILL_GRACE_MS = 2000;
const STOP_TIMEOUT_MS = 120_000;

/** Stops the orphans of one attempt, or (without `ref`) of every attempt recorded. Never rejects. */
export async function stopOrphans(
  store: LogStore & RefStore,
  executorFor: (host: HostRef) => Executor,
  ref?: ActionRef,
): Promise<void> {
  const prefix = ref ? liveKeyPrefix(ref) : '';
  let commands: Array<{ key: string; value: LiveCommand }>;
  let workspaces: Array<{ key: string; value: LiveWorkspace }>;
  try {
    commands = await store.listRefs(LIVE_COMMAND, prefix);
    workspaces = await store.listRefs(LIVE_WORKSPACE, prefix);
  } catch {
    return; // The store is failing: the host's own time limit still holds.
  }
  const byHost = new Map<string, { host: HostRef; commands: typeof commands; workspaces: typeof workspaces }>();
  const entry = (host: HostRef) => {
    const key = JSON.stringify([host.address, host.port ?? null, host.user ?? null]);
    let found = byHost.get(key);
    if (!found) byHost.set(key, (found = { host, commands: [], workspaces: [] }));
    return found;
  };
  for (const command of commands) entry(command.value.host).commands.push(command);
  for (const workspace of workspaces) entry(workspace.value.host).workspaces.push(workspace);

  await Promise.all(
    [...byHost.values()].map(async ({ host, commands: hostCommands, workspaces: hostWorkspaces }) => {
      const said = await stopOnHost(
        executorFor,
        host,
        hostCommands.map((c) => c.value),
        hostWorkspaces.map((w) => w.value.workspace),
      );
      for (const attempt of attemptsOf([...hostCommands, ...hostWorkspaces].map((r) => r.value.ref))) {
        await store.appendLog(attempt, [{ stream: 'sluice', text: said, at: Date.now() }]).catch(() => {});
      }
      for (const { key } of hostCommands) await store.deleteRef(LIVE_COMMAND, key).catch(() => {});
      for (const { key } of hostWorkspaces) await store.deleteRef(LIVE_WORKSPACE, key).catch(() => {});
    }),
  );
}

/** One sentence for the log of each attempt that ran there. */
async function stopOnHost(
  executorFor: (host: HostRef) => Executor,
  host: HostRef,
  commands: LiveCommand[],
  workspaces: string[],
): Promise<string> {
  const where = `on ${host.name}`;
  let script: string;
  try {
    script = buildStopOrphansCommand(
      KILL_GRACE_MS,
      commands.map(({ pgid, mark }) => ({ pgid, mark })),
      workspaces,
    );
  } catch (error) {
    return `could not stop what Sluice left running ${where}: ${(error as Error).message}`;
  }
  const lines: string[] = [];
  try {
    const session = await executorFor(host).open(host);
    try {
      const result = await session.run(script, { timeoutMs: STOP_TIMEOUT_MS, onLine: (line) => lines.push(line) });
      if (result.exitCode !== 0)
        return `could not stop what Sluice left running ${where} (${result.timedOut ? 'it took too long' : `exit code ${result.exitCode}`}): ${lines.join('; ')}`;
    } finally {
      await session.close();
    }
  } catch (error) {
    return `could not reach ${host.name} to stop what Sluice left running there (${(error as Error).message}); it stops at the host's own time limit`;
  }
  const stopped = lines.flatMap((line) => /^stopped process group (\d+)$/.exec(line)?.[1] ?? []);
  const removed = lines.filter((line) => line.startsWith('removed ')).length;
  const notes = lines.filter((line) => !/^(stopped process group \d+|removed .*)$/.test(line));
  const what =
    stopped.length > 0
      ? `stopped what Sluice left running ${where} when it stopped (process group ${stopped.join(', ')})`
      : `found nothing Sluice left running ${where}`;
  return `${what}${removed > 0 ? `, removed ${removed === 1 ? 'its workspace' : `${removed} workspaces`}` : ''}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
}

function attemptsOf(refs: ActionRef[]): ActionRef[] {
  const seen = new Map<string, ActionRef>();
  for (const ref of refs) seen.set(liveKeyPrefix(ref), ref);
  return [...seen.values()];
}
