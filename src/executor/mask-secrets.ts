/**
 * Hides secret values in output before it reaches a log, a check run or
 * Slack (PRODUCT R4), in every shape secret-forms.ts lists, and also where
 * output cuts a shape in two: a form may run on across a line break (base64
 * and hex wrapped at 76 or 60 columns, a PEM key) and across the pieces a
 * line over 64 KiB is cut into.
 */
import { secretForms, type SecretForm } from './secret-forms.ts';

/** What a secret is replaced with. */
export const MASK = '***';

// Shorter values would mask ordinary words and numbers all over the log.
const MIN_SECRET_LENGTH = 4;
/**
 * A line is held back (until the next one, or the command's end) only when
 * it ends with at least this many characters of a form; a shorter start is
 * let through and the rest of the form masked on the next line, so ordinary
 * output is not delayed by chance resemblances.
 */
const HOLD_MIN = 4;

/** Masks one text; `lines` masks a stream of output lines. */
export interface Masker {
  (text: string): string;
  /** Lines of one output stream, masked across line breaks and pieces; `emit` gets them masked. */
  lines(emit: (line: string, continues: boolean) => void): MaskedLines;
}

export interface MaskedLines {
  /** The next line, or piece of a line when `continues` (the line goes on in the next call). */
  push(line: string, continues?: boolean): void;
  /** The stream has ended: emit what is held. */
  flush(): void;
}

/**
 * Build a masker for these secrets. Values shorter than 4 characters are
 * ignored. The longest form wins where two overlap, so no tail of a longer
 * secret is left showing.
 */
export function createMasker(secrets: readonly string[]): Masker {
  const forms = collectForms(secrets);
  if (forms.length === 0) {
    const identity = (text: string) => text;
    return Object.assign(identity, { lines: (emit: (line: string, continues: boolean) => void) => passThrough(emit) });
  }
  const pattern = new RegExp(forms.map(formSource).join('|'), 'g');
  const mask = (text: string) => text.replace(pattern, maskMatch);
  const byFirst = new Map<string, SecretForm[]>();
  for (const form of forms) {
    for (const char of form[0] ?? '') byFirst.set(char, [...(byFirst.get(char) ?? []), form]);
  }
  const longest = forms[0]?.length ?? 0;
  return Object.assign(mask, { lines: (emit: (line: string, continues: boolean) => void) => maskedLines({ pattern, byFirst, longest }, emit) });
}

function collectForms(secrets: readonly string[]): SecretForm[] {
  const forms = new Map<string, SecretForm>();
  for (const secret of secrets) {
    // A multi-line secret (a PEM key) is also hidden one line at a time.
    const parts = secret.includes('\n') ? [secret, ...secret.split(/\r?\n/)] : [secret];
    for (const part of parts) {
      if (part.trim().length < MIN_SECRET_LENGTH) continue;
      for (const form of secretForms(part)) {
        if (form.length >= MIN_SECRET_LENGTH) forms.set(form.join('\0'), form);
      }
    }
  }
  return [...forms.values()].sort((a, b) => b.length - a.length);
}

/** A form as a regular expression that allows one line break between any two of its characters. */
function formSource(form: SecretForm): string {
  return form.map((chars) => (chars.length === 1 ? escapeRegExp(chars) : `[${escapeRegExp(chars)}]`)).join('\\n?');
}

/** `***` for each line the match spans, so the line structure stays. */
function maskMatch(match: string): string {
  return match
    .split('\n')
    .map((part) => (part === '' ? '' : MASK))
    .join('\n');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&').replaceAll('\n', '\\n').replaceAll('\r', '\\r');
}

function passThrough(emit: (line: string, continues: boolean) => void): MaskedLines {
  return { push: (line, continues = false) => emit(line, continues), flush: () => {} };
}

interface Matching {
  pattern: RegExp;
  byFirst: Map<string, SecretForm[]>;
  longest: number;
}

/**
 * The output so far is one text (lines end in `\n`, pieces of a line do
 * not). Everything up to the earliest place a form could still begin is
 * masked and emitted; the rest waits for more. The last few characters of
 * an emitted line stay in front of the text, already shown, so a form that
 * starts there is still recognised and its rest masked on the next line.
 */
function maskedLines(matching: Matching, emit: (line: string, continues: boolean) => void): MaskedLines {
  let text = '';
  let shown = 0;
  const release = (final: boolean) => {
    const matches = findMatches(matching.pattern, text);
    const cut = final ? text.length : holdPoint(matching, text, shown, matches);
    const out = maskRange(text, shown, cut, matches);
    const parts = out.split('\n');
    const rest = parts.pop() ?? '';
    for (const part of parts) emit(part, false);
    if (rest !== '') emit(rest, true);
    const released = text.slice(0, cut);
    text = text.slice(cut);
    shown = 0;
    if (!final && released.endsWith('\n')) {
      const lastLine = released.slice(released.lastIndexOf('\n', released.length - 2) + 1);
      const kept = lastLine.length > HOLD_MIN ? lastLine.slice(-HOLD_MIN) : lastLine;
      text = kept + text;
      shown = kept.length;
    }
  };
  return {
    push(line, continues = false) {
      text += continues ? line : `${line}\n`;
      release(false);
    },
    flush() {
      if (text.length > shown) release(true);
      text = '';
      shown = 0;
    },
  };
}

function findMatches(pattern: RegExp, text: string): Array<[number, number]> {
  const matches: Array<[number, number]> = [];
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) matches.push([m.index, m.index + m[0].length]);
  return matches;
}

/** Where to stop emitting: the earliest place from which the text could still become a form. */
function holdPoint(matching: Matching, text: string, shown: number, matches: ReadonlyArray<[number, number]>): number {
  let cut = text.length;
  for (let q = Math.max(shown, text.length - 2 * matching.longest); q < text.length; q++) {
    if (matches.some(([start, end]) => start < q && q < end)) continue;
    const reached = longestPrefix(matching, text, q);
    if (reached === 0) continue;
    if (reached < HOLD_MIN && text.includes('\n', q)) continue;
    cut = q;
    break;
  }
  // A complete line is held whole, with any match that runs into it.
  for (;;) {
    if (cut === text.length || !text.includes('\n', cut)) return cut;
    const lineStart = Math.max(shown, text.lastIndexOf('\n', cut - 1) + 1);
    const inside = matches.find(([start, end]) => start < lineStart && lineStart < end);
    const next = inside ? Math.max(shown, text.lastIndexOf('\n', inside[0] - 1) + 1) : lineStart;
    if (next === cut) return cut;
    cut = next;
  }
}

/** How many characters of some form `text` from `q` to its end spells, when it stops before the form does. */
function longestPrefix(matching: Matching, text: string, q: number): number {
  let best = 0;
  for (const form of matching.byFirst.get(text[q] ?? '') ?? []) {
    let k = 0;
    let i = q;
    let breakAllowed = false;
    while (i < text.length && k < form.length) {
      const char = text[i] ?? '';
      if (form[k]?.includes(char)) {
        k++;
        breakAllowed = true;
      } else if (char === '\n' && breakAllowed) breakAllowed = false;
      else break;
      i++;
    }
    if (i === text.length && k < form.length && k > best) best = k;
  }
  return best;
}

/** `text[from, to)` with every match masked (a match begun before `from` is masked from there on). */
function maskRange(text: string, from: number, to: number, matches: ReadonlyArray<[number, number]>): string {
  let out = '';
  let at = from;
  for (const [start, end] of matches) {
    if (end <= at || start >= to) continue;
    out += text.slice(at, Math.max(at, start)) + maskMatch(text.slice(Math.max(at, start), Math.min(end, to)));
    at = Math.min(end, to);
  }
  return out + text.slice(at, to);
}
