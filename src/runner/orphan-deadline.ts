/**
 * When a command a dead Sluice process left on a host it cannot reach is
 * certainly gone by itself: the host stops it at its own time limit,
 * counted from its start (PRODUCT R3). Past that, a retry need not wait
 * for the host; before it, the command may still run.
 */
import type { LiveCommand } from './track-commands.ts';

/**
 * Beyond the limit: the SIGKILL that follows the grace period, the run
 * script's own stop of what is left in the group, and the moment between
 * the host starting the command and this process hearing its group id.
 */
export const GONE_MARGIN_MS = 10_000;

/**
 * How long a retry waits for a command with no limit the host holds it
 * to (a host without GNU timeout, or one that never said the group id),
 * counted from the first failure to reach the host.
 */
export const MAX_HOLD_MS = 60 * 60_000;

/** By this time (this process's clock) the command is gone, or no longer waited for. */
export function orphanDeadline(command: LiveCommand, since: number): number {
  if (command.hostLimitMs !== undefined && command.startedAt !== undefined)
    return command.startedAt + command.hostLimitMs + GONE_MARGIN_MS;
  return since + MAX_HOLD_MS;
}

/** Whether the host's own limit bounds the command (and not MAX_HOLD_MS). */
export function hasHostLimit(command: LiveCommand): boolean {
  return command.hostLimitMs !== undefined && command.startedAt !== undefined;
}
