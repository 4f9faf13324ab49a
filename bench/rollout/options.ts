/**
 * The options the rollout benchmarks (rollout.ts, fleet.ts) share: host
 * counts, runs, variants, payload size, a time limit and a JSON file, checked
 * alike; and how a run says it took long or was cut short by that limit.
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

export interface RolloutOptions {
  hostCounts: number[];
  runs: number;
  variants: string[];
  payloadMib: string;
  payloadBytes: number;
  maxMinutes: string;
  startedAt: number;
  deadline: number;
  json?: string;
  /** The benchmark's own options, as parseArgs gives them. */
  values: Record<string, string | boolean | undefined>;
}

/**
 * Parses the shared options with the benchmark's defaults and its own
 * `options`; prints `usage` and exits with 2 when one is wrong (a host count
 * below `minHosts`, a variant not in `variants`) or `valid` says no.
 */
export function rolloutOptions(spec: {
  usage: string;
  defaults: { hosts: string; runs: string; variants: string; maxMinutes: string };
  variants: readonly string[];
  minHosts: number;
  options?: ParseArgsOptionsConfig;
  valid?: (values: Record<string, string | boolean | undefined>) => boolean;
}): RolloutOptions {
  const { values: parsed } = parseArgs({
    options: {
      hosts: { type: 'string', default: spec.defaults.hosts },
      runs: { type: 'string', default: spec.defaults.runs },
      variants: { type: 'string', default: spec.defaults.variants },
      'payload-mib': { type: 'string', default: '50' },
      'max-minutes': { type: 'string', default: spec.defaults.maxMinutes },
      json: { type: 'string' },
      ...spec.options,
    },
  });
  const values = parsed as Record<string, string | boolean | undefined>;
  const text = (name: string) => String(values[name]);
  const hostCounts = text('hosts').split(',').map(Number);
  const runs = Number(text('runs'));
  const variants = text('variants').split(',');
  const payloadBytes = Number(text('payload-mib')) * 1024 * 1024;
  const startedAt = Date.now();
  const deadline = startedAt + Number(text('max-minutes')) * 60_000;
  if (
    hostCounts.some((n) => !Number.isInteger(n) || n < spec.minHosts) ||
    !Number.isInteger(runs) ||
    runs < 1 ||
    !(payloadBytes > 0) ||
    !(deadline > startedAt) ||
    variants.some((v) => !spec.variants.includes(v)) ||
    (spec.valid && !spec.valid(values))
  ) {
    console.error(`usage: ${spec.usage}`);
    process.exit(2);
  }
  return {
    hostCounts,
    runs,
    variants,
    payloadMib: text('payload-mib'),
    payloadBytes,
    maxMinutes: text('max-minutes'),
    startedAt,
    deadline,
    ...(typeof values.json === 'string' && { json: values.json }),
    values,
  };
}

/** How long the run took, and whether the time limit cut it short. */
export function reportRunTime(options: RolloutOptions, cutShort: boolean): void {
  console.error(`\nTook ${((Date.now() - options.startedAt) / 60_000).toFixed(1)} min.`);
  if (cutShort)
    console.error(`\nStopped early at --max-minutes ${options.maxMinutes}: the tables hold the rollouts that ran.`);
}
