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
  /** The rollout's wall time. */
  ms: number;
  /** What made the artifact before it: Sluice's build (build start → deploy start), the script's `tar | gzip -1`. */
  packMs?: number;
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
  'bash-cm': 'bash, ControlMaster',
  ansible: 'Ansible',
  parallel: 'parallel floor',
};
const ORDER: Variant[] = ['sluice', 'bash', 'bash-cm', 'ansible', 'parallel'];

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

/**
 * One row per host count and drain: median wall time of each variant that
 * ran, Sluice's ratio to each script, failed requests of each run.
 */
export function summaryTable(results: Measurement[]): string {
  const variants = ORDER.filter((v) => results.some((m) => m.variant === v));
  const others = variants.filter((v) => v !== 'sluice' && v !== 'parallel');
  const lines = [
    `| hosts | drain | ${variants.map((v) => LABEL[v] + (v === 'parallel' ? '¹' : '')).join(' | ')} | ${others.map((v) => `Sluice / ${LABEL[v]}`).join(' | ')} | failed requests per rollout: ${variants.map((v) => LABEL[v]).join(' · ')} |`,
    `|---|---|${variants.map(() => '---|').join('')}${others.map(() => '---|').join('')}---|`,
  ];
  for (const hosts of [...new Set(results.map((m) => m.hosts))]) {
    for (const drain of [true, false]) {
      const ms = (variant: Variant) => median(pick(results, hosts, drain, variant).map((m) => m.ms));
      const failed = (variant: Variant) =>
        pick(results, hosts, drain, variant)
          .map((m) => m.failed)
          .join(', ') || '—';
      lines.push(
        `| ${hosts} | ${drain ? 'yes' : 'no'} | ${variants.map((v) => seconds(ms(v))).join(' | ')} | ` +
          `${others.map((v) => ratio(ms('sluice'), ms(v))).join(' | ')} | ${variants.map(failed).join(' · ')} |`,
      );
    }
  }
  return lines.join('\n');
}

/**
 * What the issue compares: making the artifact plus rolling it out. Sluice's
 * build (its build action up to the deploy's start) against the script's
 * `tar | gzip -1`, medians of each part and of the sums, and the ratio.
 */
export function packedTable(results: Measurement[]): string {
  const lines = [
    '| hosts | drain | Sluice build | Sluice rollout | Sluice total | script pack | script rollout | script total | Sluice / script |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const hosts of [...new Set(results.map((m) => m.hosts))]) {
    for (const drain of [true, false]) {
      const runs = (v: Variant) => pick(results, hosts, drain, v).filter((m) => m.packMs !== undefined);
      const sluice = runs('sluice');
      const script = runs('bash-cm');
      if (sluice.length === 0 || script.length === 0) continue;
      const part = (rs: Measurement[], f: (m: Measurement) => number) => median(rs.map(f));
      const total = (m: Measurement) => m.ms + m.packMs!;
      lines.push(
        `| ${hosts} | ${drain ? 'yes' : 'no'} | ${seconds(part(sluice, (m) => m.packMs!))} | ${seconds(part(sluice, (m) => m.ms))} | ` +
          `${seconds(part(sluice, total))} | ${seconds(part(script, (m) => m.packMs!))} | ${seconds(part(script, (m) => m.ms))} | ` +
          `${seconds(part(script, total))} | ${ratio(part(sluice, total), part(script, total))} |`,
      );
    }
  }
  return lines.join('\n');
}

/** Median seconds per step over the runs, summed over hosts; `other` is what no step accounts for. */
export function stepTable(results: Measurement[], hosts: number, drain: boolean): string {
  const variants = ORDER.filter((v) => !(drain && v === 'parallel'));
  const used = STEPS.filter((step) => results.some((m) => m.hosts === hosts && step in m.steps));
  const extra = [...new Set(results.flatMap((m) => (m.hosts === hosts ? Object.keys(m.steps) : [])))].filter(
    (step) => !STEPS.includes(step),
  );
  used.push(...extra);
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
