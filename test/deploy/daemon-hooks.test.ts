/**
 * Start hooks written the way start scripts usually are, deployed by
 * `sluice run` to a real SSH host: `nohup app &` (its output not even
 * redirected), `setsid app &`, `(app &)` and a double-forking daemon. Each
 * app keeps answering after the hook, the deploy, `sluice run` and its SSH
 * connection are gone; what a build or a command action leaves running is
 * stopped when it ends.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freeLoopbackPort } from '../helpers/free-port.ts';
import { runSluice } from '../helpers/run-sluice.ts';
import { startSshHosts, type SshHosts } from '../helpers/ssh-hosts.ts';
import { makeCheckout, type TempCheckout } from '../helpers/temp-checkout.ts';

const run = promisify(execFile);
const FORMS = ['nohup', 'setsid', 'subshell', 'daemon'] as const;
const buildLeftover = `1000.${process.pid}1`;
const commandLeftover = `1000.${process.pid}2`;

// Logs every request on stdout and stderr: an app whose output went to a
// closed pipe would die of it (EPIPE) at the first request after its hook.
const APP = `import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
writeFileSync(process.env.PID_FILE, String(process.pid));
createServer((request, response) => {
  console.log(new Date().toISOString(), request.url);
  console.error('served', request.url);
  response.end(process.env.FORM + ' ' + process.pid + '\\n');
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
`;

// The environment's name says how to start the app.
const START = `set -a
. "$SLUICE_DEPLOY_PATH/shared/app.env"
set +a
PID_FILE="$SLUICE_DEPLOY_PATH/shared/app.pid"
export PID_FILE
echo "starting the $FORM way"
case $FORM in
  nohup) nohup "$NODE" app.js & ;;
  setsid) setsid "$NODE" app.js & ;;
  subshell) ("$NODE" app.js &) ;;
  daemon) ( setsid sh -c '"$0" app.js </dev/null >/dev/null 2>&1 & exit 0' "$NODE" & ) ;;
esac
`;

// Written here, not a fixture: one deploy action per way of leaving a process behind, each into its own environment.
const pipeline = `stages:
  - name: build
    actions:
      - name: package
        build:
          host: builders
          run: ["nohup sleep ${buildLeftover} & echo left behind"]
          artifact: { name: app, paths: [app.js, deploy] }
      - name: tidy
        command: { host: builders, run: ["sleep ${commandLeftover} &"] }
  - name: deploy
    actions:
${FORMS.map((form) => `      - { name: ${form}, deploy: { environment: ${form}, artifact: app } }`).join('\n')}
app:
  hooks:
    start: ["sh deploy/start.sh"]
  health:
    command: '. "$SLUICE_DEPLOY_PATH/shared/app.env"; curl -fsS "http://127.0.0.1:$PORT/health"'
    timeout: 20s
    interval: 200ms
`;

let ssh: SshHosts;
let checkout: TempCheckout;
const ports: Record<string, number> = {};

before(async () => {
  ssh = await startSshHosts(1);
  const host = ssh.hosts[0]!;
  const entry = `{ name: ${host.name}, address: 127.0.0.1, port: ${host.port} }`;
  checkout = makeCheckout({ 'app.js': APP, 'deploy/start.sh': START, '.github/sluice.yml': pipeline });
  for (const form of FORMS) {
    ports[form] = await freeLoopbackPort();
    mkdirSync(join(host.root, form, 'shared'), { recursive: true });
    writeFileSync(
      join(host.root, form, 'shared', 'app.env'),
      `PORT=${ports[form]}\nFORM=${form}\nNODE=${process.execPath}\n`,
    );
  }
  writeFileSync(
    join(checkout.scratch, 'server.yml'),
    `ssh: { user: ${ssh.user}, key: ${ssh.keyPath}, known_hosts: ${ssh.knownHostsPath} }
hosts:
  local: [local]
  builders: [${entry}]
local: { repos: ['*'] }
environments:
${FORMS.map((form) => `  ${form}: { hosts: [${entry}], path: ${join(ssh.deployRoot, form)}, allow_commands_from: ['*'] }`).join('\n')}
`,
  );
});

after(async () => {
  for (const form of FORMS) {
    try {
      process.kill(Number(readFileSync(join(ssh.hosts[0]!.root, form, 'shared', 'app.pid'), 'utf8')), 'SIGKILL');
    } catch {
      // not running
    }
  }
  await ssh?.stop();
  checkout?.remove();
});

async function processesMatching(pattern: string): Promise<number[]> {
  try {
    const { stdout } = await run('pgrep', ['-f', pattern]);
    return stdout.trim().split('\n').map(Number);
  } catch (error) {
    if ((error as { code?: number }).code === 1) return [];
    throw error;
  }
}

async function answer(form: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${ports[form]}/`);
  assert.equal(response.status, 200);
  return (await response.text()).trim();
}

test('apps started by start hooks in the four usual ways keep answering after sluice run exits; what a build or command leaves is stopped', async () => {
  const result = await runSluice(
    ['run', '--server', join(checkout.scratch, 'server.yml'), '--data-dir', join(checkout.scratch, 'data')],
    { cwd: checkout.dir, timeoutMs: 180_000 },
  );
  const exitedAt = Date.now();
  assert.equal(result.code, 0, result.stdout + result.stderr);
  for (const form of FORMS) assert.match(result.stdout, new RegExp(`\\[host1\\] starting the ${form} way`));
  assert.match(result.stdout, /left behind/);
  assert.deepEqual(await processesMatching(`sleep ${buildLeftover}`), [], "the build's leftover is stopped");
  assert.deepEqual(await processesMatching(`sleep ${commandLeftover}`), [], "the command action's leftover is stopped");

  // Every app answers, as the same process, on every round until 15 s after the exit.
  const first = Object.fromEntries(await Promise.all(FORMS.map(async (form) => [form, await answer(form)] as const)));
  for (const form of FORMS) assert.match(first[form]!, new RegExp(`^${form} \\d+$`));
  let rounds = 0;
  while (Date.now() - exitedAt < 15_000) {
    for (const form of FORMS)
      assert.equal(await answer(form), first[form], `${form} after ${Date.now() - exitedAt} ms`);
    rounds++;
    await delay(250);
  }
  for (const form of FORMS) assert.equal(await answer(form), first[form], `${form} 15 s after sluice run exited`);
  assert.ok(rounds > 0);
});
