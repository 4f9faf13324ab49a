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
 * the buffer without bound, cut between characters (never inside an
 * emoji's pair of UTF-16 units); `continues` tells a piece that the line
 * goes on in the next call (masking looks across the cut).
 */
export function createLineSplitter(
  onLine: (line: string, continues: boolean) => void,
  maxLineLength = 64 * 1024,
): LineSplitter {
  let pending = '';

  /** `ends`: the last piece ends the line; otherwise the line goes on after these pieces. */
  const emitPieces = (line: string, ends: boolean) => {
    for (let start = 0; start < line.length;) {
      const end = pieceEnd(line, start, maxLineLength);
      onLine(line.slice(start, end), !ends || end < line.length);
      start = end;
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
      // What goes on past the limit is emitted in pieces now; at most one piece's worth waits for more.
      let cut = 0;
      while (pending.length - cut > maxLineLength) {
        const end = pieceEnd(pending, cut, maxLineLength);
        onLine(pending.slice(cut, end), true);
        cut = end;
      }
      if (cut > 0) pending = pending.slice(cut);
    },
    flush() {
      if (pending !== '') emit(pending);
      pending = '';
    },
  };
}

/**
 * Where a piece of at most `length` units from `start` ends: one unit
 * sooner when the cut would fall between the two halves of a character
 * outside the BMP (an emoji), which stored as UTF-8 would show as two
 * replacement characters.
 */
function pieceEnd(text: string, start: number, length: number): number {
  const end = Math.min(text.length, start + length);
  if (end < text.length && length > 1 && isHighSurrogate(text.charCodeAt(end - 1))) return end - 1;
  return end;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
