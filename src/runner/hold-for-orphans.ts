/**
 * A retry does not run beside what an earlier attempt left running
 * (PRODUCT R3). When recovery could not reach a host to stop an earlier
 * attempt's commands, the retry waits before it starts: it tries the host
 * again, 1 s after the first try and doubling up to 30 s apart, and starts
 * once the orphans are stopped and their workspaces removed, or once the
 * host's own time limit for them has certainly passed (orphanDeadline:
 * the recorded limit from the recorded start, or MAX_HOLD_MS for a command
 * the host held to none). The wait ends with a cancel. Its log says what it
 * waits for, and the check run shows that log.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { ActionRef, RefStore } from '../store/store.ts';
import type { ActionOutcome, ActionRun, ActionRunner } from '../actions/action-runner.ts';
import { hasHostLimit, MAX_HOLD_MS, orphanDeadline } from './orphan-deadline.ts';
import { LIVE_COMMAND, LIVE_WORKSPACE, type LiveCommand, type LiveWorkspace } from './track-commands.ts';
import { formatDuration } from '../format-duration.ts';

const FIRST_WAIT_MS = 1000;
const MAX_WAIT_MS = 30_000;

/** Runs each action once what earlier attempts of it left running is gone (see holdForOrphans). */
export function holdingForOrphans(
  actions: ActionRunner,
  store: RefStore,
  stop: (ref: ActionRef) => Promise<void>,
): ActionRunner {
  return {
    async run(context) {
      const held = await holdForOrphans(store, stop, context);
      return held ?? actions.run(context);
    },
  };
}

/** Resolves when the action may start; with an outcome when it was cancelled while it waited. */
export async function holdForOrphans(
  store: RefStore,
  stop: (ref: ActionRef) => Promise<void>,
  context: Pick<ActionRun, 'ref' | 'signal' | 'log'>,
): Promise<ActionOutcome | undefined> {
  const { ref, signal } = context;
  const say = (text: string) => context.log(text, 'sluice');
  let left = await earlierRecords(store, ref);
  if (left === undefined || left.commands.length + left.workspaces.length === 0) return undefined;
  let said = false;
  // Without a mark of when the host was first missed (a store that would not take it), the wait counts from here.
  const waitStarted = Date.now();
  for (let wait = FIRST_WAIT_MS; ; wait = Math.min(wait * 2, MAX_WAIT_MS)) {
    const attempts = attemptsOf(left);
    for (const attempt of attempts) {
      // A try may take the whole connect timeout (a host that takes the connection and never answers): a cancel does
      // not wait for it.
      if (await cancelledFirst(stop({ ...ref, attempt }), signal))
        return { ok: false, reason: `cancelled while it waited for ${hostsOf(left)}` };
    }
    left = await earlierRecords(store, ref);
    if (left === undefined) return undefined; // The store fails: the action's own run says so.
    const running = left.commands;
    if (running.length === 0) {
      // No command of theirs can still run; a workspace left behind is removed by the sweep.
      if (said) say(`✓ stopped what attempt ${attempts.join(', ')} left running; this attempt starts now`);
      return undefined;
    }
    const now = Date.now();
    const deadline = Math.max(...running.map((c) => orphanDeadline(c, c.unreachable?.since ?? waitStarted)));
    const hosts = [...new Set(running.map((c) => c.host.name))].join(', ');
    const what = `what attempt ${attemptsOf(left).join(', ')} left running`;
    if (now >= deadline) {
      const why = running.every(hasHostLimit)
        ? `the time limit ${hosts} holds ${what} to has passed, so it has stopped by itself`
        : `Sluice waited ${formatDuration(MAX_HOLD_MS)} for ${hosts}, which holds ${what} to no time limit`;
      say(`${why}: this attempt starts now; Sluice removes its workspace once ${hosts} can be reached`);
      return undefined;
    }
    if (!said) {
      said = true;
      say(
        `⏸ waiting: Sluice cannot reach ${hosts} to stop ${what} there (${running[0]?.unreachable?.error ?? 'unreachable'}); this attempt starts once it can, at the latest at ${new Date(deadline).toISOString()}`,
      );
    }
    try {
      await delay(Math.min(wait, deadline - now), undefined, { signal });
    } catch {
      return { ok: false, reason: `cancelled while it waited for ${hosts}` };
    }
  }
}

interface Earlier {
  commands: LiveCommand[];
  workspaces: LiveWorkspace[];
}

/** What recovery kept of this action's earlier attempts. */
async function earlierRecords(store: RefStore, ref: ActionRef): Promise<Earlier | undefined> {
  const prefix = `${ref.executionId}/${ref.stage}/${ref.action}/`;
  const earlier = (r: { value: { ref: ActionRef } }) => r.value.ref.attempt < ref.attempt;
  try {
    const commands = (await store.listRefs(LIVE_COMMAND, prefix)).filter(earlier);
    const workspaces = (await store.listRefs(LIVE_WORKSPACE, prefix)).filter(earlier);
    return { commands: commands.map((c) => c.value), workspaces: workspaces.map((w) => w.value) };
  } catch {
    return undefined;
  }
}

/** Whether the signal aborts before `work` ends; the work goes on by itself, and records what it finds. */
async function cancelledFirst(work: Promise<void>, signal: AbortSignal): Promise<boolean> {
  work.catch(() => {}); // Not waited for once cancelled: its failure is no one's to hear.
  if (signal.aborted) return true;
  let onAbort = () => {};
  const aborted = new Promise<boolean>((resolve) => {
    onAbort = () => resolve(true);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work.then(() => false), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function hostsOf(left: Earlier): string {
  return [...new Set([...left.commands, ...left.workspaces].map((r) => r.host.name))].join(', ');
}

function attemptsOf(left: Earlier): number[] {
  return [...new Set([...left.commands, ...left.workspaces].map((r) => r.ref.attempt))].sort((a, b) => a - b);
}
