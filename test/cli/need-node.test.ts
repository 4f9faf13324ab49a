/**
 * A checkout whose node_modules lacks the project's Node 24 — none yet, or
 * installed with --ignore-scripts, or from before Sluice brought its Node —
 * run with the machine's older Node and npm: `npm start`, `npm test`,
 * `npm run try-hosts` and the sluice command say what to run, instead of
 * Node's ERR_UNKNOWN_FILE_EXTENSION and a stack.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = new URL('../..', import.meta.url).pathname;
// The system's Node and npm, as Debian ships them; the prerequisites ask for them (18 or newer).
const SYSTEM_NODE = '/usr/bin/node';
const SYSTEM_NPM = '/usr/bin/npm';

/** A copy of the checkout's start-up files, without node_modules (or with an empty one). */
function checkout(withNodeModules: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice checkout '));
  for (const path of ['package.json', 'bin', 'scripts', 'src'])
    cpSync(join(ROOT, path), join(dir, path), { recursive: true });
  if (withNodeModules) mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  return dir;
}

function run(command: string, args: string[], cwd: string) {
  const home = mkdtempSync(join(tmpdir(), 'sluice-home-'));
  try {
    const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: home } });
    return { status: result.status, output: result.stdout + result.stderr };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

test('without node_modules, npm start and the sluice command say to run npm ci', (t) => {
  const dir = checkout(false);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [command, args] of [
    [SYSTEM_NPM, ['start']],
    [SYSTEM_NODE, ['bin/sluice.js', 'status']],
  ] as const) {
    const { status, output } = run(command, [...args], dir);
    assert.equal(status, 1, output);
    assert.match(
      output,
      new RegExp(
        `Sluice needs Node 24 or newer, and this is Node v\\d+\\.[\\s\\S]*Run \`npm ci\` in ${dir}/: it brings Node 24 into node_modules/\\.bin\\.`,
      ),
    );
    assert.doesNotMatch(output, /ERR_UNKNOWN_FILE_EXTENSION|at .*:\d+:\d+/, 'no stack');
  }
});

test('with node_modules installed without its Node (--ignore-scripts), npm start, npm test, npm run try-hosts and the sluice command say to run npm rebuild node', (t) => {
  const dir = checkout(true);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [command, args] of [
    [SYSTEM_NPM, ['start']],
    [SYSTEM_NPM, ['test']],
    [SYSTEM_NPM, ['run', 'try-hosts']],
    [SYSTEM_NODE, ['bin/sluice.js', '--help']],
  ] as const) {
    const { status, output } = run(command, [...args], dir);
    assert.equal(status, 1, output);
    assert.match(
      output,
      /node_modules in .* has no Node 24: it was installed with --ignore-scripts, or before Sluice brought its own Node\. Run `npm rebuild node` \(or `npm ci`, with its install scripts\) there\./,
      `${args.join(' ')}: ${output}`,
    );
    assert.doesNotMatch(output, /ERR_UNKNOWN_FILE_EXTENSION|at .*:\d+:\d+/, 'no stack');
  }
});
