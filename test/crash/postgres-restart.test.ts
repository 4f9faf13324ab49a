/**
 * Sluice on PostgreSQL while the server goes away mid-execution and comes
 * back: no crash and no unhandled rejection. While it is down, webhooks are
 * answered 503 and the build that ends cannot record its artifact and says
 * so; once it is back, that failure is recorded, the stage can be retried
 * from GitHub, and a redelivered push runs. Started while PostgreSQL is
 * down (a machine booting with Sluice first), Sluice does not exit into a
 * restart loop: it answers 503 and starts once the server is up.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { GithubStandIn } from '../helpers/github-stand-in.ts';
import {
  assertCarriesOn,
  builderDevConfig,
  gatedBuildToDev,
  heldCheckRuns,
  pushGatedBuild,
  waitForSluice,
} from '../helpers/fault-checks.ts';
import { pushPayload, sendWebhook, sha } from '../helpers/github-webhooks.ts';
import { freeLoopbackPort } from '../helpers/free-port.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { githubAppEnv, startSluiceProcess, type SluiceProcess } from '../helpers/sluice-process.ts';

const SECRET = 'postgres-restart-webhook-secret';
const REPO = 'acme/shop';

let github: GithubStandIn;
let postgres: TestPostgres;
let dir = '';
let sluice: SluiceProcess | undefined;

before(async () => {
  github = await new GithubStandIn().start();
  github.install(REPO);
  postgres = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'sluice-pg-restart-'));
  writeFileSync(join(dir, 'server.yml'), builderDevConfig(dir));
});

after(async () => {
  await sluice?.kill();
  await github?.stop();
  await postgres?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const waitFor = (what: string, check: () => boolean | Promise<boolean>, ms?: number) =>
  waitForSluice(sluice, what, check, ms);

const checkRuns = (name: string, commit: string) => heldCheckRuns(github, name, commit);

test(
  'PostgreSQL going away mid-build fails the build with why, refuses webhooks with 503, and Sluice carries on once it is back',
  { timeout: 300_000 },
  async () => {
    const gate = join(dir, 'gate');
    const started = join(dir, 'started');
    const pipeline = gatedBuildToDev(started, gate);
    sluice = await startSluiceProcess({
      cwd: dir,
      port: await freeLoopbackPort(),
      env: {
        SLUICE_DATA_DIR: join(dir, 'data'),
        DATABASE_URL: postgres.url,
        SLUICE_CONFIG: join(dir, 'server.yml'),
        ...githubAppEnv(github, SECRET),
      },
    });
    const bed = { github, sluice, secret: SECRET, repo: REPO };
    await pushGatedBuild(bed, pipeline, started);

    await postgres.halt();
    const push2 = await sendWebhook(sluice.url, SECRET, 'push', pushPayload({ repo: REPO, after: sha(2) }), {
      delivery: 'push-2',
    });
    assert.equal(push2.status, 503, push2.text);
    assert.match(push2.text, /could not store this delivery .*nothing was acknowledged/);
    assert.equal((await fetch(`${sluice.url}/healthz`)).status, 200, 'the process keeps serving');

    // The build ends while the database is away: it cannot store its artifact, where other replicas find it, nor yet
    // record that it failed.
    writeFileSync(gate, '');
    await waitFor('Sluice to say it cannot record the build', () =>
      /could not record how build\/compile ended/.test(sluice!.output()),
    );
    await postgres.resume();

    await waitFor('the failed build on GitHub', () => checkRuns('Sluice: build', sha(1))[0]?.conclusion === 'failure');
    const [build] = checkRuns('Sluice: build', sha(1));
    assert.match(
      `${build?.output?.summary}\n${build?.output?.text}`,
      /could not store artifact "app": the database, where other replicas find it, failed as Sluice stored sha256:[0-9a-f]{64} \(.*ECONNREFUSED.*\); retry the stage once the database is back/,
    );

    // Retried from GitHub, the stage builds and deploys; GitHub's redelivery of the refused push runs.
    await assertCarriesOn(bed, build!);
  },
);

test(
  'started while PostgreSQL is down, Sluice answers 503 with the reason instead of exiting, and starts once PostgreSQL is up',
  { timeout: 300_000 },
  async (t: TestContext) => {
    const url = await postgres.freshDatabase();
    await postgres.halt();
    t.after(() => postgres.resume().catch(() => {}));
    const waiting = await startSluiceProcess({
      cwd: dir,
      port: await freeLoopbackPort(),
      env: {
        SLUICE_DATA_DIR: join(dir, 'data-down'),
        DATABASE_URL: url,
        SLUICE_CONFIG: join(dir, 'server.yml'),
        ...githubAppEnv(github, SECRET),
      },
      ready: /Cannot connect to PostgreSQL/,
    });
    t.after(() => waiting.kill());
    const said = waiting
      .output()
      .split('\n')
      .filter((line) => /Cannot connect to PostgreSQL/.test(line));
    assert.equal(said.length, 1, waiting.output());
    assert.match(said[0]!, /ECONNREFUSED.*Sluice answers 503 and tries again until it can\.$/);
    const refused = await sendWebhook(waiting.url, SECRET, 'push', pushPayload({ repo: REPO, after: sha(3) }), {
      delivery: 'down-push-1',
    });
    assert.equal(refused.status, 503);
    assert.match(
      refused.text,
      /cannot open its database: its PostgreSQL cannot be reached\. Nothing was stored or acknowledged/,
    );
    assert.doesNotMatch(refused.text, /postgres:\/\//, 'the answer to anyone on the port does not name the server');
    assert.equal((await fetch(`${waiting.url}/healthz`)).status, 503);

    await postgres.resume();
    await waitForSluice(waiting, 'Sluice to start', () => /Sluice listening on port/.test(waiting.output()));
    assert.equal((await fetch(`${waiting.url}/healthz`)).status, 200);
    assert.equal(waiting.child.exitCode, null, 'it never exited');
    assert.equal(
      waiting
        .output()
        .split('\n')
        .filter((line) => /Cannot connect to PostgreSQL/.test(line)).length,
      1,
      'one line for the spell, not one per try',
    );
    assert.doesNotMatch(waiting.output(), /unhandled|ERR_UNHANDLED_REJECTION|triggerUncaughtException/i);
  },
);
