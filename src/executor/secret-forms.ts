/**
 * The shapes a secret takes in build output. Tools rarely print a secret
 * as it is: an auth header holds its base64, a connection string its URL
 * encoding (upper- or lower-case, strict or not, or encoded twice), a JSON
 * dump escapes `/` and non-ASCII characters or every character as `\uXXXX`
 * (once, or twice when JSON sits in a JSON string), `xxd -p` prints hex,
 * `od -x` prints it in byte-swapped words, `printf %q` puts `\` before shell
 * characters, `bash -x` quotes a value with `'` as `'\''`, Python's and C's
 * byte escapes write non-ASCII bytes as `\xc3\xa9` (or every byte, as
 * `xxd -i` and C string literals do), and HTML escapes `'` as `&#x27;`. Each form is a
 * list of positions, each position the characters allowed there (`aA` where
 * case does not matter, as in hex digits).
 *
 * Not covered, because no bounded list of forms describes them: encodings
 * of the secret mixed with other data by a key (encryption, compression,
 * hashes), encodings Sluice does not know (base32, octal dumps, `od -c`),
 * and any output that spells a secret out in pieces of under 4 characters.
 */

/** One form: at each position, the characters that may stand there. */
export type SecretForm = readonly string[];

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const HEX_DIGIT = '0123456789abcdefABCDEF';
/** What `printf %q` puts a `\` before (bash's sh_backslash_quote); `~` and `#` only at the start. */
const SHELL_SPECIAL = new Set(` \t\n'"\\|&;()<>!{}*[]?^$\`,`);

/** Every form of one secret (duplicates removed by the caller). */
export function secretForms(secret: string): SecretForm[] {
  const bytes = Buffer.from(secret, 'utf8');
  const json = JSON.stringify(secret).slice(1, -1);
  const url = encodeURIComponent(secret);
  const strictUrl = url.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const forms: SecretForm[] = [
    exact(secret),
    exact(json),
    ...jsonForms(json)
      .flatMap((text) => [text, JSON.stringify(text).slice(1, -1)])
      .map(unicodeForm),
    unicodeForm(unicodeEscaped(secret, () => true)),
    exact(backslashQuoted(secret, true)),
    exact(backslashQuoted(secret, false)),
    exact(secret.replaceAll("'", "'\\''")),
    exact(ansiCQuoted(secret, false)),
    exact(ansiCQuoted(secret, true)),
    ...[url, strictUrl].flatMap((text) => [percentForm(text), percentForm(text.replaceAll('%20', '+'))]),
    ...[url, strictUrl].map(doublePercentForm),
    percentForm([...bytes].map((byte) => `%${hexByte(byte)}`).join('')),
    byteEscapedForm(bytes, (byte) => byte < 0x20 || byte > 0x7e),
    byteEscapedForm(bytes, () => true),
    ...htmlEscaped(secret).map(exact),
    hexForm([...bytes].map(hexByte).join('')),
    ...swappedHexForms(bytes),
    ...base64Forms(bytes),
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
  const names: Record<string, string> = {
    '\\': '\\\\',
    "'": "\\'",
    '\n': '\\n',
    '\t': '\\t',
    '\r': '\\r',
    '\x1b': '\\E',
  };
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

/** The JSON string's text as writers differ in escaping it: as is, with `\/`, with non-ASCII as `\uXXXX`. */
function jsonForms(json: string): string[] {
  return [json, json.replaceAll('/', '\\/'), unicodeEscaped(json, (code) => code > 0x7e)];
}

/** What `printf %q` prints for a value without control characters; `atStart` when nothing precedes it in the word. */
function backslashQuoted(text: string, atStart: boolean): string {
  let out = '';
  let previous = atStart ? '' : 'x';
  for (const char of text) {
    const tilde = char === '~' && (previous === '' || previous === '=' || previous === ':');
    if (SHELL_SPECIAL.has(char) || tilde || (char === '#' && previous === '')) out += '\\';
    out += char;
    previous = char;
  }
  return out;
}

/** URL encoding encoded again (`%252F`): each `%XY` becomes `%25XY`. */
function doublePercentForm(text: string): SecretForm {
  const form: string[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '%') {
      form.push('%', '2', '5', ...hexForm(text.slice(i + 1, i + 3)));
      i += 2;
    } else form.push(...encodeURIComponent(text[i] ?? ''));
  }
  return form;
}

/**
 * Hex of 16-bit little-endian words (`od -x`, `hexdump`): each pair of
 * bytes printed high byte first, the secret starting at an even or an odd
 * byte. A neighbour's digits inside a word may be any hex digit.
 */
function swappedHexForms(bytes: Buffer): SecretForm[] {
  return [0, 1].map((shift) => {
    const cells: Array<number | undefined> = [...Array<undefined>(shift), ...bytes];
    if (cells.length % 2 === 1) cells.push(undefined);
    const form: string[] = [];
    for (let i = 0; i < cells.length; i += 2) {
      for (const cell of [cells[i + 1], cells[i]])
        form.push(...(cell === undefined ? [HEX_DIGIT, HEX_DIGIT] : hexForm(hexByte(cell))));
    }
    while (form[0] === HEX_DIGIT) form.shift();
    while (form.at(-1) === HEX_DIGIT) form.pop();
    return form;
  });
}

/**
 * The secret's own base64 (padded or not), and the base64 it produces at
 * any of the three byte offsets inside a longer encoded text (`user:secret`
 * in a Basic auth header): a character that also holds bits of the
 * neighbouring bytes may be any that agrees with the secret's bits, so every
 * bit of the secret is covered even for a short one. Both alphabets:
 * standard and URL-safe.
 */
function base64Forms(bytes: Buffer): SecretForm[] {
  const forms: SecretForm[] = [exact(bytes.toString('base64'))];
  const bits = 8 * bytes.length;
  for (let shift = 0; shift < 3; shift++) {
    const from = 8 * shift;
    const form: string[] = [];
    for (let c = Math.floor(from / 6); 6 * c < from + bits; c++) {
      let chars = '';
      for (let value = 0; value < 64; value++) {
        let fits = true;
        for (let b = 0; b < 6 && fits; b++) {
          const bit = 6 * c + b - from;
          if (bit >= 0 && bit < bits)
            fits = ((value >> (5 - b)) & 1) === (((bytes[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1);
        }
        if (fits) chars += BASE64[value];
      }
      form.push(chars);
    }
    forms.push(form);
  }
  return forms.flatMap((form) => [form, form.map((chars) => chars.replaceAll('+', '-').replaceAll('/', '_'))]);
}

/**
 * `\xc3\xa9` (either case) for each byte `which` picks, `\\` for a
 * backslash, the rest as it is: Python's bytes repr and C's escapes.
 */
function byteEscapedForm(bytes: Buffer, which: (byte: number) => boolean): SecretForm {
  const form: string[] = [];
  for (const byte of bytes) {
    if (which(byte)) form.push('\\', 'x', ...hexForm(byte.toString(16).padStart(2, '0')));
    else if (byte === 0x5c) form.push('\\', '\\');
    else form.push(String.fromCharCode(byte));
  }
  return form;
}

/** The secret as HTML escapes it, `'` as `&#x27;` (Python, React) or `&#39;` (Go, PHP). */
function htmlEscaped(text: string): string[] {
  const escaped = text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
  return [escaped.replaceAll("'", '&#x27;'), escaped.replaceAll("'", '&#39;')];
}
