/**
 * What following a growing log costs, as 20 open execution pages do: the
 * build has written 10,000 or 100,000 lines, then writes more in batches,
 * and after each batch every page's stream asks the store for what is new.
 * Side by side in one run: reading the whole log and keeping the lines past
 * the cursor (how the stream read before), and reading only the lines after
 * the cursor's line number (how it reads now). Per new line delivered: rows
 * read from the store and CPU; and lines delivered per second. SQLite, as
 * embedded Sluice runs.
 *
 * Then the real event stream over HTTP, 20 pages open on a running build:
 * woken by the process's news of each append (how it follows now) beside
 * polling the store every 500 ms (how it followed before). Per batch, the
 * time from the append until every page has the batch; store reads per new
 * line; and store reads per second while nothing is written.
 *
 *   node bench/log-stream.ts [--pages 20] [--batches 5] [--batch-lines 200] [--idle-seconds 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { followStreams } from './follow-streams.ts';
import { openStore } from '../src/store/open-store.ts';
import type { ActionRef, LogLine, Store } from '../src/store/store.ts';

const { values } = parseArgs({
  options: {
    pages: { type: 'string', default: '20' },
    batches: { type: 'string', default: '5' },
    'batch-lines': { type: 'string', default: '200' },
    'idle-seconds': { type: 'string', default: '5' },
  },
});
const PAGES = Number(values.pages);
const BATCHES = Number(values.batches);
const BATCH_LINES = Number(values['batch-lines']);
const SIZES = [10_000, 100_000];
const PAGE_LINES = 500;

interface Reader {
  count: number;
  lastSeq: number;
}

type Approach = 'whole log' | 'after cursor';

/** One poll of one page: the new lines it gets and the rows the store returned for them. */
async function poll(
  store: Store,
  ref: ActionRef,
  reader: Reader,
  approach: Approach,
): Promise<{ delivered: number; rows: number }> {
  if (approach === 'whole log') {
    const lines = await store.readLog(ref);
    const delivered = lines.length - reader.count;
    reader.count = lines.length;
    return { delivered, rows: lines.length };
  }
  let delivered = 0;
  for (;;) {
    const page = await store.readLogAfter(ref, reader.lastSeq, PAGE_LINES);
    delivered += page.length;
    if (page.length > 0) reader.lastSeq = page.at(-1)!.seq;
    if (page.length < PAGE_LINES) break;
  }
  reader.count += delivered;
  return { delivered, rows: delivered };
}

function lines(from: number, count: number): LogLine[] {
  return Array.from({ length: count }, (_, i) => ({
    stream: 'stdout',
    text: `[${from + i}] 빌드 단계 ━━ compiling module ${from + i} of the shop 🚀`,
    at: from + i,
  }));
}

async function measure(size: number, approach: Approach) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-log-'));
  const store = await openStore({ dataDir: dir });
  try {
    const pipelineId = await store.ensurePipeline('bench/app', '.github/sluice.yml');
    const { id } = await store.createExecution(
      { pipelineId, revision: { sha: '0'.repeat(40) }, definition: { mode: 'queued', stages: [] }, trigger: 'bench' },
      'bench',
      0,
    );
    const ref = { executionId: id, stage: 'build', action: 'compile', attempt: 1 };
    for (let i = 0; i < size; i += 5_000) await store.appendLog(ref, lines(i, Math.min(5_000, size - i)));
    // Every page has read what was there when it opened.
    const readers: Reader[] = [];
    const tail = await store.readLogAfter(ref, 0, size + 1);
    for (let p = 0; p < PAGES; p++) readers.push({ count: size, lastSeq: tail.at(-1)!.seq });

    let rows = 0;
    let delivered = 0;
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let b = 0; b < BATCHES; b++) {
      await store.appendLog(ref, lines(size + b * BATCH_LINES, BATCH_LINES));
      for (const reader of readers) {
        const got = await poll(store, ref, reader, approach);
        rows += got.rows;
        delivered += got.delivered;
      }
    }
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    if (delivered !== PAGES * BATCHES * BATCH_LINES)
      throw new Error(`${approach}: delivered ${delivered} lines, not ${PAGES * BATCHES * BATCH_LINES}`);
    return {
      size,
      approach,
      rowsPerLine: rows / delivered,
      cpuUsPerLine: (used.user + used.system) / delivered,
      linesPerSecond: delivered / (ms / 1000),
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = [];
for (const size of SIZES) {
  for (const approach of ['whole log', 'after cursor'] as const) results.push(await measure(size, approach));
}

console.log(
  `${PAGES} pages following one log; ${BATCHES} batches of ${BATCH_LINES} new lines after the first ${SIZES.join(' or ')}; SQLite\n`,
);
console.log(
  '| lines before | stream reads | store rows read per new line | CPU per new line | new lines delivered per second |',
);
console.log('|---:|---|---:|---:|---:|');
for (const r of results) {
  console.log(
    `| ${r.size.toLocaleString('en')} | ${r.approach} | ${r.rowsPerLine.toFixed(1)} | ${r.cpuUsPerLine.toFixed(1)} µs | ${Math.round(r.linesPerSecond).toLocaleString('en')} |`,
  );
}
for (const size of SIZES) {
  const [whole, after] = [
    results.find((r) => r.size === size && r.approach === 'whole log')!,
    results.find((r) => r.size === size && r.approach === 'after cursor')!,
  ];
  console.log(
    `\nat ${size.toLocaleString('en')} lines: after the cursor costs ${(after.cpuUsPerLine / whole.cpuUsPerLine).toFixed(3)}× the CPU per new line of reading the whole log`,
  );
}
const after10k = results.find((r) => r.size === 10_000 && r.approach === 'after cursor')!;
const after100k = results.find((r) => r.size === 100_000 && r.approach === 'after cursor')!;
console.log(
  `after the cursor, 100,000 lines beside 10,000: ${(after100k.cpuUsPerLine / after10k.cpuUsPerLine).toFixed(2)}× the CPU per new line (flat is 1×)`,
);

console.log(
  `\n${PAGES} event streams over HTTP on a running build, ${BATCHES} batches of ${BATCH_LINES} lines, then ${values['idle-seconds']} s with nothing written; SQLite\n`,
);
console.log(
  '| stream | append → every page has it (median) | slowest | store reads per new line | store reads per second, idle |',
);
console.log('|---|---:|---:|---:|---:|');
for (const mode of ['polls every 500 ms', 'woken by news'] as const) {
  const r = await followStreams({
    pages: PAGES,
    batches: BATCHES,
    batchLines: BATCH_LINES,
    idleMs: Number(values['idle-seconds']) * 1000,
    woken: mode === 'woken by news',
    lines,
  });
  console.log(
    `| ${mode} | ${r.medianMs.toFixed(1)} ms | ${r.maxMs.toFixed(1)} ms | ${r.readsPerLine.toFixed(3)} | ${r.idleReadsPerSecond.toFixed(1)} |`,
  );
}
