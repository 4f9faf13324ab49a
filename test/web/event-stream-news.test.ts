/**
 * The execution page's event stream is woken by what the process stores:
 * a line appended to a log of an open page's execution reaches the page,
 * a finished execution ends its stream, and a stream nobody writes to reads
 * nothing from the store however long it stays open — only heartbeats —
 * and a page that stops reading is sent (and read for) no more. Real
 * HTTP, a real SQLite store; reads counted through a wrapped store.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, mock, test } from 'node:test';
import { announceChanges, ExecutionNews } from '../../src/store/announce-changes.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { ActionRef, Store } from '../../src/store/store.ts';
import { createHttpServer } from '../../src/web/create-http-server.ts';
import { createPageLinks } from '../../src/web/page-links.ts';
import { definitionOf } from '../helpers/pipeline-fixture.ts';
import { until } from '../helpers/until.ts';

const definition = definitionOf('one-build', (pipeline) => {
  pipeline.mode = 'queued';
});

let dir: string;
let raw: Store;
let store: Store;
let news: ExecutionNews;
let baseUrl: string;
let server: ReturnType<typeof createHttpServer>;
const links = createPageLinks('http://sluice.test', 'a key for the test');
/** Store reads by method, since the counter was last cleared. */
const reads = new Map<string, number>();
/** The log reads under way, and every line they returned. */
const logReads = { running: 0, lines: 0 };
/** The server's side of every connection, to see what it holds for a reader. */
const sockets = new Set<Socket>();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-stream-news-'));
  raw = await openStore({ dataDir: dir });
  const counted = new Proxy(raw, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (typeof key === 'string' && /^(get|list|read|find)/.test(key)) reads.set(key, (reads.get(key) ?? 0) + 1);
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (key !== 'readLogAfter') return result;
        logReads.running++;
        return (result as Promise<unknown[]>).then((lines) => {
          logReads.running--;
          logReads.lines += lines.length;
          return lines;
        });
      };
    },
  });
  news = new ExecutionNews();
  store = announceChanges(counted, news);
  server = createHttpServer({ pages: { store, links, news } });
  server.on('connection', (socket: Socket) => sockets.add(socket.once('close', () => sockets.delete(socket))));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server?.closeAllConnections();
  server?.close();
  await raw?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function newExecution(): Promise<ActionRef> {
  const pipelineId = await store.ensurePipeline('shop/app', '.github/sluice.yml');
  const execution = await store.createExecution(
    { pipelineId, revision: { sha: 'a'.repeat(40) }, definition, trigger: 'push' },
    'test',
    Date.now(),
  );
  return { executionId: execution.id, stage: 'build', action: 'compile', attempt: 1 };
}

/** Ends the execution as a cancel does: through the store's one writer of state. */
async function cancel(executionId: string): Promise<void> {
  const pipelineId = (await store.getExecution(executionId))!.pipelineId;
  await store.updatePipeline(pipelineId, { actor: 'test', now: Date.now() }, (snapshot) => {
    const execution = snapshot.executions.find((e) => e.id === executionId)!;
    execution.status = 'cancelled';
    execution.reason = 'cancelled by alice';
    return {
      snapshot,
      changes: [{ executionId, entity: 'execution', from: 'running', to: 'cancelled' }],
      commands: [],
    };
  });
}

interface Stream {
  response: IncomingMessage;
  /** Resolves with the text received so far once it matches. */
  until(pattern: RegExp): Promise<string>;
  close(): void;
}

/** Opens the execution's event stream as a browser's EventSource does. */
async function openStream(executionId: string, on = baseUrl): Promise<Stream> {
  const request = get(`${on}${links.eventsPath(executionId)}`);
  const [response] = (await once(request, 'response')) as [IncomingMessage];
  assert.equal(response.statusCode, 200);
  response.setEncoding('utf8');
  // Closing the stream aborts it.
  response.on('error', () => {});
  request.on('error', () => {});
  let text = '';
  const waiting: Array<{ pattern: RegExp; done: (text: string) => void }> = [];
  response.on('data', (chunk: string) => {
    text += chunk;
    for (const w of [...waiting]) {
      if (w.pattern.test(text)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.done(text);
      }
    }
  });
  return {
    response,
    until: (pattern) =>
      pattern.test(text)
        ? Promise.resolve(text)
        : new Promise((done, fail) => {
            waiting.push({ pattern, done });
            response.once('end', () => fail(new Error(`the stream ended without ${pattern}:\n${text}`)));
          }),
    close: () => request.destroy(),
  };
}

test('a line stored while a page is open reaches its stream at once, and a finished execution ends it', async () => {
  const ref = await newExecution();
  await store.appendLog(ref, [{ stream: 'stdout', text: 'compiling part 1', at: 1 }]);
  const stream = await openStream(ref.executionId);
  await stream.until(/event: state\n/);
  assert.match(await stream.until(/compiling part 1/), /event: log\n/);
  assert.equal(news.followers(ref.executionId), 1, 'the stream follows its execution');

  await store.appendLog(ref, [{ stream: 'stderr', text: 'compiling part 2', at: 2 }]);
  const text = await stream.until(/compiling part 2/);
  assert.equal(text.match(/compiling part 1/g)?.length, 1, 'the first line is not sent again');

  await cancel(ref.executionId);
  assert.match(await stream.until(/event: done\n/), /data: \{"status":"cancelled"\}/);
  if (!stream.response.readableEnded) await once(stream.response, 'end');
  assert.equal(news.followers(ref.executionId), 0, 'a stream that ended follows nothing');
});

test('an idle stream reads nothing from the store while it stays open; it only sends heartbeats', async () => {
  const ref = await newExecution();
  const other = await newExecution();
  // The stream's timers (heartbeat, and a poll if it had one) run on the test's clock.
  mock.timers.enable({ apis: ['setInterval'] });
  const stream = await openStream(ref.executionId);
  try {
    await stream.until(/event: state\n/);
    reads.clear();
    // An hour passes (a poll every 500 ms would have read the store 7,200 times) while another execution logs.
    for (let quarter = 0; quarter < 240; quarter++) {
      mock.timers.tick(15_000);
      if (quarter % 4 === 0)
        await store.appendLog(other, [{ stream: 'stdout', text: `minute ${quarter / 4}`, at: quarter }]);
    }
    const text = await stream.until(/(: still here\n\n[^:]*){240}/);
    assert.deepEqual(Object.fromEntries(reads), {}, 'no store reads for an idle stream');
    assert.doesNotMatch(text, /minute/, "another execution's lines are not this page's");
    // Ended from the server's side, which stops its timers before the test's clock goes back.
    await cancel(ref.executionId);
    await stream.until(/event: done\n/);
  } finally {
    stream.close();
    mock.timers.reset();
  }
});

test('with replicas, a stream finds on its slow poll the lines another process stored', async () => {
  mock.timers.enable({ apis: ['setInterval'] });
  const replica = createHttpServer({ pages: { store, links, news, pollMs: 5_000 } });
  replica.listen(0, '127.0.0.1');
  await once(replica, 'listening');
  try {
    const ref = await newExecution();
    const stream = await openStream(ref.executionId, `http://127.0.0.1:${(replica.address() as AddressInfo).port}`);
    await stream.until(/event: state\n/);
    // Stored past this process's news, as another replica on the same database stores it.
    await raw.appendLog(ref, [{ stream: 'stdout', text: 'built on the other replica', at: 1 }]);
    mock.timers.tick(5_000);
    assert.match(await stream.until(/built on the other replica/), /event: log\n/);
    await cancel(ref.executionId);
    mock.timers.tick(5_000);
    await stream.until(/event: done\n/);
  } finally {
    mock.timers.reset();
    replica.closeAllConnections();
    replica.close();
  }
});

test('a page that stops reading is sent no more than it takes in: the server neither reads the log ahead of it nor holds it', async () => {
  const ref = await newExecution();
  const lines = 100_000;
  const line = (i: number) => `line ${i} ${'─'.repeat(40)} 빌드 중 ${'x'.repeat(200)}`;
  for (let start = 0; start < lines; start += 500) {
    await store.appendLog(
      ref,
      Array.from({ length: 500 }, (_, i) => ({ stream: 'stdout' as const, text: line(start + i), at: start + i })),
    );
  }
  logReads.lines = 0;
  // A browser tab in the background, or someone holding a link who never reads what is sent.
  const request = get(`${baseUrl}${links.eventsPath(ref.executionId)}`);
  const [response] = (await once(request, 'response')) as [IncomingMessage];
  request.on('error', () => {});
  response.on('error', () => {});
  response.pause();
  try {
    const held = () => Math.max(0, ...[...sockets].map((s) => s.writableLength));
    const stalled = () => [...sockets].some((s) => s.writableNeedDrain);
    const sent = await until('the server stops sending to the page that reads nothing', () =>
      logReads.running === 0 && (logReads.lines >= lines || stalled()) ? held() : undefined,
    );
    assert.ok(logReads.lines < lines, `the server read all ${lines} lines for a page that took in a few`);
    assert.ok(sent <= 1024 * 1024, `the server holds ${sent} bytes for a page that reads nothing`);

    // The page reads again: every line comes, in order, once.
    response.setEncoding('utf8');
    let pending = '';
    let received = 0;
    const all = new Promise<void>((resolve, reject) => {
      response.on('data', (chunk: string) => {
        const events = (pending + chunk).split('\n\n');
        pending = events.pop()!;
        for (const event of events) {
          const data = /^event: log\n(?:id: .*\n)?data: (.*)$/m.exec(event)?.[1];
          if (!data) continue;
          for (const { text } of (JSON.parse(data) as { lines: { text: string }[] }).lines) {
            if (text !== line(received)) return reject(new Error(`line ${received} came as ${text.slice(0, 40)}`));
            received++;
          }
        }
        if (received === lines) resolve();
      });
      response.once('end', () => reject(new Error(`the stream ended after ${received} lines`)));
    });
    response.resume();
    await all;
  } finally {
    request.destroy();
  }
});
