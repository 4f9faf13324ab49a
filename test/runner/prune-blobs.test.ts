/**
 * Retention with PostgreSQL (PRODUCT R7, R2): the artifacts and sources of
 * executions it deletes go from the database too, chunks and all, but only
 * when no execution it keeps (nor a running one) names the digest; and
 * what another replica stored a moment ago stays.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { ArtifactStore } from '../../src/artifact/artifact-store.ts';
import { keepSource } from '../../src/artifact/keep-source.ts';
import type { ExecutionStatus } from '../../src/pipeline/states.ts';
import { describePrune, pruneData } from '../../src/runner/prune-data.ts';
import type { Store } from '../../src/store/store.ts';
import { startPostgresStore, type PostgresStore } from '../helpers/postgres-store.ts';
import { definitionOf } from '../helpers/pipeline-fixture.ts';

const DAY = 24 * 3_600_000;

const definition = definitionOf('one-build', (pipeline) => {
  pipeline.mode = 'queued';
});

let bed: PostgresStore | undefined;
let store: Store;
let db: pg.Client;
let dir = '';

before(async () => ({ store, db, dir } = bed = await startPostgresStore('sluice-prune-blobs-', 'data')));
after(() => bed?.stop());

test('retention deletes the blobs of deleted executions that nothing else names, and keeps shared, running and fresh ones', async () => {
  const now = Date.now();
  const pipelineId = await store.ensurePipeline('acme/web', '.github/sluice.yml');
  // Stored by another replica, whose data directory this one never sees.
  const elsewhere = new ArtifactStore(join(dir, 'other', 'artifacts'), store.blobs);
  const sources = new ArtifactStore(join(dir, 'other', 'sources'), store.blobs);
  let n = 0;
  const blob = async () => {
    const file = join(dir, `file-${++n}`);
    writeFileSync(file, `bytes ${n} `.repeat(200_000));
    return (await elsewhere.put(file)).sha256;
  };
  const backdate = (sha256: string, at: number) =>
    db.query('UPDATE artifact_blobs SET created_at = $1 WHERE sha256 = $2', [at, sha256]);
  const execution = async (at: number, status: ExecutionStatus, digest: string, source?: string) => {
    const made = await store.createExecution(
      {
        pipelineId,
        revision: { sha: `c${n}`, ref: 'main', message: 'change', author: 'alice' },
        definition,
        trigger: 'push',
        ...(source && { source }),
        artifacts: [{ name: 'app', sha256: digest, size: 1, stage: 'build', action: 'compile' }],
      },
      'github',
      at,
    );
    if (status !== 'running') {
      await store.updatePipeline(pipelineId, { actor: 'engine', now: at, include: [made.id] }, (snapshot) => {
        snapshot.executions.find((e) => e.id === made.id)!.status = status;
        return { snapshot, changes: [], commands: [] };
      });
    }
    return made;
  };

  const sourceFile = join(dir, 'source.tar.gz');
  writeFileSync(sourceFile, 'the source');
  const oldSource = await keepSource(sources, JSON.stringify({ file: sourceFile, strip: 1 }));
  const oldSourceDigest = (JSON.parse(oldSource) as { sha256: string }).sha256;
  const [gone, shared, running, fresh] = [await blob(), await blob(), await blob(), await blob()];
  for (const digest of [gone, shared, running, oldSourceDigest]) await backdate(digest, now - 50 * DAY);

  await execution(now - 40 * DAY, 'failed', gone, oldSource);
  await execution(now - 40 * DAY, 'failed', shared);
  await execution(now - DAY, 'succeeded', shared);
  await execution(now - 40 * DAY, 'running', running);

  const report = await pruneData({ store, server: undefined, dataDir: join(dir, 'data'), now });
  assert.equal(report.executions, 2);
  assert.equal(report.blobs, 2);
  assert.match(describePrune(report) ?? '', /2 database blobs/);
  assert.equal(await store.blobs!.find(gone), undefined, 'the artifact of a deleted execution went');
  assert.equal(await store.blobs!.find(oldSourceDigest), undefined, 'and its source');
  for (const kept of [shared, running, fresh]) assert.ok(await store.blobs!.find(kept), `${kept} stays`);
  const { rows } = await db.query('SELECT count(*)::int AS n FROM artifact_blob_chunks WHERE sha256 = ANY($1)', [
    [gone, oldSourceDigest],
  ]);
  assert.equal(rows[0].n, 0, 'their chunks went with them');

  assert.equal((await pruneData({ store, server: undefined, dataDir: join(dir, 'data'), now })).blobs, 0);
});
