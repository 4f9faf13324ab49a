/**
 * The four ways the benchmark rolls a release out to a test bed: Sluice
 * (`sluice run`), the hand-written script host by host, the same steps as an
 * Ansible playbook (serial: 1), and the script on every host at once (the
 * floor). Each returns how long the deploy itself took and where the time went.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/open-store.ts';
import { SLUICE_BIN } from '../../test/helpers/run-sluice.ts';
import { buildOf, pipelineFixture } from '../../test/helpers/pipeline-fixture.ts';
import { productionOnHosts } from '../../test/helpers/ssh-hosts.ts';
import { runChild } from './run-child.ts';
import { ansibleStepTimes, scriptStepTimes, sluiceStepTimes, type StepTimes } from './step-times.ts';
import { ARTIFACT_PATHS, type TestBed } from './test-bed.ts';
import { findActionSummary } from '../../src/store/store.ts';

export type Variant = 'sluice' | 'bash' | 'bash-cm' | 'ansible' | 'parallel';

export interface Rollout {
  /**
   * The deploy's wall time: for Sluice the deploy action's startedAt → finishedAt, for the others the whole command.
   */
  ms: number;
  /** Sluice's build: its build action's start → the deploy action's start. */
  buildMs?: number;
  steps: StepTimes;
}

const script = fileURLToPath(new URL('../rolling-deploy.sh', import.meta.url));
const playbook = fileURLToPath(new URL('../rollout.yml', import.meta.url));

/** Time limit of one rollout: generous, but a hung one cannot stall the benchmark. */
function limitMs(bed: TestBed): number {
  return 60_000 + 20_000 * bed.ssh.hosts.length;
}

const pipeline = pipelineFixture('app-to-production', (p) => {
  buildOf(p).artifact!.paths = [...ARTIFACT_PATHS];
  p.app!.health = {
    command: '. "$SLUICE_DEPLOY_PATH/shared/app.env"; curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health"',
    timeout: '3s',
    interval: '100ms',
  };
});

export interface SluiceRollout extends Rollout {
  buildMs: number;
  /** The whole `sluice run`, build included. */
  totalMs: number;
  /** With `measureRss`: the peak RSS of Sluice's process (GNU time's maximum resident set size), MiB. */
  rssMiB?: number;
}

/**
 * `sluice run` for a commit of `version`, production on every host of the
 * bed: `rolling` is its rolling map, `ssh` more of the ssh map, and `drain`
 * drains each host through the bed's HAProxy. The build is not timed, the
 * deploy action is. With `measureRss`, Sluice runs under GNU time, whose %M
 * is the largest resident set of its process (its tar and sh children are
 * smaller).
 */
export async function rollOutWithSluice(
  bed: TestBed,
  version: string,
  options: { drain: boolean; rolling: string; ssh?: string; timeoutMs?: number; measureRss?: boolean },
): Promise<SluiceRollout> {
  const { checkout, ssh } = bed;
  checkout.write('.github/sluice.yml', pipeline);
  checkout.write('VERSION', `${version}\n`);
  checkout.commit(version);
  const server = join(checkout.scratch, 'server.yml');
  writeFileSync(
    server,
    productionOnHosts(ssh, {
      ...(options.ssh && { ssh: options.ssh }),
      path: bed.deployPath,
      rolling: options.rolling,
      ...(options.drain && { drainThrough: bed.lb.socketPath }),
    }),
  );
  const dataDir = join(checkout.scratch, 'data');
  const sluice = [SLUICE_BIN, 'run', '--server', server, '--data-dir', dataDir];
  const started = performance.now();
  const result = await runChild(
    options.measureRss ? '/usr/bin/time' : process.execPath,
    options.measureRss ? ['-f', 'sluice-maxrss-kib %M', process.execPath, ...sluice] : sluice,
    {
      timeoutMs: options.timeoutMs ?? limitMs(bed),
      cwd: checkout.dir,
      env: { SLUICE_DATA_DIR: '', DATABASE_URL: '', SLUICE_CONFIG: '' },
    },
  );
  const totalMs = performance.now() - started;
  if (result.code !== 0) throw new Error(`sluice run exited with ${result.code}:\n${result.stdout}${result.stderr}`);
  const rss = /sluice-maxrss-kib (\d+)/.exec(result.stderr);

  const store = await openStore({ dataDir });
  try {
    const [execution] = await store.listExecutions({ limit: 1 });
    const deploy = execution && findActionSummary(execution, 'production', 'deploy');
    const build = execution && findActionSummary(execution, 'build', 'package');
    if (!execution || deploy?.startedAt === undefined || deploy.finishedAt === undefined)
      throw new Error('the store has no finished deploy action');
    if (build?.startedAt === undefined) throw new Error('the store has no build action that started');
    const log = await store.readLog({
      executionId: execution.id,
      stage: 'production',
      action: 'deploy',
      attempt: deploy.attempt,
    });
    return {
      ms: deploy.finishedAt - deploy.startedAt,
      buildMs: deploy.startedAt - build.startedAt,
      totalMs,
      ...(rss && { rssMiB: Number(rss[1]) / 1024 }),
      steps: sluiceStepTimes(log, deploy.startedAt, deploy.finishedAt),
    };
  } finally {
    await store.close();
  }
}

/**
 * The artifact the baselines ship: the same paths Sluice's build packs, with
 * tar -czf as Sluice does, or (`fast`) `tar -c | gzip -1` as the script done
 * well packs it. Returns the tarball and how long packing took.
 */
export async function packArtifact(
  bed: TestBed,
  version: string,
  options: { fast?: boolean } = {},
): Promise<{ tarball: string; ms: number }> {
  bed.checkout.write('VERSION', `${version}\n`);
  const tarball = join(bed.checkout.scratch, `${version}.tar.gz`);
  const started = performance.now();
  const { code, stderr } = options.fast
    ? await runChild(
        'bash',
        [
          '-c',
          'set -o pipefail; tar -cf - -C "$1" -- "${@:3}" | gzip -1 > "$2"',
          'pack',
          bed.checkout.dir,
          tarball,
          ...ARTIFACT_PATHS,
        ],
        { timeoutMs: 60_000 },
      )
    : await runChild('tar', ['-czf', tarball, '-C', bed.checkout.dir, '--', ...ARTIFACT_PATHS], {
        timeoutMs: 60_000,
      });
  if (code !== 0) throw new Error(`packing the artifact exited with ${code}: ${stderr}`);
  return { tarball, ms: performance.now() - started };
}

/**
 * rolling-deploy.sh, host by host (or all at once with `parallel`), with one
 * OpenSSH connection per step or (`controlMaster`) one per host for all of them.
 */
export async function rollOutWithScript(
  bed: TestBed,
  tarball: string,
  version: string,
  options: { drain: boolean; parallel: boolean; controlMaster?: boolean },
): Promise<Rollout> {
  // Short: a ControlPath must fit a Unix socket's 108 bytes.
  const controlDir = options.controlMaster ? mkdtempSync(join(tmpdir(), 'cm-')) : undefined;
  const args = [
    script,
    ...(options.parallel ? ['--parallel'] : []),
    ...(controlDir ? ['--control-master', controlDir] : []),
    ...(options.drain ? ['--haproxy', bed.lb.socketPath] : []),
    ...[
      '--user',
      bed.ssh.user,
      '--key',
      bed.ssh.keyPath,
      '--known-hosts',
      bed.ssh.knownHostsPath,
      '--path',
      bed.deployPath,
    ],
    ...['--release', releaseId(version), tarball],
    ...bed.ssh.hosts.map((h) => `${h.name}=127.0.0.1:${h.port}`),
  ];
  const started = performance.now();
  const result = await runChild('bash', args, { timeoutMs: limitMs(bed) }).finally(() => {
    if (controlDir) rmSync(controlDir, { recursive: true, force: true });
  });
  const ms = performance.now() - started;
  if (result.code !== 0)
    throw new Error(`rolling-deploy.sh exited with ${result.code}:\n${result.stdout}${result.stderr}`);
  return { ms, steps: scriptStepTimes(result.stderr) };
}

/** ansible-playbook rollout.yml with an inventory of the test bed. */
export async function rollOutWithAnsible(
  bed: TestBed,
  tarball: string,
  version: string,
  drain: boolean,
): Promise<Rollout> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-ansible-'));
  const controlDir = join(dir, 'cp');
  mkdirSync(controlDir);
  try {
    const { ssh } = bed;
    writeFileSync(
      join(dir, 'inventory.ini'),
      [
        '[app]',
        ...ssh.hosts.map((h) => `${h.name} ansible_host=127.0.0.1 ansible_port=${h.port}`),
        '[app:vars]',
        `ansible_user=${ssh.user}`,
        `ansible_ssh_private_key_file=${ssh.keyPath}`,
        `ansible_ssh_common_args='-o UserKnownHostsFile=${ssh.knownHostsPath} -o StrictHostKeyChecking=yes'`,
        'ansible_python_interpreter=/usr/bin/python3',
        '',
      ].join('\n'),
    );
    const vars = {
      release: releaseId(version),
      tarball,
      sha256: createHash('sha256').update(readFileSync(tarball)).digest('hex'),
      deploy_path: bed.deployPath,
      haproxy_socket: drain ? bed.lb.socketPath : '',
    };
    writeFileSync(join(dir, 'vars.json'), JSON.stringify(vars));
    const env = {
      // Ansible's own defaults, plus pipelining (the documented speed-up) and
      // a control-socket directory per run, so no run reuses another's connections.
      ANSIBLE_PIPELINING: 'True',
      ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
      ANSIBLE_HOME: join(dir, 'home'),
      ANSIBLE_LOCAL_TEMP: join(dir, 'tmp'),
      ANSIBLE_REMOTE_TEMP: join(dir, 'remote-tmp'),
      ANSIBLE_RETRY_FILES_ENABLED: 'False',
      ANSIBLE_STDOUT_CALLBACK: 'ansible.posix.json',
      ANSIBLE_NOCOLOR: '1',
    };
    const started = performance.now();
    const result = await runChild(
      'ansible-playbook',
      ['-i', join(dir, 'inventory.ini'), playbook, '-e', `@${join(dir, 'vars.json')}`],
      {
        timeoutMs: limitMs(bed),
        cwd: dir,
        env,
      },
    );
    const ms = performance.now() - started;
    if (result.code !== 0)
      throw new Error(`ansible-playbook exited with ${result.code}:\n${result.stdout.slice(-4000)}${result.stderr}`);
    return { ms, steps: ansibleStepTimes(result.stdout) };
  } finally {
    // ControlPersist keeps a master per host alive after the play; end them.
    for (const socket of readdirSync(controlDir)) {
      await runChild('ssh', ['-O', 'exit', '-o', `ControlPath=${join(controlDir, socket)}`, 'bench'], {
        timeoutMs: 5000,
      });
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Sorts with Sluice's own release ids (`<UTC stamp>-<seq>-<sha>`), so pruning keeps the newest of either. */
export function releaseId(version: string): string {
  return `${new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-b-${version}`;
}
