/**
 * The texts a reader sees in build output, beside the bytes it is made of.
 * A secret is rarely printed in one piece: a line break wraps it, a
 * progress bar's `\r` or a colour escape lands inside it, and a hex dump
 * (`xxd`, `hexdump -C`, `od -tx1`) spreads its bytes over spaced pairs on
 * several lines between offsets and a text column. Each view takes that
 * clutter out and remembers where every character it keeps came from, so
 * a form found in the view is masked where it stands in the output. Both
 * are one pass over the text.
 */

/** One reading of the output. */
export interface OutputView {
  /** The characters forms are looked for in. */
  text: string;
  /** For each character of `text`, its index in the output. */
  at: number[];
  /** For each character, the index of the same byte in a dump's text column, if it shows there. */
  echo?: Array<number | undefined>;
}

/** Never part of a form: stands between two runs of a view that do not join. */
const BARRIER = '\0';

/** Both views of `text`. */
export function readOutputViews(text: string): OutputView[] {
  return [readPlainView(text), readDumpView(text)];
}

/**
 * The output without line breaks, `\r` and ANSI control sequences
 * (`ESC [ … final`, as colours and cursor moves are written), so a secret
 * cut by any of them reads whole.
 */
export function readPlainView(text: string): OutputView {
  let out = '';
  const at: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '\n' || char === '\r') continue;
    if (char === '\x1b' && text[i + 1] === '[') {
      const end = controlSequenceEnd(text, i + 2);
      if (end !== -1) {
        i = end - 1;
        continue;
      }
    }
    out += char;
    at.push(i);
  }
  return { text: out, at };
}

/** The index after a control sequence's final byte, the text's end if it stops early, or -1 if it is none. */
function controlSequenceEnd(text: string, from: number): number {
  let i = from;
  while (i < text.length && inRange(text, i, 0x30, 0x3f)) i++;
  while (i < text.length && inRange(text, i, 0x20, 0x2f)) i++;
  if (i === text.length) return i;
  return inRange(text, i, 0x40, 0x7e) ? i + 1 : -1;
}

function inRange(text: string, i: number, low: number, high: number): boolean {
  const code = text.charCodeAt(i);
  return code >= low && code <= high;
}

/**
 * The hex digits of consecutive hex dump lines, one run, so a secret's hex
 * reads whole across the 16-byte lines; every other line is a barrier.
 */
export function readDumpView(text: string): OutputView {
  let out = '';
  const at: number[] = [];
  const echo: Array<number | undefined> = [];
  let lineStart = 0;
  while (lineStart < text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd === -1) lineEnd = text.length;
    const bytes = readDumpLine(text, lineStart, lineEnd);
    if (bytes) {
      for (const { digits, shown } of bytes) {
        for (const digit of digits) {
          out += text[digit];
          at.push(digit);
          echo.push(shown);
        }
      }
    } else if (!out.endsWith(BARRIER)) {
      out += BARRIER;
      at.push(lineStart);
      echo.push(undefined);
    }
    lineStart = lineEnd + 1;
  }
  return { text: out, at, echo };
}

interface DumpByte {
  /** Indexes of its two hex digits. */
  digits: [number, number];
  /** Index of its character in the text column, if the line has one. */
  shown: number | undefined;
}

/**
 * The bytes of one dump line: an offset (6 or more hex digits, with `:` as
 * xxd writes it) or leading spaces (`od -An`), then groups of hex pairs, then
 * perhaps a text column (`|…|` for hexdump -C, `>…<` for od -c, after two
 * spaces for xxd). Null when the line is not one.
 */
function readDumpLine(text: string, start: number, end: number): DumpByte[] | null {
  let i = start;
  while (i < end && text[i] === ' ') i++;
  const xxd = i === start && offsetEnd(text, i, end) !== -1 && text[offsetEnd(text, i, end)] === ':';
  if (i === start) {
    const after = offsetEnd(text, i, end);
    if (after === -1) return null;
    i = xxd ? after + 1 : after;
  }
  const bytes: DumpByte[] = [];
  let column: number | undefined;
  while (i < end) {
    let spaces = 0;
    while (i + spaces < end && text[i + spaces] === ' ') spaces++;
    if (spaces === 0 && bytes.length > 0) return null;
    i += spaces;
    if (i === end) break;
    if (spaces >= 2 && (xxd || text[i] === '|' || text[i] === '>')) {
      column = xxd ? i - spaces + 2 : i + 1;
      break;
    }
    let j = i;
    while (j < end && isHex(text.charCodeAt(j))) j++;
    const length = j - i;
    if (length === 0 || length % 2 === 1 || length > 8 || (j < end && text[j] !== ' ')) return null;
    for (let k = i; k < j; k += 2) bytes.push({ digits: [k, k + 1], shown: undefined });
    i = j;
  }
  if (bytes.length < 2) return null;
  // xxd's text column is the line's last characters, one per byte (it may begin with a space).
  if (xxd && column !== undefined) column = Math.max(column, end - bytes.length);
  if (column !== undefined) {
    bytes.forEach((byte, k) => {
      if (column + k < end) byte.shown = column + k;
    });
  }
  return bytes;
}

/** The index after a line's offset (6 or more hex digits followed by `:` or a space), or -1. */
function offsetEnd(text: string, from: number, end: number): number {
  let i = from;
  while (i < end && isHex(text.charCodeAt(i))) i++;
  return i - from >= 6 && (text[i] === ':' || text[i] === ' ') ? i : -1;
}

function isHex(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}
