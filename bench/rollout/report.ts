/**
 * Markdown tables of the rollouts: median wall time of each variant,
 * failed requests of every rollout, ratios against the bash script, and
 * where the time went step by step.
 */
import type { StepTimes } from './step-times.ts';
import type { Variant } from './variants.ts';

export interface Measurement {
  hosts: number;
  drain: boolean;
  variant: Variant;
  run: number;
  ms: number;
  /** Requests the monitor sent through HAProxy during the rollout, and how many failed. */
  sent: number;
  failed: number;
  steps: StepTimes;
}

const STEPS = [
  'connect',
  'prepare',
  'upload',
  'unpack',
  'stage',
  'drain',
  'stop',
  'switch',
  'start',
  'health',
  'undrain',
  'prune',
];
const LABEL: Record<Variant, string> = {
  sluice: 'Sluice',
  bash: 'bash script',
  ansible: 'Ansible',
  parallel: 'parallel floor',
};

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const seconds = (ms: number) => (Number.isNaN(ms) ? '—' : `${(ms / 1000).toFixed(1)} s`);
const ratio = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? '—' : (a / b).toFixed(2));

function pick(results: Measurement[], hosts: number, drain: boolean, variant: Variant): Measurement[] {
  // The floor never drains: it belongs to both rows of its host count.
  return results.filter(
    (m) => m.hosts === hosts && m.variant === variant && (variant === 'parallel' || m.drain === drain),
  );
}

/** One row per host count and drain: median wall time, ratios to bash, failed requests of each run. */
export function summaryTable(results: Measurement[]): string {
  const lines = [
    '| hosts | drain | Sluice | bash script | Ansible | parallel floor¹ | Sluice / bash | Ansible / bash | failed requests per rollout: Sluice · bash · Ansible · floor |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const hosts of [...new Set(results.map((m) => m.hosts))]) {
    for (const drain of [true, false]) {
      const ms = (variant: Variant) => median(pick(results, hosts, drain, variant).map((m) => m.ms));
      const failed = (variant: Variant) =>
        pick(results, hosts, drain, variant)
          .map((m) => m.failed)
          .join(', ') || '—';
      lines.push(
        `| ${hosts} | ${drain ? 'yes' : 'no'} | ${seconds(ms('sluice'))} | ${seconds(ms('bash'))} | ${seconds(ms('ansible'))} | ${seconds(ms('parallel'))} | ` +
          `${ratio(ms('sluice'), ms('bash'))} | ${ratio(ms('ansible'), ms('bash'))} | ${failed('sluice')} · ${failed('bash')} · ${failed('ansible')} · ${failed('parallel')} |`,
      );
    }
  }
  return lines.join('\n');
}

/** Median seconds per step over the runs, summed over hosts; `other` is what no step accounts for. */
export function stepTable(results: Measurement[], hosts: number, drain: boolean): string {
  const variants: Variant[] = drain ? ['sluice', 'bash', 'ansible'] : ['sluice', 'bash', 'ansible', 'parallel'];
  const used = STEPS.filter((step) => results.some((m) => m.hosts === hosts && step in m.steps));
  const lines = [
    `| ${hosts} hosts, ${drain ? 'drain' : 'no drain'} | wall | ${used.join(' | ')} | other |`,
    `|---|---|${used.map(() => '---|').join('')}---|`,
  ];
  for (const variant of variants) {
    const runs = pick(results, hosts, drain, variant);
    if (runs.length === 0) continue;
    const wall = median(runs.map((m) => m.ms)) / 1000;
    const cells = used.map((step) => median(runs.map((m) => m.steps[step] ?? 0)));
    const unaccounted = median(runs.map((m) => m.ms / 1000 - Object.values(m.steps).reduce((a, b) => a + b, 0)));
    // Parallel hosts overlap: their sums can exceed the wall time.
    const other = variant === 'parallel' ? '—' : unaccounted.toFixed(2);
    lines.push(
      `| ${LABEL[variant]} | ${wall.toFixed(2)} | ${cells.map((c) => (c === 0 ? '' : c.toFixed(2))).join(' | ')} | ${other} |`,
    );
  }
  return lines.join('\n');
}
