/**
 * For log-stream.ts: `pages` real event streams (HTTP, server-sent events)
 * on one running build, fed by batches of lines appended to its log. Either
 * woken by the process's news of each append, or polling the store every
 * 500 ms as the stream did before (news that is never told). Store reads are
 * counted through a wrapped store.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { announceChanges, ExecutionNews } from '../src/store/announce-changes.ts';
import { openStore } from '../src/store/open-store.ts';
import type { LogLine } from '../src/store/store.ts';
import { createHttpServer } from '../src/web/create-http-server.ts';
import { createPageLinks } from '../src/web/page-links.ts';
import { definitionOf } from '../test/helpers/pipeline-fixture.ts';

export interface FollowOptions {
  pages: number;
  batches: number;
  batchLines: number;
  idleMs: number;
  woken: boolean;
  lines(from: number, count: number): LogLine[];
}

export async function followStreams(options: FollowOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-streams-'));
  const raw = await openStore({ dataDir: dir });
  let reads = 0;
  const counted = new Proxy(raw, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (typeof key === 'string' && /^(get|read)/.test(key)) reads++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const news = new ExecutionNews();
  // Polling: the stream hears nothing and looks every 500 ms, as before.
  const store = options.woken ? announceChanges(counted, news) : counted;
  const links = createPageLinks('http://sluice.bench', 'bench');
  const server = createHttpServer({ pages: { store, links, news, ...(!options.woken && { pollMs: 500 }) } });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const responses: IncomingMessage[] = [];
  try {
    const pipelineId = await raw.ensurePipeline('bench/app', '.github/sluice.yml');
    const definition = definitionOf('one-build');
    const { id } = await raw.createExecution(
      { pipelineId, revision: { sha: '0'.repeat(40) }, definition, trigger: 'bench' },
      'bench',
      0,
    );
    const ref = { executionId: id, stage: 'build', action: 'compile', attempt: 1 };
    // Per page, how many lines it has received, and who waits for a count.
    const counts = new Array<number>(options.pages).fill(0);
    const waiters: Array<{ total: number; done: () => void }> = [];
    const check = () => {
      for (const w of [...waiters]) {
        if (counts.every((c) => c >= w.total)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.done();
        }
      }
    };
    const allHave = (total: number) =>
      new Promise<void>((done) => {
        waiters.push({ total, done });
        check();
      });
    for (let p = 0; p < options.pages; p++) {
      const request = get(`${url}${links.eventsPath(id)}`);
      const [response] = (await once(request, 'response')) as [IncomingMessage];
      responses.push(response);
      response.setEncoding('utf8');
      let buffered = '';
      response.on('data', (chunk: string) => {
        buffered += chunk;
        let end;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const event = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = /^event: log\n.*\ndata: (.*)$/ms.exec(event)?.[1];
          if (data) counts[p]! += (JSON.parse(data) as { lines: unknown[] }).lines.length;
        }
        check();
      });
      response.on('error', () => {});
      request.on('error', () => {});
    }
    const times: number[] = [];
    reads = 0;
    for (let b = 0; b < options.batches; b++) {
      const started = performance.now();
      await store.appendLog(ref, options.lines(b * options.batchLines, options.batchLines));
      await allHave((b + 1) * options.batchLines);
      times.push(performance.now() - started);
    }
    const readsPerLine = reads / (options.pages * options.batches * options.batchLines);
    reads = 0;
    await delay(options.idleMs);
    const idleReadsPerSecond = reads / (options.idleMs / 1000);
    times.sort((a, b) => a - b);
    return { medianMs: times[Math.floor(times.length / 2)]!, maxMs: times.at(-1)!, readsPerLine, idleReadsPerSecond };
  } finally {
    for (const r of responses) r.destroy();
    server.closeAllConnections();
    server.close();
    await raw.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
