/**
 * Stopping a command and everything it started: the command runs as the
 * leader of its own process group, so one signal to `-pgid` reaches all of
 * it (PRODUCT S6).
 */
import { readFile, readdir } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

const POLL_MS = 25;

/** SIGTERM to the group, SIGKILL to whatever is left after `graceMs`; resolves when none is left. */
export async function stopProcessGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signalProcessGroup(pgid, 'SIGTERM')) return;
  if (await waitForProcessGroupToEnd(pgid, graceMs)) return;
  signalProcessGroup(pgid, 'SIGKILL');
  // SIGKILL is delivered asynchronously; wait briefly so callers can rely on "gone".
  await waitForProcessGroupToEnd(pgid, 1000);
}

/** Whether any process of the group is still running (zombies do not count). */
export async function processGroupAlive(pgid: number): Promise<boolean> {
  if (!signalProcessGroup(pgid, 0)) return false;
  // kill(0) also succeeds for zombies: orphans whose new parent does not reap
  // them, as when Sluice itself is PID 1 in a container. Linux can tell.
  const members = await runningMembersFromProc(pgid);
  return members === undefined || members > 0;
}

async function waitForProcessGroupToEnd(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await processGroupAlive(pgid)) {
    if (Date.now() >= deadline) return false;
    await delay(POLL_MS);
  }
  return true;
}

function signalProcessGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    // ESRCH: the group is gone. EPERM: it exists but is not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Processes of the group that are not zombies, or undefined where there is no /proc. */
async function runningMembersFromProc(pgid: number): Promise<number | undefined> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return undefined;
  }
  let running = 0;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // "pid (comm) state ppid pgrp …"; comm may itself contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [state, , pgrp] = fields;
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') running += 1;
  }
  return running;
}
