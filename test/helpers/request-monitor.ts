/**
 * The seed's monitor, made precise: one GET at a time against the load
 * balancer, every `intervalMs`, recording which version and host answered and
 * every request that failed. Bounded by count and by time, so it stops by
 * itself even if a test never calls `stop`.
 */
import { request } from 'node:http';

export interface MonitorOptions {
  /** What to request, e.g. `http://127.0.0.1:<haproxy port>/`. */
  url: string;
  /** Time from the start of one request to the start of the next. */
  intervalMs?: number;
  /** Stop after this many requests. */
  maxRequests: number;
  /** Stop after this long. */
  maxDurationMs: number;
  /** A request slower than this fails as a timeout. */
  requestTimeoutMs?: number;
}

/** One request as the monitor saw it. */
export interface MonitorSample {
  /** When it was sent (`Date.now()`), to compare with a test's own marks. */
  at: number;
  /** How long it took. */
  ms: number;
  ok: boolean;
  status?: number;
  /** The app's `<version> <host> <pid>`, trimmed. */
  body?: string;
  version?: string;
  host?: string;
  /** Why it failed without a status: `ECONNRESET`, `timeout`, ... */
  error?: string;
}

export interface MonitorFailure {
  at: number;
  status?: number;
  error?: string;
}

export interface MonitorReport {
  sent: number;
  /** Answered 200. */
  ok: number;
  /** Any other status, a connection error or a timeout. */
  failed: number;
  failures: MonitorFailure[];
  /** Successful answers per version (first word of the body). */
  versions: Record<string, number>;
  /** Successful answers per host (second word of the body). */
  hosts: Record<string, number>;
  /** Every request, in order. */
  timeline: MonitorSample[];
}

export interface RunningMonitor {
  /** What the monitor has seen so far. */
  current(): MonitorReport;
  /** Resolves once `count` more requests have been sent (and answered or failed). */
  waitForMore(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves when the monitor stopped by itself (count or time bound reached). */
  finished: Promise<MonitorReport>;
  /** Stops after the request in flight (if any) and reports. */
  stop(): Promise<MonitorReport>;
}

/** Starts sending requests right away. */
export function startMonitor(options: MonitorOptions): RunningMonitor {
  const intervalMs = options.intervalMs ?? 20;
  const timeoutMs = options.requestTimeoutMs ?? 2000;
  const timeline: MonitorSample[] = [];
  const started = Date.now();
  let stopping = false;
  let wake = () => {};

  const loop = async () => {
    while (!stopping && timeline.length < options.maxRequests && Date.now() - started < options.maxDurationMs) {
      const at = Date.now();
      timeline.push(await get(options.url, timeoutMs));
      const wait = at + intervalMs - Date.now();
      if (wait > 0 && !stopping) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
    return summarize(timeline);
  };

  const finished = loop();
  return {
    current: () => summarize(timeline),
    async waitForMore(count, timeoutMs = 10_000) {
      const target = timeline.length + count;
      const deadline = Date.now() + timeoutMs;
      let over = false;
      void finished.then(() => (over = true));
      while (timeline.length < target) {
        if (over) throw new Error(`the monitor stopped after ${timeline.length} requests, before ${target}`);
        if (Date.now() > deadline)
          throw new Error(`the monitor sent ${timeline.length} of ${target} requests within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    finished,
    stop() {
      stopping = true;
      wake();
      return finished;
    },
  };
}

/**
 * A new TCP connection per request (`agent: false`, `Connection: close`), like
 * the seed's Python monitor and like separate users: every request is a new
 * session that HAProxy balances and that a drain keeps away from the server.
 * A kept-alive socket would also add failures of its own — reusing a socket
 * the other side just closed — that are the monitor's, not the deploy's.
 */
function get(url: string, timeoutMs: number): Promise<MonitorSample> {
  const at = Date.now();
  return new Promise((resolve) => {
    const done = (sample: Omit<MonitorSample, 'at' | 'ms'>) => resolve({ at, ms: Date.now() - at, ...sample });
    const req = request(url, { agent: false, signal: AbortSignal.timeout(timeoutMs) }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('error', (error) => done({ ok: false, status: response.statusCode, error: describe(error) }));
      response.on('end', () => {
        const status = response.statusCode;
        const text = body.trim();
        if (status !== 200) return done({ ok: false, status, body: text });
        const [version, host] = text.split(/\s+/);
        done({ ok: true, status, body: text, version, host });
      });
    });
    req.on('error', (error) => done({ ok: false, error: describe(error) }));
    req.end();
  });
}

function describe(error: Error & { code?: string }): string {
  if (error.name === 'AbortError' || error.name === 'TimeoutError') return 'timeout';
  return error.code ?? error.message;
}

function summarize(timeline: MonitorSample[]): MonitorReport {
  const report: MonitorReport = {
    sent: timeline.length,
    ok: 0,
    failed: 0,
    failures: [],
    versions: {},
    hosts: {},
    timeline: [...timeline],
  };
  for (const sample of timeline) {
    if (!sample.ok) {
      report.failed += 1;
      report.failures.push({ at: sample.at, status: sample.status, error: sample.error });
      continue;
    }
    report.ok += 1;
    if (sample.version) report.versions[sample.version] = (report.versions[sample.version] ?? 0) + 1;
    if (sample.host) report.hosts[sample.host] = (report.hosts[sample.host] ?? 0) + 1;
  }
  return report;
}
