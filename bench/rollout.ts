/**
 * Rolling out a large artifact: Sluice beside a hand-written ssh/scp script
 * (one connection per step, or one ControlMaster connection per host), the
 * same steps as an Ansible playbook (serial: 1), and the script on every
 * host at once (the transfer floor). Real sshd hosts on loopback behind
 * HAProxy, batch 1, with and without a drain, while a monitor sends a request
 * through HAProxy every 20 ms and counts the ones that fail.
 *
 *   node bench/rollout.ts [--hosts 2,8] [--runs 3] [--variants sluice,bash,bash-cm,ansible,parallel]
 *                         [--payload-mib 50] [--max-minutes 30] [--json out.json]
 */
import { writeFileSync } from 'node:fs';
import { startMonitor } from '../test/helpers/request-monitor.ts';
import { reportRunTime, rolloutOptions } from './rollout/options.ts';
import { packedTable, stepTable, summaryTable, type Measurement } from './rollout/report.ts';
import { checkServes, startTestBed, type TestBed } from './rollout/test-bed.ts';
import {
  packArtifact,
  rollOutWithAnsible,
  rollOutWithScript,
  rollOutWithSluice,
  type Rollout,
  type Variant,
} from './rollout/variants.ts';

const allVariants: Variant[] = ['sluice', 'bash', 'bash-cm', 'ansible', 'parallel'];
const options = rolloutOptions({
  usage:
    'node bench/rollout.ts [--hosts 2,8] [--runs 3] [--variants sluice,bash,bash-cm,ansible,parallel] [--payload-mib 50] [--max-minutes 30] [--json out.json]',
  defaults: { hosts: '2,8', runs: '3', variants: 'sluice,bash,ansible,parallel', maxMinutes: '30' },
  variants: allVariants,
  minHosts: 1,
});
const { hostCounts, runs, payloadBytes, deadline, variants: chosen } = options;

let versions = 0;

/** One rollout of a new version with the monitor running; checks every host serves it afterwards. */
async function measure(bed: TestBed, variant: Variant, drain: boolean, run: number): Promise<Measurement> {
  const version = `v${++versions}`;
  // The build: Sluice's own is timed apart from its deploy; so is the packing of the ControlMaster script.
  const packed = variant === 'sluice' ? undefined : await packArtifact(bed, version, { fast: variant === 'bash-cm' });
  const tarball = packed?.tarball ?? '';
  // Every rollout starts with every server UP, whatever the last one left behind.
  for (const host of bed.ssh.hosts) await bed.lb.waitUntilUp(host.name, 15_000);
  const monitor = startMonitor({
    url: `http://127.0.0.1:${bed.lb.port}/`,
    maxRequests: 50_000,
    maxDurationMs: 10 * 60_000,
  });
  let rollout: Rollout;
  try {
    await monitor.waitForMore(5);
    if (variant === 'sluice')
      rollout = await rollOutWithSluice(bed, version, { drain, rolling: 'batch: 1, min_healthy: 1' });
    else if (variant === 'ansible') rollout = await rollOutWithAnsible(bed, tarball, version, drain);
    else
      rollout = await rollOutWithScript(bed, tarball, version, {
        drain,
        parallel: variant === 'parallel',
        controlMaster: variant === 'bash-cm',
      });
    await monitor.waitForMore(10);
  } finally {
    await monitor.stop();
  }
  const report = monitor.current();
  await checkServes(bed, version, `the ${variant} rollout`);
  return {
    hosts: bed.ssh.hosts.length,
    drain,
    variant,
    run,
    ms: rollout.ms,
    ...(variant === 'sluice' && { packMs: rollout.buildMs }),
    ...(variant === 'bash-cm' && { packMs: packed!.ms }),
    sent: report.sent,
    failed: report.failed,
    steps: rollout.steps,
  };
}

/** Alternating orders, so no variant always runs first or on a machine the previous one just warmed. */
function order(run: number, drain: boolean): Variant[] {
  // The floor never drains: it runs once per run, with the undrained rollouts.
  const variants = allVariants.filter((v) => chosen.includes(v) && !(drain && v === 'parallel'));
  const shift = run % variants.length;
  return [...variants.slice(shift), ...variants.slice(0, shift)];
}

const results: Measurement[] = [];
let cutShort = false;
for (const hosts of hostCounts) {
  console.error(`\n${hosts} hosts: starting sshd, HAProxy and the app (payload ${options.payloadMib} MiB)`);
  const bed = await startTestBed(hosts, payloadBytes);
  try {
    // A first release on every host, so each measured rollout replaces a running app.
    await rollOutWithScript(bed, (await packArtifact(bed, 'v0')).tarball, 'v0', { drain: false, parallel: true });
    for (let run = 1; run <= runs && !cutShort; run++) {
      for (const drain of [true, false]) {
        for (const variant of order(run, drain)) {
          if (Date.now() > deadline) {
            cutShort = true;
            break;
          }
          const m = await measure(bed, variant, drain, run);
          results.push(m);
          const steps = Object.entries(m.steps)
            .map(([step, s]) => `${step} ${s.toFixed(2)}`)
            .join(', ');
          const pack =
            m.packMs === undefined
              ? ''
              : ` + ${variant === 'sluice' ? 'build' : 'pack'} ${(m.packMs / 1000).toFixed(2)} s`;
          console.error(
            `  run ${run} ${drain ? 'drain   ' : 'no drain'} ${variant.padEnd(8)} ${(m.ms / 1000).toFixed(2)} s${pack}, failed ${m.failed}/${m.sent}  (${steps})`,
          );
        }
      }
    }
  } finally {
    await bed.stop();
  }
}

reportRunTime(options, cutShort);
console.log(`\nRolling out a ${options.payloadMib} MiB artifact, batch 1: median wall time of ${runs} runs\n`);
console.log(summaryTable(results));
if (chosen.includes('parallel'))
  console.log('\n¹ every host at once, no drain: the same in both rows of a host count.');
console.log('');
if (chosen.includes('sluice') && chosen.includes('bash-cm')) {
  console.log('Making the artifact plus rolling it out (median of the runs): Sluice beside the ControlMaster script\n');
  console.log(`${packedTable(results)}\n`);
}
console.log('Seconds per step, summed over hosts (median of the runs):\n');
for (const hosts of hostCounts) for (const drain of [true, false]) console.log(`${stepTable(results, hosts, drain)}\n`);
if (options.json) writeFileSync(options.json, `${JSON.stringify(results, null, 2)}\n`);
