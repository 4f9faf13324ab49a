/**
 * A deploy host on this machine, laid out as Sluice lays out a real one:
 * `<root>/releases/<version>` (a copy of test/fixtures/app), `<root>/current`
 * a symlink to the live release, `<root>/shared` for the pid file and log.
 * Its hooks run with `sh` from `current`, as they would over SSH.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const fixtureApp = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'app');

export interface LocalAppHost {
  name: string;
  port: number;
  root: string;
  /** Unpacks release `version` (its VERSION file says so) without switching to it. */
  unpack(version: string): void;
  /** Points `current` at release `version`, atomically. */
  switchTo(version: string): void;
  /** `./deploy/start.sh` from `current`. */
  start(): Promise<void>;
  /** `./deploy/stop.sh` from `current`. */
  stop(): Promise<void>;
  /** The whole restart of one host, without any load-balancer step: unpack, stop, switch, start. */
  deploy(version: string): Promise<void>;
  /** Stops the app if it runs (by its pid file if stop.sh fails) and removes the host. */
  remove(): Promise<void>;
}

export interface LocalAppHostOptions {
  name: string;
  port: number;
  /** The app's pretend boot time: the seed's app took seconds to come up. */
  startupDelayMs?: number;
}

/** Makes a host in a fresh temp dir with release `version` live but not started. */
export function makeLocalAppHost(options: LocalAppHostOptions, version = 'v1'): LocalAppHost {
  const root = mkdtempSync(join(tmpdir(), `sluice-lb-${options.name}-`));
  const current = join(root, 'current');
  const hook = async (script: string) => {
    const env = {
      ...process.env,
      PORT: String(options.port),
      HOST_NAME: options.name,
      STARTUP_DELAY_MS: String(options.startupDelayMs ?? 0),
      NODE: process.execPath,
    };
    await run('sh', [`./deploy/${script}`], { cwd: current, env, timeout: 30_000 });
  };
  const host: LocalAppHost = {
    name: options.name,
    port: options.port,
    root,
    unpack(version) {
      const release = join(root, 'releases', version);
      cpSync(fixtureApp, release, { recursive: true });
      writeFileSync(join(release, 'VERSION'), `${version}\n`);
    },
    switchTo(version) {
      const next = join(root, 'current.next');
      symlinkSync(join('releases', version), next);
      renameSync(next, current);
    },
    start: () => hook('start.sh'),
    stop: () => hook('stop.sh'),
    async deploy(version) {
      host.unpack(version);
      await host.stop();
      host.switchTo(version);
      await host.start();
    },
    async remove() {
      await host.stop().catch(() => killByPidFile(join(root, 'shared', 'app.pid')));
      rmSync(root, { recursive: true, force: true });
    },
  };
  host.unpack(version);
  host.switchTo(version);
  return host;
}

function killByPidFile(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
  } catch {
    // Already gone.
  }
}
