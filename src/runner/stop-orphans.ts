/**
 * What commands of a dead Sluice process left running is stopped before
 * their action runs again (PRODUCT R3): at start-up (alone on an embedded
 * database: every record is a dead process's) and by the peer that finds a
 * replica's claim run out, for that attempt only. On each host the recorded
 * process groups that still carry their command's mark are stopped and the
 * workspaces removed; the attempt's log says what was found. The records
 * of a host that cannot be reached, or where the stop was cut short, stay, marked: a retry of the attempt
 * waits for them (holdForOrphans), and the service's sweep tries the host
 * again, backing off, until it is reached or the execution is pruned.
 */
import type { Executor, HostRef } from '../executor/executor.ts';
import { buildStopOrphansCommand } from '../ssh/remote-commands.ts';
import type { LogStore, RefStore, ActionRef } from '../store/store.ts';
import { orphanDeadline } from './orphan-deadline.ts';
import {
  LIVE_COMMAND,
  LIVE_WORKSPACE,
  liveKeyPrefix,
  type LiveCommand,
  type LiveWorkspace,
  type Unreachable,
} from './track-commands.ts';
import { errorMessage } from '../sluice-error.ts';

const KILL_GRACE_MS = 2000;
const STOP_TIMEOUT_MS = 120_000;
/** The sweep tries a host it cannot reach again after half the time it has been away: 30 s at least, 10 min at most. */
const FIRST_RETRY_MS = 30_000;
const MAX_RETRY_MS = 10 * 60_000;

/** Stops the orphans of one attempt, or (without `ref`) of every attempt recorded. Never rejects. */
export async function stopOrphans(
  store: LogStore & RefStore,
  executorFor: (host: HostRef) => Executor,
  ref?: ActionRef,
  only?: (record: LiveCommand | LiveWorkspace) => boolean,
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
  if (only) {
    commands = commands.filter((c) => only(c.value));
    workspaces = workspaces.filter((w) => only(w.value));
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
      const { said, unreachable } = await stopOnHost(
        executorFor,
        host,
        hostCommands.map((c) => c.value),
        hostWorkspaces.map((w) => w.value.workspace),
      );
      const records = [...hostCommands, ...hostWorkspaces];
      if (unreachable !== undefined) {
        await keepUnreachable(store, hostCommands, hostWorkspaces, unreachable);
        // Said once, at the first failure: the sweep's later tries would only repeat it.
        const first = records.filter((r) => r.value.unreachable === undefined).map((r) => r.value.ref);
        for (const attempt of oneRefPerAttempt(first)) {
          const text = `${said}; ${waitsFor(
            host.name,
            hostCommands.filter((c) => sameAttempt(c.value.ref, attempt)),
          )}`;
          await store.appendLog(attempt, [{ stream: 'sluice', text, at: Date.now() }]).catch(() => {});
        }
        return;
      }
      for (const attempt of oneRefPerAttempt(records.map((r) => r.value.ref))) {
        await store.appendLog(attempt, [{ stream: 'sluice', text: said, at: Date.now() }]).catch(() => {});
      }
      for (const { key } of hostCommands) await store.deleteRef(LIVE_COMMAND, key).catch(() => {});
      for (const { key } of hostWorkspaces) await store.deleteRef(LIVE_WORKSPACE, key).catch(() => {});
    }),
  );
}

/**
 * The records of what the sweep tries again, and when, are kept whether or
 * not a retry waits for them: what runs there is still stopped, and its
 * workspace removed, once the host answers.
 */
export async function retryUnreachable(
  store: LogStore & RefStore,
  executorFor: (host: HostRef) => Executor,
): Promise<void> {
  const now = Date.now();
  const due = (record: LiveCommand | LiveWorkspace) =>
    record.unreachable !== undefined && record.unreachable.nextTryAt <= now;
  // One pass over every attempt: each host is tried once, all hosts at a time. A host that takes
  // the connection and never answers costs a connect timeout per try, and the sweep waits for this.
  await stopOrphans(store, executorFor, undefined, due);
}

async function keepUnreachable(
  store: RefStore,
  commands: Array<{ key: string; value: LiveCommand }>,
  workspaces: Array<{ key: string; value: LiveWorkspace }>,
  error: string,
): Promise<void> {
  const now = Date.now();
  // Backs off with the time the host has been away, not with the tries: a waiting retry tries more often.
  const next = (before: Unreachable | undefined): Unreachable => {
    const since = before?.since ?? now;
    const wait = Math.min(Math.max(FIRST_RETRY_MS, (now - since) / 2), MAX_RETRY_MS);
    return { since, nextTryAt: now + wait, tries: (before?.tries ?? 0) + 1, error };
  };
  for (const { key, value } of commands)
    await store.putRef(LIVE_COMMAND, key, { ...value, unreachable: next(value.unreachable) }, now).catch(() => {});
  for (const { key, value } of workspaces)
    await store.putRef(LIVE_WORKSPACE, key, { ...value, unreachable: next(value.unreachable) }, now).catch(() => {});
}

/** What a retry of the attempt waits for, in words. */
function waitsFor(host: string, commands: Array<{ value: LiveCommand }>): string {
  if (commands.length === 0)
    return `its workspace there is removed once ${host} can be reached; a retry does not wait for it`;
  const since = Date.now();
  const until = Math.max(...commands.map((c) => orphanDeadline(c.value, c.value.unreachable?.since ?? since)));
  return `a retry waits until Sluice can reach ${host} and stop it, at most until ${new Date(until).toISOString()}`;
}

function sameAttempt(a: ActionRef, b: ActionRef): boolean {
  return liveKeyPrefix(a) === liveKeyPrefix(b);
}

/** One sentence for the log of each attempt that ran there. */
async function stopOnHost(
  executorFor: (host: HostRef) => Executor,
  host: HostRef,
  commands: LiveCommand[],
  workspaces: string[],
): Promise<{ said: string; unreachable?: string }> {
  const where = `on ${host.name}`;
  let script: string;
  try {
    script = buildStopOrphansCommand(
      KILL_GRACE_MS,
      commands.map(({ pgid, mark }) => ({ pgid, mark })),
      workspaces,
    );
  } catch (error) {
    return { said: `could not stop what Sluice left running ${where}: ${errorMessage(error)}` };
  }
  const lines: string[] = [];
  try {
    const session = await executorFor(host).open(host);
    try {
      const result = await session.run(script, { timeoutMs: STOP_TIMEOUT_MS, onLine: (line) => lines.push(line) });
      if (result.exitCode !== 0) {
        // Cut short (killed, timed out): what it had to stop may run on, so the records stay, as for a host away.
        const why = result.timedOut ? 'it took too long' : (result.lostExit ?? `exit code ${result.exitCode}`);
        return {
          said: `could not stop what Sluice left running ${where} (${why})${lines.length > 0 ? `: ${lines.join('; ')}` : ''}`,
          unreachable: `the stop there ended early: ${why}`,
        };
      }
    } finally {
      await session.close();
    }
  } catch (error) {
    const message = errorMessage(error);
    return {
      said: `could not reach ${host.name} to stop what Sluice left running there (${message})`,
      unreachable: message,
    };
  }
  const stopped = lines.flatMap((line) => /^stopped process group (\d+)$/.exec(line)?.[1] ?? []);
  const removed = lines.filter((line) => line.startsWith('removed ')).length;
  const notes = lines.filter((line) => !/^(stopped process group \d+|removed .*)$/.test(line));
  const what =
    stopped.length > 0
      ? `stopped what Sluice left running ${where} when it stopped (process group ${stopped.join(', ')})`
      : `found nothing Sluice left running ${where}`;
  return {
    said: `${what}${removed > 0 ? `, removed ${removed === 1 ? 'its workspace' : `${removed} workspaces`}` : ''}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`,
  };
}

function oneRefPerAttempt(refs: ActionRef[]): ActionRef[] {
  const seen = new Map<string, ActionRef>();
  for (const ref of refs) seen.set(liveKeyPrefix(ref), ref);
  return [...seen.values()];
}
