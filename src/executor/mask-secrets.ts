/**
 * Hides secret values in output before it reaches a log, a check run or
 * Slack (PRODUCT R4), in every shape secret-forms.ts lists, and also where
 * output cuts a shape apart: forms are looked for in the views
 * read-output-views.ts reads (without line breaks, `\r` and colour escapes;
 * the hex of a dump's lines), across the pieces a line over 64 KiB is cut
 * into. The cost is linear in the output for a given set of secrets: each
 * place in a view is tried against each form once.
 */
import { readOutputViews, type OutputView } from './read-output-views.ts';
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
/** How much of the last line shown stays in front of the next, so a form begun there is still read whole. */
const KEEP = 512;

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

type Range = [number, number];

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
  // A leading position that many characters may fill (a base64 character shared with the byte before) is
  // checked after a match, not tried at every place of the output: that would make each place cost much more.
  const split = forms.map((form): { lead: string | undefined; core: SecretForm } =>
    (form[0]?.length ?? 0) > 2 ? { lead: form[0], core: form.slice(1) } : { lead: undefined, core: form },
  );
  split.sort((a, b) => b.core.length - a.core.length);
  const byFirst = new Map<string, SecretForm[]>();
  for (const { core } of split) {
    for (const char of core[0] ?? '') byFirst.set(char, [...(byFirst.get(char) ?? []), core]);
  }
  const matching: Matching = {
    pattern: new RegExp(split.map(({ core }) => formSource(core)).join('|'), 'g'),
    byFirst,
    longest: split[0]?.core.length ?? 0,
    leads: split.filter((form): form is { lead: string; core: SecretForm } => form.lead !== undefined),
  };
  const mask = (text: string) => maskRange(text, 0, text.length, findRanges(matching, readOutputViews(text)));
  return Object.assign(mask, {
    lines: (emit: (line: string, continues: boolean) => void) => maskedLines(matching, emit),
  });
}

function collectForms(secrets: readonly string[]): SecretForm[] {
  const forms = new Map<string, SecretForm>();
  for (const secret of secrets) {
    // A multi-line secret (a PEM key) is also hidden one line at a time.
    const parts = secret.includes('\n') ? [secret, ...secret.split(/\r?\n/)] : [secret];
    for (const part of parts) {
      if (part.trim().length < MIN_SECRET_LENGTH) continue;
      for (const form of secretForms(part)) {
        // Views read output without line breaks, so forms are looked for without them too.
        const read = form.filter((chars) => chars !== '\n' && chars !== '\r');
        if (read.length >= MIN_SECRET_LENGTH) forms.set(read.join('\0'), read);
      }
    }
  }
  return [...forms.values()].sort((a, b) => b.length - a.length);
}

function formSource(form: SecretForm): string {
  return form.map((chars) => (chars.length === 1 ? escapeRegExp(chars) : `[${escapeRegExp(chars)}]`)).join('');
}

/** `***` for each line the match spans, so the line structure stays. */
function maskMatch(match: string): string {
  return match
    .split('\n')
    .map((part) => (part === '' ? '' : MASK))
    .join('\n');
}

function escapeRegExp(text: string): string {
  return text
    .replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
    .replaceAll('\n', '\\n')
    .replaceAll('\r', '\\r')
    .replaceAll('\0', '\\x00');
}

function passThrough(emit: (line: string, continues: boolean) => void): MaskedLines {
  return { push: (line, continues = false) => emit(line, continues), flush: () => {} };
}

interface Matching {
  pattern: RegExp;
  byFirst: Map<string, SecretForm[]>;
  longest: number;
  /** Forms whose first position `pattern` leaves out. */
  leads: ReadonlyArray<{ lead: string; core: SecretForm }>;
}

/**
 * The output so far is one text (lines end in `\n`, pieces of a line do
 * not). Everything up to the earliest place a form could still begin is
 * masked and emitted; the rest waits for more. The end of the last line
 * emitted stays in front of the text, already shown, so a form that starts
 * there is still recognised and its rest masked on the next line.
 */
function maskedLines(matching: Matching, emit: (line: string, continues: boolean) => void): MaskedLines {
  let text = '';
  let shown = 0;
  const release = (final: boolean) => {
    const views = readOutputViews(text);
    const ranges = findRanges(matching, views);
    const cut = final ? text.length : holdPoint(matching, text, shown, views, ranges);
    const out = maskRange(text, shown, cut, ranges);
    const parts = out.split('\n');
    const rest = parts.pop() ?? '';
    for (const part of parts) emit(part, false);
    if (rest !== '') emit(rest, true);
    const released = text.slice(0, cut);
    text = text.slice(cut);
    shown = 0;
    if (!final && released.endsWith('\n')) {
      const lastLine = released.slice(released.lastIndexOf('\n', released.length - 2) + 1);
      const kept = lastLine.slice(-KEEP);
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

/** Where forms stand in the output, from every view, in order and merged. */
function findRanges(matching: Matching, views: readonly OutputView[]): Range[] {
  const ranges: Range[] = [];
  for (const view of views) {
    const { pattern } = matching;
    pattern.lastIndex = 0;
    for (let m = pattern.exec(view.text); m; m = pattern.exec(view.text)) {
      const first = m.index - leadBefore(matching, view.text, m.index, m[0]);
      const last = m.index + m[0].length - 1;
      ranges.push([view.at[first] ?? 0, (view.at[last] ?? 0) + 1]);
      for (let k = first; k <= last; k++) {
        const echo = view.echo?.[k];
        if (echo !== undefined) ranges.push([echo, echo + 1]);
      }
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: Range[] = [];
  for (const range of ranges) {
    const top = merged.at(-1);
    if (top && range[0] <= top[1]) top[1] = Math.max(top[1], range[1]);
    else merged.push([range[0], range[1]]);
  }
  return merged;
}

/** 1 when the character before a match is the left-out first position of a form the match is the rest of. */
function leadBefore(matching: Matching, text: string, index: number, match: string): number {
  if (index === 0) return 0;
  const before = text[index - 1] ?? '';
  const fits = ({ lead, core }: { lead: string; core: SecretForm }) =>
    lead.includes(before) && core.length === match.length && core.every((chars, k) => chars.includes(match[k] ?? ''));
  return matching.leads.some(fits) ? 1 : 0;
}

/** Where to stop emitting: the earliest place from which some view could still become a form. */
function holdPoint(
  matching: Matching,
  text: string,
  shown: number,
  views: readonly OutputView[],
  ranges: readonly Range[],
): number {
  let cut = text.length;
  const lastBreak = text.lastIndexOf('\n');
  for (const view of views) {
    // Only a place less than a form's length from the end can start a form the text stops inside.
    for (let p = Math.max(0, view.text.length - matching.longest + 1); p < view.text.length; p++) {
      const q = view.at[p] ?? 0;
      // A form may begin in what is already shown: then everything after it waits.
      if (q >= cut) break;
      if (!matching.byFirst.has(view.text[p] ?? '') || ranges.some(([start, end]) => start <= q && q < end)) continue;
      const reached = longestPrefix(matching, view.text, p);
      if (reached === 0 || (reached < HOLD_MIN && q <= lastBreak)) continue;
      // One character more, which may be a form's left-out first position.
      cut = Math.max(shown, view.at[p - 1] ?? q);
      break;
    }
  }
  // A complete line is held whole, with any match that runs into it.
  for (;;) {
    if (cut === text.length || !text.includes('\n', cut)) return cut;
    const lineStart = Math.max(shown, text.lastIndexOf('\n', cut - 1) + 1);
    const inside = ranges.find(([start, end]) => start < lineStart && lineStart < end);
    const next = inside ? Math.max(shown, text.lastIndexOf('\n', inside[0] - 1) + 1) : lineStart;
    if (next === cut) return cut;
    cut = next;
  }
}

/** How many positions of some form `text` from `q` to its end spells, when it stops before the form does. */
function longestPrefix(matching: Matching, text: string, q: number): number {
  let best = 0;
  for (const form of matching.byFirst.get(text[q] ?? '') ?? []) {
    let k = 0;
    while (q + k < text.length && k < form.length && form[k]?.includes(text[q + k] ?? '')) k++;
    if (q + k === text.length && k < form.length && k > best) best = k;
  }
  return best;
}

/** `text[from, to)` with every range masked (a range begun before `from` is masked from there on). */
function maskRange(text: string, from: number, to: number, ranges: readonly Range[]): string {
  let out = '';
  let at = from;
  for (const [start, end] of ranges) {
    if (end <= at || start >= to) continue;
    out += text.slice(at, Math.max(at, start)) + maskMatch(text.slice(Math.max(at, start), Math.min(end, to)));
    at = Math.min(end, to);
  }
  return out + text.slice(at, to);
}
