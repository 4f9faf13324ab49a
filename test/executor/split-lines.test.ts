import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLineSplitter } from '../../src/executor/split-lines.ts';

function split(chunks: string[], maxLineLength?: number): string[] {
  const lines: string[] = [];
  const splitter = createLineSplitter((line) => lines.push(line), maxLineLength);
  for (const chunk of chunks) splitter.push(chunk);
  splitter.flush();
  return lines;
}

describe('createLineSplitter', () => {
  it('joins lines broken across chunks', () => {
    assert.deepEqual(split(['hel', 'lo\nwor', 'ld\n']), ['hello', 'world']);
  });

  it('flushes a last line without a line break', () => {
    assert.deepEqual(split(['one\ntwo']), ['one', 'two']);
  });

  it('keeps empty lines and drops the carriage return of \\r\\n', () => {
    assert.deepEqual(split(['a\r\n\r\nb\r', '\n']), ['a', '', 'b']);
  });

  it('emits nothing extra for output that ends with a line break', () => {
    assert.deepEqual(split(['a\n']), ['a']);
    assert.deepEqual(split([]), []);
  });

  it('tells each piece of a cut line whether the line goes on', () => {
    const pieces: Array<[string, boolean]> = [];
    const splitter = createLineSplitter((line, continues) => pieces.push([line, continues]), 4);
    for (const chunk of ['abcdefgh', 'ij\nkl\n']) splitter.push(chunk);
    splitter.flush();
    assert.deepEqual(pieces, [
      ['abcd', true],
      ['efgh', true],
      ['ij', false],
      ['kl', false],
    ]);
  });

  it('cuts a line that never ends into pieces', () => {
    assert.deepEqual(split(['abcdefgh', 'ij\n'], 4), ['abcd', 'efgh', 'ij']);
  });

  it('cuts a long line between characters, never inside an emoji', () => {
    // One letter, then emoji: a cut every 64 Ki UTF-16 units would fall between the two halves of one,
    // and each piece, stored as UTF-8, would show a replacement character where the emoji was.
    const line = `a${'😀'.repeat(40_000)}한글 ─┼─ ${'😀'.repeat(40_000)}`;
    for (const chunks of [[`${line}\n`], [line.slice(0, 70_000), `${line.slice(70_000)}\n`]]) {
      const pieces: string[] = [];
      const splitter = createLineSplitter((piece) => pieces.push(piece));
      for (const chunk of chunks) splitter.push(chunk);
      splitter.flush();
      assert.ok(pieces.length > 1, 'the line is cut');
      for (const piece of pieces) {
        assert.ok(piece.isWellFormed(), `a piece ends or starts inside a character: …${piece.slice(-2)}`);
        assert.ok(piece.length <= 64 * 1024);
        assert.ok(!Buffer.from(piece).toString('utf8').includes('\uFFFD'));
      }
      assert.equal(pieces.join(''), line);
    }
  });

  it('cuts a line of pairs of units into pieces no longer than asked', () => {
    assert.deepEqual(split(['a😀😀😀😀😀\n'], 4), ['a😀', '😀😀', '😀😀']);
    assert.deepEqual(split(['a😀😀', '😀😀😀\n'], 4), ['a😀', '😀😀', '😀😀']);
  });
});
