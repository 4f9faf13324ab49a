/**
 * GitHub measures a check run's `output.summary` and `output.text` in bytes
 * of UTF-8, not in characters (its 422 says "exceeds a maximum bytesize of
 * 65535"), so a log of Hangul, emoji or box drawing is three or four times
 * longer to GitHub than its length in JavaScript. These cut a text to a
 * number of bytes at a character boundary: a cut UTF-8 sequence, or half of
 * a surrogate pair, would reach GitHub as a replacement character or break
 * its JSON. Within a character boundary they keep whole graphemes where
 * one ends nearby: half a flag (two regional indicators) or a family emoji
 * cut after one of its joiners would show as other emoji, and shift the
 * pairing of every flag after it. A grapheme longer than the limit (a
 * letter under thousands of combining marks) is cut between its characters.
 */

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The end of `text`, at most `limit` bytes of it, starting at a whole character. */
export function keepTail(text: string, limit: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= limit) return text;
  let start = bytes.length - Math.max(0, limit);
  // A UTF-8 continuation byte (10xxxxxx) is never the start of a character.
  while (start < bytes.length && ((bytes[start] ?? 0) & 0xc0) === 0x80) start++;
  const kept = bytes.subarray(start).toString('utf8');
  const at = text.length - kept.length;
  const cluster = graphemes.segment(text).containing(at);
  if (!cluster || cluster.index === at) return kept;
  const next = cluster.index + cluster.segment.length;
  return next < text.length ? text.slice(next) : kept;
}

/** The start of `text`, at most `limit` bytes of it, ending after a whole character. */
export function keepHead(text: string, limit: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= limit) return text;
  let end = Math.max(0, limit);
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  const kept = bytes.subarray(0, end).toString('utf8');
  const cluster = graphemes.segment(text).containing(kept.length);
  if (!cluster || cluster.index === kept.length || cluster.index === 0) return kept;
  return text.slice(0, cluster.index);
}
