/**
 * Memory per in-flight execution: Sluice as `npm start` runs it (SQLite),
 * RSS and V8 heap idle, then with 0 and `--in-flight` builds running at once
 * (each sleeps), side by side in one run; with `--snapshots`, a heap
 * snapshot of each state (SIGUSR2, `--heapsnapshot-signal`) summed by
 * constructor, the biggest growths listed, to see where the memory goes.
 *
 * With `--against <checkout>`, only idle RSS instead: this checkout's and
 * another's (an older version, e.g. `git archive <commit> | tar -x -C
 * /tmp/before` with this checkout's node_modules linked in), started in
 * turn `--rounds` times, medians side by side.
 *
 *   node bench/memory.ts [--in-flight 50] [--snapshots]
 *   node bench/memory.ts --against /tmp/before [--rounds 5]
 */
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { GithubStandIn } from '../test/helpers/github-stand-in.ts';
import { pushPayload } from '../test/helpers/github-webhooks.ts';
import { buildOf, pipelineFixture } from '../test/helpers/pipeline-fixture.ts';
import { freeLoopbackPort } from '../test/helpers/free-port.ts';
import { githubAppEnv, startSluiceProcess, type SluiceProcess } from '../test/helpers/sluice-process.ts';
import { sha } from '../test/helpers/slack-sluice.ts';

const { values } = parseArgs({
  options: {
    'in-flight': { type: 'string', default: '50' },
    snapshots: { type: 'boolean', default: false },
    against: { type: 'string' },
    rounds: { type: 'string', default: '5' },
  },
});
const IN_FLIGHT = Number(values['in-flight']);
const SECRET = 'bench-webhook-secret';

const github = await new GithubStandIn().start();
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-memory-'));
writeFileSync(join(dir, 'server.yml'), 'hosts:\n  local: [local]\nlocal:\n  repos: ["*"]\n');
let sluice: SluiceProcess | undefined;
if (values.against !== undefined) {
  try {
    await compareIdle(resolve(values.against), Number(values.rounds));
  } finally {
    await github.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}
try {
  sluice = await startSluiceProcess({
    cwd: dir,
    port: await freeLoopbackPort(),
    env: {
      SLUICE_DATA_DIR: join(dir, 'data'),
      SLUICE_CONFIG: join(dir, 'server.yml'),
      NODE_OPTIONS: '--heapsnapshot-signal=SIGUSR2 --expose-gc',
      ...githubAppEnv(github, SECRET),
    },
  });
  await sleep(3000);
  const idle = await measure(sluice, 'idle');
  // One execution first, so what every execution's first use loads (modules, clients) is not counted per execution.
  await startBuilds(sluice, 'warm', 1);
  const one = await measure(sluice, 'one');
  await startBuilds(sluice, 'flight', IN_FLIGHT);
  const many = await measure(sluice, 'many');
  console.log(`Sluice (npm start, SQLite), ${IN_FLIGHT} builds in flight, each sleeping\n`);
  console.log('| state | RSS | V8 heap used | external + array buffers |');
  console.log('|---|---:|---:|---:|');
  for (const [name, m] of [
    ['idle', idle],
    ['1 build in flight', one],
    [`${IN_FLIGHT + 1} builds in flight`, many],
  ] as const)
    console.log(`| ${name} | ${m.rss.toFixed(1)} MiB | ${m.heap.toFixed(1)} MiB | ${m.external.toFixed(1)} MiB |`);
  console.log(
    `\nper in-flight build (${IN_FLIGHT + 1} against 1): RSS ${((many.rss - one.rss) / IN_FLIGHT).toFixed(2)} MiB, heap ${((many.heap - one.heap) / IN_FLIGHT).toFixed(2)} MiB`,
  );
  if (values.snapshots) {
    const grown = new Map<string, number>();
    for (const [name, size] of one.byConstructor) grown.set(name, -size);
    for (const [name, size] of many.byConstructor) grown.set(name, (grown.get(name) ?? 0) + size);
    console.log('\n| heap snapshot: grown by | KiB per build |');
    console.log('|---|---:|');
    for (const [name, size] of [...grown].sort((a, b) => b[1] - a[1]).slice(0, 25))
      console.log(`| ${name.slice(0, 60).replaceAll('|', '\\|')} | ${(size / 1024 / IN_FLIGHT).toFixed(1)} |`);
  }
} finally {
  await sluice?.kill();
  await github.stop();
  rmSync(dir, { recursive: true, force: true });
}

async function startBuilds(sluice: SluiceProcess, name: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const repo = `bench/${name}-${i}`;
    github.install(repo); // the app reaches only the repositories it is installed on, as on GitHub
    github.addCommit(repo, sha(2), {
      '.github/sluice.yml': pipelineFixture('one-build', (pipeline) => {
        Object.assign(buildOf(pipeline), { run: [`touch ${join(dir, `${name}-${i}`)}`, 'sleep 120'], timeout: '5m' });
      }),
    });
    const body = JSON.stringify(pushPayload({ repo, after: sha(2) }));
    await fetch(`${sluice.url}/api/github/webhooks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': `${name}-${i}`,
        'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
      },
      body,
    });
  }
  const deadline = Date.now() + 300_000;
  while (Array.from({ length: count }, (_, i) => existsSync(join(dir, `${name}-${i}`))).some((s) => !s)) {
    if (Date.now() > deadline) throw new Error(`not every build started: ${sluice.output().slice(-2000)}`);
    await sleep(100);
  }
  // The check runs' first updates go out paced by the stand-in's pacing; let them settle.
  await sleep(5000);
}

interface Measured {
  rss: number;
  heap: number;
  external: number;
  byConstructor: Map<string, number>;
}

async function measure(sluice: SluiceProcess, label: string): Promise<Measured> {
  const status = readFileSync(`/proc/${sluice.pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
  const byConstructor = new Map<string, number>();
  let heap = 0;
  if (values.snapshots) {
    const before = new Set(readdirSync(dir));
    process.kill(sluice.pid, 'SIGUSR2');
    let file: string | undefined;
    for (;;) {
      file = readdirSync(dir).find((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
      // Written once the size stops changing; the JSON then parses.
      if (file) {
        try {
          const snapshot = JSON.parse(readFileSync(join(dir, file), 'utf8')) as HeapSnapshot;
          heap = summarize(snapshot, byConstructor);
          break;
        } catch {
          // not whole yet
        }
      }
      await sleep(500);
    }
    rmSync(join(dir, file));
    console.error(`${label}: snapshot read`);
  }
  return { rss, heap: heap / 1024 / 1024, external: 0, byConstructor };
}

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Adds up self sizes by type and constructor name; returns the total. */
function summarize(snapshot: HeapSnapshot, into: Map<string, number>): number {
  const fields = snapshot.snapshot.meta.node_fields;
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const types = snapshot.snapshot.meta.node_types[0];
  let total = 0;
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt!]!]!;
    const size = snapshot.nodes[i + sizeAt!]!;
    const name = type === 'object' || type === 'closure' ? snapshot.strings[snapshot.nodes[i + nameAt!]!]! : '';
    const key = `${type}${name ? ` ${name}` : ''}`;
    into.set(key, (into.get(key) ?? 0) + size);
    total += size;
  }
  return total;
}

/** Idle RSS of this checkout and of `other`, started in turn, each fresh on its own data directory. */
async function compareIdle(other: string, rounds: number): Promise<void> {
  const checkouts = [
    ['this checkout', undefined],
    [other, join(other, 'src/main.ts')],
  ] as const;
  const rss = new Map<string, number[]>(checkouts.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, main] of checkouts) {
      const data = join(dir, `data-${round}-${rss.get(name)!.length}-${name === other ? 'other' : 'this'}`);
      const started = await startSluiceProcess({
        cwd: dir,
        port: await freeLoopbackPort(),
        ...(main && { main }),
        env: { SLUICE_DATA_DIR: data, SLUICE_CONFIG: join(dir, 'server.yml'), ...githubAppEnv(github, SECRET) },
      });
      try {
        await sleep(3000);
        const status = readFileSync(`/proc/${started.pid}/status`, 'utf8');
        rss.get(name)!.push(Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) / 1024);
      } finally {
        await started.kill();
      }
    }
  }
  const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
  console.log(`Sluice idle (npm start, SQLite, GitHub App at the stand-in), ${rounds} starts each, in turn\n`);
  console.log('| checkout | idle RSS, median | each start |');
  console.log('|---|---:|---|');
  for (const [name, list] of rss)
    console.log(`| ${name} | ${median(list).toFixed(1)} MiB | ${list.map((v) => v.toFixed(1)).join(', ')} |`);
}
