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
 * the buffer without bound.
 */
export function createLineSplitter(onLine: (line: string) => void, maxLineLength = 64 * 1024): LineSplitter {
  let pending = '';

  const emitPieces = (line: string) => {
    for (let start = 0; start < line.length; start += maxLineLength) onLine(line.slice(start, start + maxLineLength));
  };
  const emit = (text: string) => {
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (line === '') onLine('');
    else emitPieces(line);
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
        emitPieces(pending.slice(0, cut));
        pending = pending.slice(cut);
      }
    },
    flush() {
      if (pending !== '') emit(pending);
      pending = '';
    },
  };
}
