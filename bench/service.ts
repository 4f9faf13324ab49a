/**
 * The service side of Sluice, as `npm start` runs it (a process of its own),
 * on its embedded SQLite beside PostgreSQL in one run:
 *  1. webhook acknowledgement latency (p50/p99/max) at 100 and 500
 *     requests/s, open loop, for a bounded time, and that every delivery
 *     acknowledged was stored;
 *  2. memory (RSS) of an idle process, and with 50 executions in flight;
 *  3. from a push's delivery to its first build command starting.
 *
 *   node bench/service.ts [--seconds 10] [--json out.json]
 */
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../src/store/open-store.ts';
import type { Store } from '../src/store/store.ts';
import { GithubStandIn } from '../test/helpers/github-stand-in.ts';
import { pushPayload } from '../test/helpers/github-webhooks.ts';
import { freeLoopbackPort } from '../test/helpers/free-port.ts';
import { buildOf, pipelineFixture } from '../test/helpers/pipeline-fixture.ts';
import { startPostgres } from '../test/helpers/postgres.ts';
import { githubAppEnv, startSluiceProcess, type SluiceProcess } from '../test/helpers/sluice-process.ts';
import { sha } from '../test/helpers/slack-sluice.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    json: { type: 'string' },
    event: { type: 'string', default: 'push' },
  },
});
/** `push` (to feature branches; handled after the reply) or `ping` (an event Sluice does not act on). */
const EVENT = values.event === 'ping' ? 'ping' : 'push';
const SECONDS = Number(values.seconds);
const SECRET = 'bench-webhook-secret';
const RATES = [100, 500];
const IN_FLIGHT = 50;
const TO_FIRST_COMMAND_RUNS = 10;

interface Backend {
  name: 'SQLite' | 'PostgreSQL';
  databaseUrl?: string;
}

interface Result {
  backend: string;
  ack: Array<{ rate: number; sent: number; stored: number; p50: number; p99: number; max: number; achieved: number }>;
  rssIdleMiB: number;
  rssInFlightMiB: number;
  toFirstCommandMs: number[];
}

const github = await new GithubStandIn().start();
github.install('bench/shop'); // the app reaches only the repositories it is installed on, as on GitHub
github.addCommit('bench/shop', sha(1), {
  // Pushes to other branches (most of the load) only reach the inbox.
  '.github/sluice.yml': pipelineFixture('one-build', (pipeline) => {
    pipeline.on = { push: { branches: ['main'] } };
  }),
});
const postgres = await startPostgres();
const results: Result[] = [];
try {
  for (const backend of [
    { name: 'SQLite' },
    { name: 'PostgreSQL', databaseUrl: await postgres.freshDatabase() },
  ] as Backend[]) {
    results.push(await measure(backend));
  }
} finally {
  await postgres.stop();
  await github.stop();
}
report(results);
if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);

async function measure(backend: Backend): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-service-'));
  writeFileSync(join(dir, 'server.yml'), 'hosts:\n  local: [local]\nlocal:\n  repos: ["*"]\n');
  const sluice = await startSluiceProcess({
    cwd: dir,
    port: await freeLoopbackPort(),
    env: {
      SLUICE_DATA_DIR: join(dir, 'data'),
      SLUICE_CONFIG: join(dir, 'server.yml'),
      ...(backend.databaseUrl && { DATABASE_URL: backend.databaseUrl }),
      ...githubAppEnv(github, SECRET),
    },
  });
  const observer = await openStore({
    dataDir: join(dir, 'observer'),
    ...(backend.databaseUrl && { databaseUrl: backend.databaseUrl }),
  }).catch(() => undefined);
  try {
    await sleep(3000);
    const rssIdleMiB = rssMiB(sluice.pid);
    const ack = [];
    for (const rate of RATES) ack.push(await ackLatency(sluice, rate, backend, dir, observer));
    const toFirstCommandMs = [];
    for (let i = 0; i < TO_FIRST_COMMAND_RUNS; i++)
      toFirstCommandMs.push(await toFirstCommand(sluice, dir, `${backend.name}-${i}`));
    const rssInFlightMiB = await inFlight(sluice, dir, backend.name);
    console.error(`${backend.name}: done`);
    return { backend: backend.name, ack, rssIdleMiB, rssInFlightMiB, toFirstCommandMs };
  } finally {
    await observer?.close();
    await sluice.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `rate` signed pushes a second, on schedule whatever the answers do, for
 * SECONDS: pushes to feature branches the pipeline does not run for, the
 * most common webhook there is. Each is stored, acknowledged, then handled
 * (its pipeline file read through the API, the branch found not to match).
 */
async function ackLatency(
  sluice: SluiceProcess,
  rate: number,
  backend: Backend,
  dir: string,
  observer: Store | undefined,
) {
  const total = rate * SECONDS;
  const latencies: number[] = [];
  const ids: string[] = [];
  const started = performance.now();
  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const id = `bench-${backend.name}-${rate}-${i}`;
    const body = JSON.stringify(
      EVENT === 'push'
        ? pushPayload({ repo: 'bench/shop', branch: `feature/${rate}-${i}`, after: sha(1) })
        : { zen: 'Keep it logically awesome.', hook_id: i },
    );
    const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    const sent = performance.now();
    pending.push(
      fetch(`${sluice.url}/api/github/webhooks`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': EVENT,
          'x-github-delivery': id,
          'x-hub-signature-256': signature,
        },
        body,
      }).then(
        async (response) => {
          await response.arrayBuffer();
          if (response.status === 200) {
            latencies.push(performance.now() - sent);
            ids.push(id);
          }
        },
        () => {},
      ),
    );
  }
  await Promise.all(pending);
  const achieved = total / ((performance.now() - started) / 1000);
  let stored = 0;
  // Stored, and handled too before the next rate starts.
  await drained(backend, dir, observer, ids);
  if (backend.databaseUrl && observer) {
    for (const id of ids) if (await observer.getDelivery(id)) stored++;
  } else {
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(join(dir, 'data', 'sluice.db'), { readOnly: true });
    const have = new Set(
      (db.prepare("SELECT id FROM webhook_deliveries WHERE id LIKE 'bench-%'").all() as Array<{ id: string }>).map(
        (r) => r.id,
      ),
    );
    db.close();
    stored = ids.filter((id) => have.has(id)).length;
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { rate, sent: total, stored, p50: at(0.5), p99: at(0.99), max: latencies.at(-1) ?? NaN, achieved };
}

/** Waits (up to 5 minutes) until every one of `ids` is handled. */
async function drained(backend: Backend, dir: string, observer: Store | undefined, ids: string[]): Promise<void> {
  const deadline = Date.now() + 300_000;
  const last = ids.at(-1);
  while (last && Date.now() < deadline) {
    const delivery = backend.databaseUrl ? await observer?.getDelivery(last) : await sqliteDelivery(dir, last);
    if (delivery?.status === 'done') return;
    await sleep(200);
  }
}

async function sqliteDelivery(dir: string, id: string): Promise<{ status: string } | undefined> {
  const { DatabaseSync } = await import('node:sqlite');
  const db = new DatabaseSync(join(dir, 'data', 'sluice.db'), { readOnly: true });
  try {
    return db.prepare('SELECT status FROM webhook_deliveries WHERE id = ?').get(id) as { status: string } | undefined;
  } finally {
    db.close();
  }
}

/** A push whose first build command writes the time it started. */
async function toFirstCommand(sluice: SluiceProcess, dir: string, name: string): Promise<number> {
  const marker = join(dir, `${name}.started`);
  const repo = `bench/${name.toLowerCase()}`;
  github.install(repo);
  github.addCommit(repo, sha(1), {
    '.github/sluice.yml': pipelineFixture('one-build', (pipeline) => {
      buildOf(pipeline).run = [`date +%s%3N > ${marker}`];
    }),
  });
  const body = JSON.stringify(pushPayload({ repo, after: sha(1) }));
  const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  const sent = Date.now();
  await fetch(`${sluice.url}/api/github/webhooks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': `first-${name}`,
      'x-hub-signature-256': signature,
    },
    body,
  });
  const deadline = Date.now() + 60_000;
  while (!existsSync(marker) || readFileSync(marker, 'utf8') === '') {
    if (Date.now() > deadline) throw new Error(`the build of ${repo} never started:\n${sluice.output().slice(-2000)}`);
    await sleep(5);
  }
  return Number(readFileSync(marker, 'utf8')) - sent;
}

/** RSS with IN_FLIGHT executions whose builds are all running (each sleeps). */
async function inFlight(sluice: SluiceProcess, dir: string, name: string): Promise<number> {
  for (let i = 0; i < IN_FLIGHT; i++) {
    const repo = `bench/flight-${name.toLowerCase()}-${i}`;
    const marker = join(dir, `flight-${i}`);
    github.install(repo);
    github.addCommit(repo, sha(2), {
      '.github/sluice.yml': pipelineFixture('one-build', (pipeline) => {
        Object.assign(buildOf(pipeline), { run: [`touch ${marker}`, 'sleep 20'], timeout: '1m' });
      }),
    });
    const body = JSON.stringify(pushPayload({ repo, after: sha(2) }));
    const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    await fetch(`${sluice.url}/api/github/webhooks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': `flight-${name}-${i}`,
        'x-hub-signature-256': signature,
      },
      body,
    });
  }
  const deadline = Date.now() + 60_000;
  while (
    Array.from({ length: IN_FLIGHT }, (_, i) => existsSync(join(dir, `flight-${i}`))).some((started) => !started)
  ) {
    if (Date.now() > deadline) throw new Error('not every build started');
    await sleep(100);
  }
  await sleep(1000);
  return rssMiB(sluice.pid);
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

function report(all: Result[]): void {
  const f = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '—');
  console.log(
    `\nWebhook acknowledgement (${EVENT}), ${SECONDS} s per rate (open loop; latency of the 200 answers, ms):\n`,
  );
  console.log('| database | rate | sent | stored | p50 | p99 | max | achieved rate |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of all)
    for (const a of r.ack)
      console.log(
        `| ${r.backend} | ${a.rate}/s | ${a.sent} | ${a.stored} | ${f(a.p50)} | ${f(a.p99)} | ${f(a.max)} | ${a.achieved.toFixed(0)}/s |`,
      );
  console.log('\nMemory and the way to the first build command:\n');
  console.log(
    `| database | RSS idle | RSS, ${IN_FLIGHT} executions in flight | push → first build command (median of ${TO_FIRST_COMMAND_RUNS}) | min | max |`,
  );
  console.log('|---|---|---|---|---|---|');
  for (const r of all) {
    const sorted = [...r.toFirstCommandMs].sort((a, b) => a - b);
    console.log(
      `| ${r.backend} | ${r.rssIdleMiB.toFixed(0)} MiB | ${r.rssInFlightMiB.toFixed(0)} MiB | ${sorted[Math.floor(sorted.length / 2)]} ms | ${sorted[0]} ms | ${sorted.at(-1)} ms |`,
    );
  }
  const [a, b] = all;
  if (a && b) {
    const ratio = (x: number, y: number) => (y / x).toFixed(2);
    console.log(
      `\nPostgreSQL / SQLite p50 at ${RATES.join(' and ')}/s: ${a.ack.map((x, i) => ratio(x.p50, b.ack[i]!.p50)).join(', ')}`,
    );
  }
}
