/**
 * Turns a stream of text chunks into whole lines. Output arrives in pieces
 * that rarely end on a line break; a log wants lines.
 */

export interface LineSplitter {
  /** Feed the next chunk of decoded text. */
  push(chunk: string): void;
  /** Emit what is left after the last line break (the command has ended). */
  flush(): void;
}

/**
 * Split on `\n`, dropping one `\r` before it (`\r\n` output from tools
 * meant for Windows or terminals). A line longer than `maxLineLength` is
 * emitted in pieces so a command printing without line breaks cannot grow
 * the buffer without bound; `continues` tells a piece that the line goes on
 * in the next call (masking looks across the cut).
 */
export function createLineSplitter(
  onLine: (line: string, continues: boolean) => void,
  maxLineLength = 64 * 1024,
): LineSplitter {
  let pending = '';

  /** `ends`: the last piece ends the line; otherwise the line goes on after these pieces. */
  const emitPieces = (line: string, ends: boolean) => {
    for (let start = 0; start < line.length; start += maxLineLength) {
      onLine(line.slice(start, start + maxLineLength), !ends || start + maxLineLength < line.length);
    }
  };
  const emit = (text: string) => {
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (line === '') onLine('', false);
    else emitPieces(line, true);
  };

  return {
    push(chunk) {
      pending += chunk;
      let start = 0;
      let end = pending.indexOf('\n', start);
      while (end !== -1) {
        emit(pending.slice(start, end));
        start = end + 1;
        end = pending.indexOf('\n', start);
      }
      pending = pending.slice(start);
      if (pending.length > maxLineLength) {
        const cut = pending.length - (pending.length % maxLineLength || maxLineLength);
        emitPieces(pending.slice(0, cut), false);
        pending = pending.slice(cut);
      }
    },
    flush() {
      if (pending !== '') emit(pending);
      pending = '';
    },
  };
}
