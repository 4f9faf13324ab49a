/**
 * Artifact throughput: a 50 MiB artifact (random bytes, as a tarball of a
 * built app is to gzip) stored and fetched through PostgreSQL (1 MiB chunk
 * rows, verified as it streams) beside the data directory's files, in one
 * run. `put` is what a build pays after its download; `fetch` what a
 * replica with an empty cache pays before a deploy. Median of 5 rounds,
 * alternating, and the peak RSS of this process.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ArtifactStore } from '../src/artifact/artifact-store.ts';
import { openStore } from '../src/store/open-store.ts';
import { startPostgres } from '../test/helpers/postgres.ts';

const MIB = Number(process.env.BENCH_ARTIFACT_MIB ?? 50);
const ROUNDS = 5;

const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-blobs-'));
const postgres = await startPostgres();
const store = await openStore({ dataDir: join(dir, 'unused'), databaseUrl: postgres.url });
try {
  const file = join(dir, 'artifact.tar.gz');
  await pipeline(
    (function* () {
      for (let i = 0; i < MIB; i++) yield randomBytes(1024 * 1024);
    })(),
    createWriteStream(file),
  );
  const times = {
    files: { put: [] as number[], fetch: [] as number[] },
    postgres: { put: [] as number[], fetch: [] as number[] },
  };
  for (let round = 0; round < ROUNDS; round++) {
    // Each round a new digest, so nothing is found stored already.
    await pipeline(
      (function* () {
        yield randomBytes(16);
      })(),
      createWriteStream(file, { flags: 'r+' }),
    );
    for (const kind of round % 2 === 0 ? (['files', 'postgres'] as const) : (['postgres', 'files'] as const)) {
      const base = join(dir, `${kind}-${round}`);
      const blobs = kind === 'postgres' ? store.blobs : undefined;
      const builder = new ArtifactStore(join(base, 'a'), blobs);
      let started = performance.now();
      const { sha256 } = await builder.put(file);
      times[kind].put.push(performance.now() - started);
      // The files' fetch verifies the file in place; PostgreSQL's fills an empty cache from the database.
      const reader = kind === 'postgres' ? new ArtifactStore(join(base, 'b'), blobs) : builder;
      started = performance.now();
      await reader.fetch(sha256);
      times[kind].fetch.push(performance.now() - started);
      rmSync(base, { recursive: true, force: true });
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rate = (ms: number) => `${(MIB / (ms / 1000)).toFixed(0)} MiB/s`;
  console.log(`| ${MIB} MiB artifact | files | PostgreSQL | PostgreSQL / files |`);
  console.log('|---|---|---|---|');
  for (const step of ['put', 'fetch'] as const) {
    const f = median(times.files[step]);
    const p = median(times.postgres[step]);
    console.log(
      `| ${step} | ${(f / 1000).toFixed(2)} s (${rate(f)}) | ${(p / 1000).toFixed(2)} s (${rate(p)}) | ${(p / f).toFixed(2)} |`,
    );
  }
  console.log(`\npeak RSS of the benchmark process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
} finally {
  await store.close();
  await postgres.stop();
  rmSync(dir, { recursive: true, force: true });
}
