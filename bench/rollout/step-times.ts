/**
 * Where a rollout's time went, per step, summed over hosts (seconds): from
 * Sluice's own log, from the "<host> <step> <seconds>" lines of
 * rolling-deploy.sh, and from Ansible's JSON output. Pure: text in, numbers out.
 */
import type { LogLine } from '../../src/store/store.ts';

export type StepTimes = Record<string, number>;

/**
 * Sluice logs `[host] …` lines as it goes; the time between one marker of a
 * host and the next is the step the later marker ends. Staging runs on all
 * hosts at once, so `stage` is its wall time, not a sum.
 */
export function sluiceStepTimes(lines: LogLine[], startedAt: number, finishedAt: number): StepTimes {
  const steps: StepTimes = {};
  const add = (step: string, ms: number) => (steps[step] = (steps[step] ?? 0) + ms / 1000);
  const last = new Map<string, number>();
  let opened: number | undefined;
  let staged: number | undefined;
  let lastHostLine = startedAt;
  const markers: Array<[RegExp, string]> = [
    [/^drained from the load balancer$/, 'drain'],
    [/^(stopped \(pid|stop\.sh: not running)/, 'stop'],
    [/^current → /, 'switch'],
    [/^started /, 'start'],
    [/^healthy after /, 'health'],
    [/^back in the load balancer$/, 'undrain'],
  ];
  for (const { text, at } of lines) {
    if (opened === undefined && /^deploying /.test(text)) {
      opened = at;
      add('connect', at - startedAt);
      continue;
    }
    const match = /^\[([^\]]+)\] (.*)$/.exec(text);
    if (!match) continue;
    const [, host, rest] = match as unknown as [string, string, string];
    if (/^release .* staged/.test(rest)) {
      staged = at;
      continue;
    }
    const batch = /^batch \d+ of \d+: (.*)$/.exec(rest);
    if (host === '*' && batch) {
      for (const name of batch[1]!.split(', ')) last.set(name, at);
      continue;
    }
    const step = markers.find(([pattern]) => pattern.test(rest))?.[1];
    const since = last.get(host);
    if (!step || since === undefined) continue;
    add(step, at - since);
    last.set(host, at);
    lastHostLine = at;
  }
  if (opened !== undefined && staged !== undefined) add('stage', staged - opened);
  add('prune', finishedAt - lastHostLine);
  return steps;
}

/** `host1 upload 0.412` lines on rolling-deploy.sh's stderr. */
export function scriptStepTimes(stderr: string): StepTimes {
  const steps: StepTimes = {};
  for (const line of stderr.split('\n')) {
    const match = /^(\S+) (\S+) (\d+(?:\.\d+)?)$/.exec(line.trim());
    if (match) steps[match[2]!] = (steps[match[2]!] ?? 0) + Number(match[3]);
  }
  return steps;
}

interface AnsibleJson {
  plays?: Array<{ tasks?: Array<{ task?: { name?: string; duration?: { start?: string; end?: string } } }> }>;
}

/** The ansible.posix.json callback's output: each task's duration, by task name. */
export function ansibleStepTimes(stdout: string): StepTimes {
  const steps: StepTimes = {};
  const start = stdout.indexOf('{');
  if (start < 0) return steps;
  const report = JSON.parse(stdout.slice(start)) as AnsibleJson;
  for (const play of report.plays ?? []) {
    for (const { task } of play.tasks ?? []) {
      const from = Date.parse(task?.duration?.start ?? '');
      const to = Date.parse(task?.duration?.end ?? '');
      if (!task?.name || Number.isNaN(from) || Number.isNaN(to)) continue;
      steps[task.name] = (steps[task.name] ?? 0) + (to - from) / 1000;
    }
  }
  return steps;
}
