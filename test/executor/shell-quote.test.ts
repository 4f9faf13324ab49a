import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { quoteArg, shellCommand } from '../../src/executor/shell-quote.ts';

const HOSTILE = [
  '$(touch pwned-subst)',
  '`touch pwned-backtick`',
  ';touch pwned-semicolon;#',
  "it's; touch pwned-quote",
  'a && touch pwned-and',
  'line one\ntouch pwned-newline',
  '$HOME ${PATH} ~ * ?',
  '> pwned-redirect',
  '| touch pwned-pipe',
  '\\',
  '"double"',
  '',
  ' leading and trailing ',
  '-rf',
  'A=b',
  'ünïcödé ✓',
];

describe('quoteArg', () => {
  it('leaves plain words as they are', () => {
    assert.equal(quoteArg('dist'), 'dist');
    assert.equal(quoteArg('/srv/app/releases/20240101-abc'), '/srv/app/releases/20240101-abc');
    assert.equal(quoteArg('-rf'), '-rf');
    assert.equal(quoteArg('user@host:1.2.3,4+5%'), 'user@host:1.2.3,4+5%');
  });

  it('single-quotes everything the shell would interpret', () => {
    assert.equal(quoteArg(''), "''");
    assert.equal(quoteArg('hello world'), "'hello world'");
    assert.equal(quoteArg('$(touch /tmp/pwned)'), "'$(touch /tmp/pwned)'");
    assert.equal(quoteArg(';id;#'), "';id;#'");
    assert.equal(quoteArg('`id`'), "'`id`'");
    assert.equal(quoteArg('a\nb'), "'a\nb'");
    assert.equal(quoteArg('~'), "'~'");
    assert.equal(quoteArg('*.js'), "'*.js'");
    assert.equal(quoteArg('A=b'), "'A=b'");
  });

  it('closes, escapes and reopens around a single quote', () => {
    assert.equal(quoteArg("it's"), "'it'\\''s'");
    assert.equal(quoteArg("'"), "''\\'''");
  });
});

describe('shellCommand', () => {
  it('joins quoted arguments with spaces', () => {
    assert.equal(
      shellCommand(['tar', '-czf', '/w/out.tar.gz', '--', 'dist', 'my file']),
      "tar -czf /w/out.tar.gz -- dist 'my file'",
    );
    assert.equal(shellCommand(['echo', '']), "echo ''");
  });

  it('delivers hostile strings to bash literally and runs nothing they contain', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-quote-'));
    try {
      const script = shellCommand(['printf', '%s\\0', ...HOSTILE]);
      const { stdout } = await promisify(execFile)('bash', ['-c', script], { cwd: dir });
      assert.deepEqual(stdout.split('\0').slice(0, -1), HOSTILE);
      assert.deepEqual(await readdir(dir), [], 'no file was created');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
