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
    const command = buildRunCommand({ nonce: 'abc', cwd: '/', envFile: undefined, command: `printf '%s\\n' "$0" '$(id)' ';id;#'`, killGraceMs: 100, leftovers: 'stop' });
    const { stdout } = await run('bash', ['-c', command]);
    const [marker, ...rest] = stdout.split('\n');
    assert.match(marker ?? '', /^sluice-abc:pgid:\d+$/);
    assert.deepEqual(rest, ['bash', '$(id)', ';id;#', '']);
  });

  it('with leftovers kept, ends when the command exits although a background process holds its output, and that process runs on', async () => {
    const marker = `4321.${process.pid}`;
    const command = buildRunCommand({ nonce: 'abc', cwd: '/', envFile: undefined, command: `sleep ${marker} & echo started; echo oops >&2; printf 'no newline'; exit 3`, killGraceMs: 100, leftovers: 'keep' });
    const ran = await run('bash', ['-c', command]).catch((error: { code: number; stdout: string; stderr: string }) => error);
    try {
      assert.equal((ran as { code?: number }).code, 3);
      assert.deepEqual(ran.stdout.split('\n').slice(1), ['started', 'no newline', '']);
      assert.equal(ran.stderr, 'oops\n');
      const { stdout } = await run('pgrep', ['-f', `sleep ${marker}`]);
      assert.ok(stdout.trim(), 'the background process still runs');
    } finally {
      await run('pkill', ['-f', `sleep ${marker}`]).catch(() => {});
    }
  });
});
