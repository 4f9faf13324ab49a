/**
 * Sluice as `npm start` runs it: `node src/main.ts` in a process of its own,
 * with only the environment given here (no `.env` of the developer's), so a
 * test can kill it with SIGKILL like a machine dying.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { GithubStandIn } from './github-stand-in.ts';
import { waitForOutput } from './run-sluice.ts';

export const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface SluiceProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  /** Everything it printed. */
  output(): string;
  /** What it printed on stdout alone. */
  stdout(): string;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (a clean stop), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/** The settings of a GitHub App at the stand-in, as an operator's `.env` would hold them (GitHub Enterprise style). */
export function githubAppEnv(github: GithubStandIn, webhookSecret: string): Record<string, string> {
  return {
    APP_ID: String(github.appId),
    PRIVATE_KEY: github.privateKey,
    WEBHOOK_SECRET: webhookSecret,
    GHE_HOST: github.host,
    GHE_PROTOCOL: 'http',
  };
}

/** Those not yet exited: a test file that ends without stopping one (it failed first) leaves none behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Resolves once the process says it listens (or prints `ready`, for a start that waits). */
export async function startSluiceProcess(options: {
  cwd: string;
  port: number;
  env: Record<string, string>;
  ready?: RegExp;
  /** Another checkout's `src/main.ts` (a bench comparing two versions); this one's by default. */
  main?: string;
}): Promise<SluiceProcess> {
  const url = `http://127.0.0.1:${options.port}`;
  const child = spawn(process.execPath, [options.main ?? MAIN], {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(options.port),
      SLUICE_URL: url,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => {
    output += d.toString();
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  running.add(child);
  const exited = new Promise<void>((done) =>
    child.once('exit', () => {
      running.delete(child);
      done();
    }),
  );
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  await waitForOutput(child, options.ready ?? /Sluice listening on port/, 30_000);
  return {
    child,
    pid: child.pid!,
    url,
    output: () => output,
    stdout: () => stdout,
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
  };
}
