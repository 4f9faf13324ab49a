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
});
