/**
 * Looks for a secret in text the way a reader would decode it, independent
 * of how Sluice masks: with HTML entities decoded, line breaks, `\r` and colour escapes taken out,
 * with escapes undone (JSON, `\uXXXX`, `printf %q`, `'\''`, `\ooo`), URL
 * decoded twice, and hex (plain, dumped, in byte-swapped words) and base64
 * (at every offset, either alphabet) decoded. A secret counts as found when
 * one of its pieces of 6 characters (or bytes) is, so a partial leak counts
 * too; a shorter piece at the end of a line may show by design.
 */

const PIECE = 6;

/** The readings of `text`, each searched for every secret. */
export interface Readings {
  texts: Record<string, string>;
  bytes: Record<string, Buffer[]>;
}

export function readAsAReader(text: string): Readings {
  const lines = decodeEntities(text)
    // eslint-disable-next-line no-control-regex -- colour escapes are what is taken out
    .replace(/\\r|\r|\x1b\[[0-9;?]*[A-Za-z]|\\u001b\[[0-9;?]*[A-Za-z]/g, '')
    .replace(/\\n/g, '\n');
  const joined = lines.replaceAll('\n', '');
  let unescaped = joined;
  for (let round = 0; round < 3; round++) unescaped = unescape(unescaped);
  const texts = {
    'as is': text,
    'without line breaks and escapes': joined,
    unescaped,
    'URL-decoded': urlDecode(urlDecode(joined)),
    'unescaped and URL-decoded': urlDecode(urlDecode(unescaped)),
  };
  const hexLines = lines.split('\n').map((line) => line.replace(/[^0-9a-fA-F]/g, ''));
  const swapped = lines
    .split('\n')
    .map((line) => (line.match(/\b[0-9a-f]{4}\b/g) ?? []).map((word) => word.slice(2) + word.slice(0, 2)).join(''));
  const base64Runs = [...joined.matchAll(/[A-Za-z0-9+/_-]{8,}/g)].map((m) =>
    m[0].replaceAll('-', '+').replaceAll('_', '/'),
  );
  return {
    texts,
    bytes: {
      hex: [...hexLines, hexLines.join('')].flatMap((digits) => [hexBytes(digits), hexBytes(digits.slice(1))]),
      'hex in byte-swapped words': swapped.map(hexBytes),
      base64: base64Runs.flatMap((run) => [0, 1, 2, 3].map((k) => Buffer.from(run.slice(k), 'base64'))),
    },
  };
}

/** Where a reader finds `secret`: the names of the readings. */
export function findSecret(readings: Readings, secret: string): string[] {
  const found: string[] = [];
  const chars = pieces(secret);
  for (const [name, text] of Object.entries(readings.texts))
    if (chars.some((piece) => text.includes(piece))) found.push(name);
  const bytes = pieces(Buffer.from(secret));
  for (const [name, buffers] of Object.entries(readings.bytes)) {
    if (buffers.some((buffer) => bytes.some((piece) => buffer.includes(piece)))) found.push(name);
  }
  return found;
}

/** Pieces side by side over the whole secret, the last ending at its end. */
function pieces<T extends string | Buffer>(value: T): T[] {
  if (value.length <= PIECE) return [value];
  const starts = [];
  for (let start = 0; start + PIECE < value.length; start += PIECE) starts.push(start);
  starts.push(value.length - PIECE);
  return starts.map((start) => value.slice(start, start + PIECE) as T);
}

function decodeEntities(text: string): string {
  const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
  return text.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);/gi, (entity, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X')) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
    return named[name.toLowerCase()] ?? entity;
  });
}

function unescape(text: string): string {
  return text
    .replaceAll("'\\''", "'")
    .replace(/\\u([0-9a-fA-F]{4})/g, (_, code: string) => String.fromCharCode(parseInt(code, 16)))
    .replace(/(?:\\[0-7]{3})+/g, (run) =>
      Buffer.from(
        run
          .split('\\')
          .slice(1)
          .map((octal) => parseInt(octal, 8)),
      ).toString(),
    )
    .replace(/\\(.)/g, '$1');
}

function urlDecode(text: string): string {
  return text.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => Buffer.from(run.replaceAll('%', ''), 'hex').toString());
}

function hexBytes(digits: string): Buffer {
  return Buffer.from(digits.slice(0, digits.length - (digits.length % 2)), 'hex');
}
