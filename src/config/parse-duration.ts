/**
 * Durations as people write them in config: `500ms`, `30s`, `5m`, `24h`,
 * `1h30m`, `2d`. Returns milliseconds, or undefined when the text is not a
 * duration (the schema turns that into an error saying how to write one).
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const WHOLE = /^(?:\d+(?:ms|s|m|h|d))+$/;
const PART = /(\d+)(ms|s|m|h|d)/g;

export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!WHOLE.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(PART)) total += Number(amount) * UNIT_MS[unit!]!;
  return total;
}

export const DURATION_HINT = 'a duration such as 500ms, 30s, 5m, 1h30m or 24h';
