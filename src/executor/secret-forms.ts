/**
 * The shapes a secret takes in build output. Tools rarely print a secret
 * as it is: an auth header holds its base64, a connection string its URL
 * encoding (upper- or lower-case, strict or not), a JSON dump escapes `/` and
 * non-ASCII characters or every character as `\uXXXX`, `xxd -p` prints hex,
 * and `bash -x` quotes a value with `'` as `'\''`. Each form is a list of
 * positions, each position the characters allowed there (`aA` where case
 * does not matter, as in hex digits).
 */

/** One form: at each position, the characters that may stand there. */
export type SecretForm = readonly string[];

// A short run of base64 letters turns up in ordinary text by chance.
const MIN_SHIFTED_BASE64_LENGTH = 6;

/** Every form of one secret (duplicates removed by the caller). */
export function secretForms(secret: string): SecretForm[] {
  const bytes = Buffer.from(secret, 'utf8');
  const json = JSON.stringify(secret).slice(1, -1);
  const url = encodeURIComponent(secret);
  const strictUrl = url.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const forms: SecretForm[] = [
    exact(secret),
    exact(json),
    exact(json.replaceAll('/', '\\/')),
    unicodeForm(unicodeEscaped(json, (code) => code > 0x7e)),
    unicodeForm(unicodeEscaped(secret, () => true)),
    exact(secret.replaceAll("'", "'\\''")),
    exact(ansiCQuoted(secret, false)),
    exact(ansiCQuoted(secret, true)),
    ...[url, strictUrl].flatMap((text) => [percentForm(text), percentForm(text.replaceAll('%20', '+'))]),
    percentForm([...bytes].map((byte) => `%${hexByte(byte)}`).join('')),
    hexForm([...bytes].map(hexByte).join('')),
    ...base64Forms(bytes).map(exact),
  ];
  return forms;
}

function exact(text: string): SecretForm {
  return [...text];
}

function hexByte(byte: number): string {
  return byte.toString(16).padStart(2, '0').toUpperCase();
}

/** Hex digits in either case. */
function hexForm(text: string): SecretForm {
  return [...text].map((c) => (/[A-F]/i.test(c) ? `${c.toUpperCase()}${c.toLowerCase()}` : c));
}

/** `\u00e9` and `\u00E9` alike. */
function unicodeForm(text: string): SecretForm {
  const form: string[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text.startsWith('\\u', i) && /^[0-9a-f]{4}$/i.test(text.slice(i + 2, i + 6))) {
      form.push('\\', 'u', ...hexForm(text.slice(i + 2, i + 6)));
      i += 5;
    } else form.push(text[i] ?? '');
  }
  return form;
}

/** `%2F` and `%2f` alike; the characters between escapes as they are. */
function percentForm(text: string): SecretForm {
  const form: string[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '%' && i + 2 < text.length) {
      form.push('%', ...hexForm(text.slice(i + 1, i + 3)));
      i += 2;
    } else form.push(text[i] ?? '');
  }
  return form;
}

/** `\u00e9` for each UTF-16 unit `which` picks, the rest as it is (JSON writers differ in which they escape). */
function unicodeEscaped(text: string, which: (code: number) => boolean): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    out += which(code) ? `\\u${code.toString(16).padStart(4, '0')}` : text[i];
  }
  return out;
}

/**
 * What `bash -x` prints inside `$'…'` for a value with characters it will
 * not print as they are; outside a UTF-8 locale it writes each byte of a
 * non-ASCII character as `\ooo`.
 */
function ansiCQuoted(text: string, octalBytes: boolean): string {
  const names: Record<string, string> = { '\\': '\\\\', "'": "\\'", '\n': '\\n', '\t': '\\t', '\r': '\\r', '\x1b': '\\E' };
  let out = '';
  for (const char of text) {
    const named = names[char];
    if (named) out += named;
    else if (char < ' ' || char === '\x7f') out += `\\${char.charCodeAt(0).toString(8).padStart(3, '0')}`;
    else if (octalBytes && char > '\x7f') out += [...Buffer.from(char)].map((byte) => `\\${byte.toString(8)}`).join('');
    else out += char;
  }
  return out;
}

/**
 * The secret's own base64, and the run of base64 characters it produces
 * when it sits at any of the three byte offsets inside a longer encoded
 * text (`user:secret` in a Basic auth header). Characters that depend on
 * the neighbouring bytes are left out. Both alphabets: standard and URL-safe.
 */
function base64Forms(bytes: Buffer): string[] {
  const forms: string[] = [bytes.toString('base64')];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const first = Math.ceil((8 * shift) / 6);
    const end = Math.floor((8 * (shift + bytes.length)) / 6);
    const run = encoded.slice(first, end);
    if (run.length >= MIN_SHIFTED_BASE64_LENGTH) forms.push(run);
  }
  return forms.flatMap((form) => [form, form.replaceAll('+', '-').replaceAll('/', '_')]);
}
