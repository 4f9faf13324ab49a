/**
 * The one way Sluice prints a duration, on every surface — the CLI, Slack,
 * GitHub check runs and the reasons the page shows: as people write it in
 * config (`500ms`, `30s`, `2m 5s`, `1h 30m`), so a limit reads back as it
 * was set. At most two units: `1h 30m` leaves out the seconds.
 */
export function formatDuration(ms: number): string {
  const whole = Math.max(0, Math.round(ms));
  if (whole < 1000) return `${whole}ms`;
  const seconds = Math.round(whole / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const parts = [h ? `${h}h` : '', m ? `${m}m` : '', s ? `${s}s` : ''].filter(Boolean);
  return parts.slice(0, 2).join(' ');
}

/** The limit that ended a command: the operator's, when it was shorter than the one asked for. */
export function formatTimeLimit(askedMs: number, limitMs: number | undefined): string {
  return limitMs === undefined
    ? formatDuration(askedMs)
    : `${formatDuration(limitMs)} (the operator's ssh.command_timeout)`;
}
