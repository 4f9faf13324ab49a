/** A duration as people write it in config and read it in a reason: `500ms`, `30s`, `2m 5s`, `1h 30m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const seconds = Math.round(ms / 1000);
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
