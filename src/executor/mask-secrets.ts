/**
 * Hides secret values in output before it reaches a log, a check run or
 * Slack (PRODUCT R4). Build tools print secrets in more shapes than the raw
 * value: base64 in auth headers and kubeconfigs, URL-encoded in connection
 * strings, escaped inside JSON.
 */

/** What a secret is replaced with. */
export const MASK = '***';

// Shorter values would mask ordinary words and numbers all over the log.
const MIN_SECRET_LENGTH = 4;
const MIN_SHIFTED_BASE64_LENGTH = 6;

/**
 * Build a function that replaces every form of every secret in a text with
 * `***`. Values shorter than 4 characters are ignored. The longest form wins
 * where two overlap, so no tail of a longer secret is left showing.
 */
export function createMasker(secrets: readonly string[]): (text: string) => string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    // Output is masked line by line: a multi-line secret (a PEM key) must
    // also be hidden one line at a time.
    const parts = secret.includes('\n') ? [secret, ...secret.split(/\r?\n/)] : [secret];
    for (const part of parts) {
      if (part.trim().length < MIN_SECRET_LENGTH) continue;
      for (const form of encodedForms(part)) {
        if (form.length >= MIN_SECRET_LENGTH) forms.add(form);
      }
    }
  }
  if (forms.size === 0) return (text) => text;

  const alternatives = [...forms].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const pattern = new RegExp(alternatives.join('|'), 'g');
  return (text) => text.replace(pattern, MASK);
}

function encodedForms(secret: string): string[] {
  const url = encodeURIComponent(secret);
  return [
    secret,
    JSON.stringify(secret).slice(1, -1),
    url,
    url.replaceAll('%20', '+'),
    ...base64Forms(secret),
  ];
}

/**
 * The secret's own base64, and the run of base64 characters it produces
 * when it sits at any of the three byte offsets inside a longer encoded
 * text (`user:secret` in a Basic auth header). Characters that depend on
 * the neighbouring bytes are left out.
 */
function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms: string[] = [bytes.toString('base64')];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const first = Math.ceil((8 * shift) / 6);
    const end = Math.floor((8 * (shift + bytes.length)) / 6);
    const run = encoded.slice(first, end);
    // A short run of base64 letters turns up in ordinary text by chance.
    if (run.length >= MIN_SHIFTED_BASE64_LENGTH) forms.push(run);
  }
  return forms.flatMap((form) => [form, form.replaceAll('+', '-').replaceAll('/', '_')]);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
