import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  buildEnvFile,
  buildRemoveWorkspaceCommand,
  buildRunCommand,
  buildStopCommand,
  envOnStdin,
} from '../../src/ssh/remote-commands.ts';

const run = promisify(execFile);

/** bash -c command with `input` on its stdin (a pipe, as sshd gives it). */
function runWithInput(command: string, input: string): Promise<{ stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile('bash', ['-c', command], (error, stdout) => (error ? reject(error) : resolve({ stdout })));
    child.stdin?.end(input);
  });
}

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
    const command = buildRunCommand({
      nonce: 'abc',
      cwd: '/',
      envFile: undefined,
      command: `printf '%s\\n' "$0" '$(id)' ';id;#'`,
      killGraceMs: 100,
      leftovers: 'stop',
      mark: 'm1',
      hostLimitMs: undefined,
    });
    const { stdout } = await run('bash', ['-c', command]);
    const [marker, ...rest] = stdout.split('\n');
    assert.match(marker ?? '', /^sluice-abc:pgid:\d+:$/);
    assert.deepEqual(rest, ['bash', '$(id)', ';id;#', '']);
  });

  it('ends the group id line with the time limit the host holds the command to', async () => {
    const command = buildRunCommand({
      nonce: 'abc',
      cwd: '/',
      envFile: undefined,
      command: 'true',
      killGraceMs: 100,
      leftovers: 'stop',
      mark: 'm1',
      hostLimitMs: 4500,
    });
    const { stdout } = await run('bash', ['-c', command]);
    assert.match(stdout.split('\n')[0] ?? '', /^sluice-abc:pgid:\d+:5$/);
  });

  it("puts the mark in the command's environment, after the env file, so no variable of the pipeline hides it", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-mark-'));
    try {
      const envFile = join(dir, 'env');
      await writeFile(envFile, buildEnvFile({ SLUICE_COMMAND_MARK: 'forged', OTHER: 'x' }));
      const command = buildRunCommand({
        nonce: 'abc',
        cwd: '/',
        envFile,
        command: 'echo "$SLUICE_COMMAND_MARK $OTHER"',
        killGraceMs: 100,
        leftovers: 'stop',
        mark: 'f00d',
        hostLimitMs: undefined,
      });
      const { stdout } = await run('bash', ['-c', command]);
      assert.equal(stdout.split('\n')[1], 'f00d x');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads the environment ahead of stdin up to a NUL byte, and the command gets the rest of its input untouched', async () => {
    const command = buildRunCommand({
      nonce: 'abc',
      cwd: '/',
      envFile: '-',
      command: 'echo "$SLUICE_COMMAND_MARK $OTHER"; cat',
      killGraceMs: 100,
      leftovers: 'stop',
      mark: 'f00d',
      hostLimitMs: undefined,
    });
    const input = `${envOnStdin({ SLUICE_COMMAND_MARK: 'forged', OTHER: "it's $(not run)" })}line one\nline two\n`;
    const { stdout } = await runWithInput(command, input);
    assert.deepEqual(stdout.split('\n').slice(1), ["f00d it's $(not run)", 'line one', 'line two', '']);
    assert.throws(() => envOnStdin({ A: 'x\0y' }), /NUL/);
  });

  it('with a host limit, the host stops the whole group at it by itself, what the command started included', async () => {
    const marker = `4322.${process.pid}`;
    const command = buildRunCommand({
      nonce: 'abc',
      cwd: '/',
      envFile: undefined,
      command: `sleep ${marker} & echo started; wait`,
      killGraceMs: 100,
      leftovers: 'keep',
      mark: 'm3',
      hostLimitMs: 1000,
    });
    const ran = await run('bash', ['-c', command]).catch((error: { code: number; stdout: string }) => error);
    assert.equal((ran as { code?: number }).code, 124, 'timeout(1) says the limit stopped it');
    assert.deepEqual(ran.stdout.split('\n').slice(1), ['started', '']);
    const left = await run('pgrep', ['-f', `sleep ${marker}`]).then(
      (r) => r.stdout.trim(),
      () => '',
    );
    assert.equal(left, '', 'nothing of the group runs on');
  });

  it('with leftovers kept, ends when the command exits although a background process holds its output, and that process runs on', async () => {
    const marker = `4321.${process.pid}`;
    const command = buildRunCommand({
      nonce: 'abc',
      cwd: '/',
      envFile: undefined,
      command: `sleep ${marker} & echo started; echo oops >&2; printf 'no newline'; exit 3`,
      killGraceMs: 100,
      leftovers: 'keep',
      mark: 'm2',
      hostLimitMs: undefined,
    });
    const ran = await run('bash', ['-c', command]).catch(
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
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
