/**
 * How fast the engine moves executions through the store, SQLite beside
 * PostgreSQL in one run. Actions succeed at once (no executor), so this
 * measures Sluice's own overhead per state change: the engine step, the
 * snapshot load and the transactional save.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PipelineRunner } from '../src/runner/pipeline-runner.ts';
import { openStore } from '../src/store/open-store.ts';
import type { Store } from '../src/store/store.ts';
import { startPostgres } from '../test/helpers/postgres.ts';
import { pipeline } from '../test/helpers/engine-harness.ts';

const EXECUTIONS = Number(process.env.BENCH_EXECUTIONS ?? 100);
const ROUNDS = 3;

const definition = pipeline({ build: ['compile', 'lint'], dev: ['deploy'], production: ['ship'] }, { mode: 'queued' });

async function drive(store: Store): Promise<{ ms: number; changes: number }> {
  const runner = new PipelineRunner({ store, actor: 'bench', actions: { run: async () => ({ ok: true }) } });
  const pipelineId = await store.ensurePipeline('bench/app', `.github/sluice-${Math.random()}.yml`);
  const started = performance.now();
  for (let i = 0; i < EXECUTIONS; i++) {
    await runner.start(
      { pipelineId, revision: { sha: `${i}`.padStart(40, '0') }, definition, trigger: 'bench' },
      'bench',
    );
  }
  await runner.idle();
  const ms = performance.now() - started;
  const executions = await store.listExecutions({ pipelineId, limit: EXECUTIONS });
  const failed = executions.filter((e) => e.status !== 'succeeded');
  if (failed.length > 0) throw new Error(`${failed.length} executions did not succeed`);
  let changes = 0;
  for (const e of executions) changes += (await store.listHistory(e.id)).length;
  return { ms, changes };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const pg = await startPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const results: Record<string, { ms: number[]; changes: number }> = {
    sqlite: { ms: [], changes: 0 },
    postgres: { ms: [], changes: 0 },
  };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so neither database always runs on a warmer machine.
      const order = round % 2 === 0 ? ['sqlite', 'postgres'] : ['postgres', 'sqlite'];
      for (const kind of order) {
        const store =
          kind === 'sqlite'
            ? await openStore({ dataDir: join(dir, `r${round}`) })
            : await openStore({ dataDir: dir, databaseUrl: pg.url });
        try {
          const { ms, changes } = await drive(store);
          results[kind]!.ms.push(ms);
          results[kind]!.changes = changes;
        } finally {
          await store.close();
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await pg.stop();
  }
  const sqlite = median(results.sqlite!.ms);
  const postgres = median(results.postgres!.ms);
  console.log(
    `engine + store: ${EXECUTIONS} executions of a 3-stage, 4-action pipeline (queued mode), median of ${ROUNDS}`,
  );
  console.log(`| store | wall time | executions/s | state changes/s |`);
  console.log(`|---|---|---|---|`);
  for (const [kind, ms] of [
    ['SQLite (node:sqlite, WAL, synchronous=FULL)', sqlite],
    ['PostgreSQL 15 (local)', postgres],
  ] as const) {
    const changes = results[kind.startsWith('SQLite') ? 'sqlite' : 'postgres']!.changes;
    console.log(
      `| ${kind} | ${(ms / 1000).toFixed(2)} s | ${((EXECUTIONS * 1000) / ms).toFixed(0)} | ${((changes * 1000) / ms).toFixed(0)} |`,
    );
  }
  console.log(`PostgreSQL / SQLite wall time ratio: ${(postgres / sqlite).toFixed(2)}`);
  console.log(`peak RSS of this process: ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
}

await main();
