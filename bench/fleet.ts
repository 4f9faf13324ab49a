/**
 * A fleet: a 50 MiB artifact rolled out to 32 and to 50 real sshd hosts on
 * loopback behind HAProxy, batch 25%, drained, while a monitor sends a
 * request through HAProxy every 20 ms and counts the ones that fail. Sluice
 * (`ssh.max_sessions` hosts at once) beside the hand-written script run
 * batch by batch (`rolling-deploy.sh --parallel --haproxy` on each batch's
 * hosts) and the script on every host at once without a drain (the floor);
 * seconds per step, and the peak RSS of the Sluice process, for each fleet.
 *
 *   node bench/fleet.ts [--hosts 32,50] [--runs 1] [--payload-mib 50] [--max-sessions 8]
 *                       [--variants sluice,bash,floor] [--max-minutes 40] [--json out.json]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveAmount } from '../src/deploy/plan-batches.ts';
import { startMonitor } from '../test/helpers/request-monitor.ts';
import { reportRunTime, rolloutOptions } from './rollout/options.ts';
import { runChild } from './rollout/run-child.ts';
import { ARTIFACT_PATHS, checkServes, startTestBed, type TestBed } from './rollout/test-bed.ts';
import { scriptStepTimes } from './rollout/step-times.ts';
import { releaseId, rollOutWithSluice } from './rollout/variants.ts';

const options = rolloutOptions({
  usage:
    'node bench/fleet.ts [--hosts 32,50] [--runs 1] [--payload-mib 50] [--max-sessions 8] [--variants sluice,bash,floor] [--max-minutes 40] [--json out.json]',
  defaults: { hosts: '32,50', runs: '1', variants: 'sluice,bash,floor', maxMinutes: '40' },
  variants: ['sluice', 'bash', 'floor'],
  minHosts: 2,
  options: { 'max-sessions': { type: 'string', default: '8' } },
  valid: (values) => Number.isInteger(Number(values['max-sessions'])) && Number(values['max-sessions']) >= 1,
});
const { hostCounts, runs, payloadBytes, deadline } = options;
const maxSessions = Number(options.values['max-sessions']);
const chosen = options.variants;

const BATCH = '25%';
const script = fileURLToPath(new URL('./rolling-deploy.sh', import.meta.url));

type Variant = 'sluice' | 'bash batches' | 'parallel floor';
const VARIANTS = (['sluice', 'bash batches', 'parallel floor'] as Variant[]).filter((v) =>
  chosen.includes(v.split(' ')[0] === 'parallel' ? 'floor' : v.split(' ')[0]!),
);

interface Measurement {
  hosts: number;
  variant: Variant;
  run: number;
  /** Sluice: its deploy action (startedAt → finishedAt); the others: the whole command. */
  ms: number;
  /** Sluice: the whole `sluice run`, build included. */
  totalMs?: number;
  /** Sluice: the peak RSS of its process (`/usr/bin/time`'s maximum resident set size), MiB. */
  rssMiB?: number;
  sent: number;
  failed: number;
  steps: Record<string, number>;
}

type Bed = TestBed;

/** Time limit of one rollout: generous, but a hung one cannot stall the benchmark. */
const limitMs = (bed: Bed) => 120_000 + 10_000 * bed.ssh.hosts.length;

/** Sluice's rollout of the fleet, drained, `ssh.max_sessions` hosts at once, with its peak RSS. */
async function sluiceRollout(bed: Bed, version: string): Promise<Omit<Measurement, 'sent' | 'failed' | 'run'>> {
  const rollout = await rollOutWithSluice(bed, version, {
    ssh: `max_sessions: ${maxSessions}`,
    rolling: `batch: ${BATCH}, min_healthy: 1`,
    drain: true,
    timeoutMs: limitMs(bed),
    measureRss: true,
  });
  return {
    hosts: bed.ssh.hosts.length,
    variant: 'sluice',
    ms: rollout.ms,
    totalMs: rollout.totalMs,
    ...(rollout.rssMiB !== undefined && { rssMiB: rollout.rssMiB }),
    steps: rollout.steps,
  };
}

/** The artifact the script ships: the same paths Sluice's build packs, with tar -czf as Sluice does. */
async function packArtifact(bed: Bed, version: string): Promise<string> {
  bed.checkout.write('VERSION', `${version}\n`);
  const tarball = join(bed.checkout.scratch, `${version}.tar.gz`);
  const { code, stderr } = await runChild('tar', ['-czf', tarball, '-C', bed.checkout.dir, '--', ...ARTIFACT_PATHS], {
    timeoutMs: 120_000,
  });
  if (code !== 0) throw new Error(`tar exited with ${code}: ${stderr}`);
  return tarball;
}

/**
 * rolling-deploy.sh on every host at once (the floor), or on each batch's hosts at once, drained, batch after batch.
 */
async function rollOutWithScript(
  bed: Bed,
  tarball: string,
  version: string,
  batched: boolean,
): Promise<Omit<Measurement, 'sent' | 'failed' | 'run'>> {
  const all = bed.ssh.hosts.map((h) => `${h.name}=127.0.0.1:${h.port}`);
  const size = batched ? Math.max(1, resolveAmount(BATCH, all.length)) : all.length;
  const release = releaseId(version);
  const steps: Record<string, number> = {};
  const started = performance.now();
  for (let i = 0; i < all.length; i += size) {
    const args = [
      script,
      '--parallel',
      ...(batched ? ['--haproxy', bed.lb.socketPath] : []),
      ...['--user', bed.ssh.user, '--key', bed.ssh.keyPath, '--known-hosts', bed.ssh.knownHostsPath],
      ...['--path', bed.deployPath, '--release', release, tarball],
      ...all.slice(i, i + size),
    ];
    const result = await runChild('bash', args, { timeoutMs: limitMs(bed) });
    if (result.code !== 0)
      throw new Error(`rolling-deploy.sh exited with ${result.code}:\n${result.stdout}${result.stderr}`);
    for (const [step, seconds] of Object.entries(scriptStepTimes(result.stderr)))
      steps[step] = (steps[step] ?? 0) + seconds;
  }
  return {
    hosts: all.length,
    variant: batched ? 'bash batches' : 'parallel floor',
    ms: performance.now() - started,
    steps,
  };
}

let versions = 0;

async function measure(bed: Bed, variant: Variant, run: number): Promise<Measurement> {
  const version = `v${++versions}`;
  // Not timed: the script's build (Sluice's own is outside its deploy time too).
  const tarball = variant === 'sluice' ? '' : await packArtifact(bed, version);
  for (const host of bed.ssh.hosts) await bed.lb.waitUntilUp(host.name, 15_000);
  const monitor = startMonitor({
    url: `http://127.0.0.1:${bed.lb.port}/`,
    maxRequests: 100_000,
    maxDurationMs: limitMs(bed) + 60_000,
  });
  let rollout: Omit<Measurement, 'sent' | 'failed' | 'run'>;
  try {
    await monitor.waitForMore(5);
    rollout =
      variant === 'sluice'
        ? await sluiceRollout(bed, version)
        : await rollOutWithScript(bed, tarball, version, variant === 'bash batches');
    await monitor.waitForMore(10);
  } finally {
    await monitor.stop();
  }
  const report = monitor.current();
  await checkServes(bed, version, `the ${variant} rollout`);
  return { ...rollout, run, sent: report.sent, failed: report.failed };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const results: Measurement[] = [];
const load: string[] = [];
let cutShort = false;
for (const hosts of hostCounts) {
  if (Date.now() > deadline) {
    cutShort = true;
    break;
  }
  console.error(`\n${hosts} hosts: starting sshd, HAProxy and the app (payload ${options.payloadMib} MiB)`);
  const bed = await startTestBed(hosts, payloadBytes);
  try {
    // A first release on every host, so each measured rollout replaces a running app.
    await rollOutWithScript(bed, await packArtifact(bed, 'v0'), 'v0', false);
    for (let run = 1; run <= runs && !cutShort; run++) {
      const shift = (run - 1) % VARIANTS.length;
      for (const variant of [...VARIANTS.slice(shift), ...VARIANTS.slice(0, shift)]) {
        if (Date.now() > deadline) {
          cutShort = true;
          break;
        }
        const m = await measure(bed, variant, run);
        results.push(m);
        const steps = Object.entries(m.steps)
          .map(([step, s]) => `${step} ${s.toFixed(1)}`)
          .join(', ');
        const rss = m.rssMiB === undefined ? '' : `, RSS peak ${m.rssMiB.toFixed(0)} MiB`;
        console.error(
          `  run ${run} ${variant.padEnd(14)} ${(m.ms / 1000).toFixed(2)} s, failed ${m.failed}/${m.sent}${rss}  (${steps})`,
        );
      }
    }
    load.push(`${hosts} hosts: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  } finally {
    await bed.stop();
  }
}

reportRunTime(options, cutShort);
console.log(
  `\nRolling out a ${options.payloadMib} MiB artifact, batch ${BATCH}, drained (the floor: every host at once, no drain); ` +
    `Sluice with ssh.max_sessions ${maxSessions}; median of ${runs} run${runs === 1 ? '' : 's'}\n`,
);
console.log('| hosts | variant | wall s | × floor | failed / sent | Sluice: build + deploy s | Sluice: RSS peak MiB |');
console.log('|---:|---|---:|---:|---:|---:|---:|');
for (const hosts of hostCounts) {
  const of = (v: Variant) => results.filter((r) => r.hosts === hosts && r.variant === v);
  const floor = median(of('parallel floor').map((r) => r.ms));
  for (const variant of VARIANTS) {
    const rs = of(variant);
    if (rs.length === 0) continue;
    const ms = median(rs.map((r) => r.ms));
    const failed = rs.map((r) => `${r.failed} / ${r.sent}`).join(', ');
    const total = variant === 'sluice' ? (median(rs.map((r) => r.totalMs ?? NaN)) / 1000).toFixed(2) : '';
    const rss = variant === 'sluice' ? median(rs.map((r) => r.rssMiB ?? NaN)).toFixed(0) : '';
    console.log(
      `| ${hosts} | ${variant} | ${(ms / 1000).toFixed(2)} | ${Number.isNaN(floor) ? '' : (ms / floor).toFixed(2)} | ${failed} | ${total} | ${rss} |`,
    );
  }
}
console.log('\nSeconds per step, summed over hosts (Sluice: `stage` is wall time; median of the runs):\n');
for (const hosts of hostCounts) {
  const names = [...new Set(results.filter((r) => r.hosts === hosts).flatMap((r) => Object.keys(r.steps)))];
  if (names.length === 0) continue;
  console.log(`| ${hosts} hosts | ${names.join(' | ')} |`);
  console.log(`|---|${names.map(() => '---:').join('|')}|`);
  for (const variant of VARIANTS) {
    const rs = results.filter((r) => r.hosts === hosts && r.variant === variant);
    if (rs.length === 0) continue;
    const cells = names.map((n) => {
      const v = median(rs.map((r) => r.steps[n] ?? NaN));
      return Number.isNaN(v) ? '' : v.toFixed(1);
    });
    console.log(`| ${variant} | ${cells.join(' | ')} |`);
  }
  console.log('');
}
console.log(`Load average (1, 5, 15 min) at the end of each fleet: ${load.join('; ')}`);
if (options.json) writeFileSync(options.json, `${JSON.stringify(results, null, 2)}\n`);
