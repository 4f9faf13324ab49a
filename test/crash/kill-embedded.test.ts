/**
 * Sluice on its embedded database, killed with SIGKILL fifty times at random
 * moments while pushes are built and deployed (PRODUCT R3). After every kill
 * the database opens and passes SQLite's integrity check, every webhook
 * Sluice acknowledged is stored, nothing GitHub was told is missing, and
 * the environment's `current` release is whole. After the last, a clean
 * start finishes everything: nothing is left running.
 */
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { GithubStandIn } from '../helpers/github-stand-in.ts';
import { pushPayload, sendWebhook } from '../helpers/github-webhooks.ts';
import { freeLoopbackPort } from '../helpers/free-port.ts';
import { buildOf, deployOf, pipelineFixture } from '../helpers/pipeline-fixture.ts';
import { githubAppEnv, startSluiceProcess, type SluiceProcess } from '../helpers/sluice-process.ts';
import { sha } from '../helpers/slack-sluice.ts';

const KILLS = 50;
const SECRET = 'crash-webhook-secret';
const REPOS = ['acme/one', 'acme/two', 'acme/three'];

let github: GithubStandIn;
let dir = '';
let current: SluiceProcess | undefined;

/** The build-to-dev fixture built on this machine, slow enough for kills to land mid-build, into `environment`. */
const pipeline = (environment: string) =>
  pipelineFixture('build-to-dev', (p) => {
    buildOf(p).run.unshift('sleep 0.2');
    deployOf(p).environment = environment;
    p.app = { hooks: { start: ['sleep 0.1'] } };
  });

async function start(): Promise<SluiceProcess> {
  current = await startSluiceProcess({
    cwd: dir,
    port: await freeLoopbackPort(),
    env: {
      SLUICE_DATA_DIR: join(dir, 'data'),
      SLUICE_CONFIG: join(dir, 'server.yml'),
      ...githubAppEnv(github, SECRET),
    },
  });
  return current;
}

/** The database as a second reader sees it (WAL lets it read beside the writer). */
function withDatabase<T>(read: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(join(dir, 'data', 'sluice.db'), { readOnly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** Each environment's `current` is a link to a whole release directory, or (before any deploy) absent. */
function checkReleases(): void {
  for (const [i] of REPOS.entries()) {
    const link = join(dir, `srv${i}`, 'current');
    if (!existsSync(join(dir, `srv${i}`, 'releases'))) continue;
    if (!lstatSync(link, { throwIfNoEntry: false })) {
      // Releases are staged before the first switch; until then there is no current.
      continue;
    }
    assert.ok(lstatSync(link).isSymbolicLink(), `${link} is a link`);
    const target = join(dir, `srv${i}`, readlinkSync(link));
    assert.ok(statSync(target).isDirectory(), `${link} → ${target} exists`);
    assert.ok(existsSync(join(target, 'dist', 'VERSION')), `${target} is a whole release`);
  }
}

before(async () => {
  github = await new GithubStandIn().start();
  github.install(REPOS);
  dir = mkdtempSync(join(tmpdir(), 'sluice-crash-'));
  const environments = REPOS.map((_, i) => `  env${i}:\n    hosts: [local]\n    path: ${join(dir, `srv${i}`)}\n`).join(
    '',
  );
  writeFileSync(
    join(dir, 'server.yml'),
    `hosts:\n  builder: [local]\nlocal:\n  repos: ['*']\nenvironments:\n${environments}`,
  );
});

after(async () => {
  await current?.kill();
  await github?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test(
  `${KILLS} kills with SIGKILL at random moments lose nothing acknowledged and leave nothing half done`,
  { timeout: 600_000 },
  async (t) => {
    const acknowledged: string[] = [];
    let n = 0;
    for (let kill = 1; kill <= KILLS; kill++) {
      const sluice = await start();
      for (let i = 0; i < 2; i++) {
        n++;
        const r = n % REPOS.length;
        const repo = REPOS[r]!;
        github.addCommit(repo, sha(n), { '.github/sluice.yml': pipeline(`env${r}`), VERSION: `v${n}\n` });
        const delivery = `delivery-${n}`;
        const reply = await sendWebhook(sluice.url, SECRET, 'push', pushPayload({ repo, after: sha(n) }), { delivery });
        if (reply.status === 200) acknowledged.push(delivery);
      }
      await new Promise((done) => setTimeout(done, 100 + Math.floor(Math.random() * 1400)));
      await sluice.kill();

      withDatabase((db) => {
        assert.equal(
          (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check,
          'ok',
          `after kill ${kill}`,
        );
        const stored = new Set(
          (db.prepare('SELECT id FROM webhook_deliveries').all() as Array<{ id: string }>).map((row) => row.id),
        );
        assert.deepEqual(
          acknowledged.filter((id) => !stored.has(id)),
          [],
          `after kill ${kill}: acknowledged webhooks are stored`,
        );
        // Whatever GitHub was told a stage ended as, the database says too.
        for (const call of github.calls.filter((c) => c.method === 'PATCH' && c.body?.status === 'completed')) {
          const [executionId, stage] = String(call.body?.external_id).split('/');
          const row = db
            .prepare('SELECT status FROM stage_runs WHERE execution_id = ? AND stage = ?')
            .get(executionId!, stage!) as { status: string } | undefined;
          const told = call.body?.conclusion === 'success' ? 'succeeded' : undefined;
          if (told)
            assert.equal(row?.status, told, `after kill ${kill}: GitHub was told ${stage} of ${executionId} succeeded`);
        }
      });
      checkReleases();
    }
    t.diagnostic(`${acknowledged.length} webhooks acknowledged over ${KILLS} kills`);

    // A clean start finishes what can be finished; nothing stays running.
    await start();
    const deadline = Date.now() + 120_000;
    for (;;) {
      const left = withDatabase((db) => {
        const running = (
          db.prepare("SELECT count(*) AS n FROM executions WHERE status = 'running'").get() as { n: number }
        ).n;
        const waiting = (
          db
            .prepare("SELECT count(*) AS n FROM webhook_deliveries WHERE status IN ('received', 'processing')")
            .get() as { n: number }
        ).n;
        return running + waiting;
      });
      if (left === 0) break;
      if (Date.now() > deadline) {
        const rows = withDatabase((db) => ({
          executions: db
            .prepare(
              "SELECT e.id, e.status, a.stage, a.action, a.status AS action_status FROM executions e JOIN action_runs a ON a.execution_id = e.id WHERE e.status = 'running'",
            )
            .all(),
          deliveries: db
            .prepare(
              "SELECT id, status, attempts, note, claimed_by, lease_until FROM webhook_deliveries WHERE status IN ('received', 'processing')",
            )
            .all(),
        }));
        throw new Error(
          `still ${left} running executions or waiting deliveries: ${JSON.stringify(rows)}\n${current?.output().slice(-3000)}`,
        );
      }
      await new Promise((done) => setTimeout(done, 200));
    }
    withDatabase((db) => {
      assert.equal(
        (db.prepare("SELECT count(*) AS n FROM action_runs WHERE status = 'running'").get() as { n: number }).n,
        0,
        'no action is left running',
      );
      const deliveries = db
        .prepare('SELECT status, count(*) AS n FROM webhook_deliveries GROUP BY status')
        .all() as Array<{ status: string; n: number }>;
      assert.deepEqual(
        deliveries.map((d) => d.status),
        ['done'],
        JSON.stringify(deliveries),
      );
      const ends = db.prepare('SELECT status, count(*) AS n FROM executions GROUP BY status').all() as Array<{
        status: string;
        n: number;
      }>;
      t.diagnostic(`executions: ${JSON.stringify(ends)}`);
      assert.ok(
        ends.every((e) => ['succeeded', 'superseded', 'interrupted', 'failed'].includes(e.status)),
        JSON.stringify(ends),
      );
      assert.ok((ends.find((e) => e.status === 'succeeded')?.n ?? 0) > 0, 'some executions went all the way');
    });
    checkReleases();
  },
);
