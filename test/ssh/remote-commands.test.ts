import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { buildEnvFile, buildRemoveWorkspaceCommand, buildRunCommand, buildStopCommand } from '../../src/ssh/remote-commands.ts';

const run = promisify(execFile);

describe('remote commands', () => {
  it('writes the environment as export lines, every value single-quoted', () => {
    assert.equal(
      buildEnvFile({ TOKEN: "it's $(secret)", EMPTY: '', LINES: 'a\nb' }),
      `export TOKEN='it'\\''s $(secret)'\nexport EMPTY=''\nexport LINES='a\nb'\n`,
    );
  });

  it('refuses an environment name that is not one', () => {
    assert.throws(() => buildEnvFile({ 'A;id': 'x' }), /"A;id" is not an environment variable name/);
  });

  it('passes the workspace as an argument, never inside the script', () => {
    assert.equal(
      buildRemoveWorkspaceCommand('/tmp/ws $(id)'),
      `exec bash --norc -c 'rm -rf -- "$1" 2>/dev/null || { chmod -R u+w -- "$1" 2>/dev/null; rm -rf -- "$1"; }' sluice '/tmp/ws $(id)'`,
    );
  });

  it('never builds a stop for process group 1 or less (kill -1 reaches every process)', () => {
    for (const pgid of [1, 0, -5, Number.NaN, 2.5]) assert.throws(() => buildStopCommand(pgid, 1000), RangeError);
    assert.match(buildStopCommand(4242, 1500), / sluice 4242 15$/);
  });

  it('runs the command in bash with its arguments intact, after the group id line', async () => {
    const command = buildRunCommand({ nonce: 'abc', cwd: '/', envFile: undefined, command: `printf '%s\\n' "$0" '$(id)' ';id;#'`, killGraceMs: 100 });
    const { stdout } = await run('bash', ['-c', command]);
    const [marker, ...rest] = stdout.split('\n');
    assert.match(marker ?? '', /^sluice-abc:pgid:\d+$/);
    assert.deepEqual(rest, ['bash', '$(id)', ';id;#', '']);
  });
});
