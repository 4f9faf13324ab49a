import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMasker } from '../../src/executor/mask-secrets.ts';

const SECRET = 'p@ss w0rd/"x"+&';

describe('createMasker', () => {
  const mask = createMasker([SECRET]);

  it('masks the raw value wherever it appears', () => {
    assert.equal(mask(`token=${SECRET} and again ${SECRET}.`), 'token=*** and again ***.');
  });

  it('masks the base64 form, padded or inside a longer encoding', () => {
    const b64 = Buffer.from(SECRET).toString('base64');
    assert.equal(mask(`Authorization: Basic ${b64}`), 'Authorization: Basic ***');
    // Inside a longer encoding the secret starts at any of three byte offsets;
    // the characters it shares with its neighbours are masked too.
    const encode = (text: string) => Buffer.from(text).toString('base64');
    assert.equal(mask(encode(`deploy:${SECRET}!tail`)), 'ZGVwbG95O***F0YWls');
    assert.equal(mask(encode(`deploy:x${SECRET}!tail`)), 'ZGVwbG95On***hdGFpbA==');
    assert.equal(mask(encode(`deploy:xy${SECRET}!tail`)), 'ZGVwbG95Onh5***IXRhaWw=');
    const urlSafe = Buffer.from(SECRET).toString('base64url');
    assert.equal(mask(`x=${urlSafe}`), 'x=***');
  });

  it('masks the URL-encoded form', () => {
    assert.equal(mask(`https://u:${encodeURIComponent(SECRET)}@example.com`), 'https://u:***@example.com');
  });

  it('masks the JSON-escaped form', () => {
    assert.equal(mask(JSON.stringify({ password: SECRET })), '{"password":"***"}');
  });

  it('hides a longer secret whole even when a shorter one is part of it', () => {
    const masker = createMasker(['abcd', 'abcdefgh']);
    assert.equal(masker('xx abcdefgh yy abcd'), 'xx *** yy ***');
  });

  it('ignores empty and very short values so ordinary text survives', () => {
    const masker = createMasker(['', 'a', 'no', 'yes']);
    assert.equal(masker('yes, no, a'), 'yes, no, a');
  });

  it('masks each line of a multi-line secret', () => {
    const key = '-----BEGIN KEY-----\nMIIEowIBAAKCAQEA\n-----END KEY-----';
    const masker = createMasker([key]);
    assert.equal(masker('MIIEowIBAAKCAQEA'), '***');
  });

  it('treats regular expression characters in secrets literally', () => {
    const masker = createMasker(['a.b*c(d)']);
    assert.equal(masker('axb*c(d) a.b*c(d)'), 'axb*c(d) ***');
  });

  it('returns text unchanged when there are no secrets', () => {
    assert.equal(createMasker([])('hello'), 'hello');
  });
});

describe('createMasker: every shape a secret is printed in', () => {
  const secret = "s3cr/t*it's(é)!";
  const mask = createMasker([secret]);
  const bytes = Buffer.from(secret);

  it('hex in either case, URL encoding lower-case and strict, JSON \\/ and \\uXXXX, bash -x quoting', () => {
    const strict = encodeURIComponent(secret).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
    const shapes = [
      bytes.toString('hex'),
      bytes.toString('hex').toUpperCase(),
      encodeURIComponent(secret).toLowerCase(),
      strict,
      strict.replace(/%[0-9a-f]{2}/g, (escape) => escape.toUpperCase()),
      JSON.stringify(secret).replaceAll('/', '\\/').slice(1, -1),
      [...secret].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''),
      JSON.stringify(secret).slice(1, -1).replace('é', '\\u00e9'),
      JSON.stringify(secret).slice(1, -1).replace('é', '\\u00E9'),
      secret.replaceAll("'", "'\\''"),
    ];
    for (const shape of shapes) assert.equal(mask(`<${shape}>`), '<***>', shape);
  });

  it('base64 wrapped at 76 columns, at every place the wrap can fall', () => {
    const long = createMasker(['a-long-secret-value-that-base64-wraps-0123456789']);
    for (let pad = 0; pad < 80; pad++) {
      const wrapped = Buffer.from(`${'x'.repeat(pad)}a-long-secret-value-that-base64-wraps-0123456789 tail`)
        .toString('base64')
        .replace(/.{76}/g, '$&\n');
      const lines: string[] = [];
      const stream = long.lines((line) => lines.push(line));
      for (const line of wrapped.split('\n')) stream.push(line);
      stream.flush();
      const shown = lines.join('\n');
      assert.doesNotMatch(
        Buffer.from(shown.replaceAll('\n', ''), 'base64').toString(),
        /secret-value-that-base64-wraps/,
        `pad ${pad}: ${shown}`,
      );
    }
  });

  it('a secret cut between the pieces of a long line, and a hex dump wrapped at 60 columns', () => {
    const lines: Array<[string, boolean]> = [];
    const stream = mask.lines((line, continues) => lines.push([line, continues]));
    stream.push(`aaaa${secret.slice(0, 5)}`, true);
    stream.push(`${secret.slice(5)}bbbb`, false);
    const hex = `${'00'.repeat(25)}${bytes.toString('hex')}`.replace(/.{60}/g, '$&\n');
    for (const line of hex.split('\n')) stream.push(line);
    stream.flush();
    // Pieces of one line join up again; lines end where continues is false.
    const text = lines.map(([line, continues]) => (continues ? line : `${line}\n`)).join('');
    assert.ok(!text.includes(secret.slice(0, 5)) && !text.includes(secret.slice(5)), text);
    assert.match(text, /^aaaa\*\*\*bbbb\n/);
    assert.ok(!text.replaceAll('\n', '').includes(bytes.toString('hex').slice(6)), text);
  });

  it('lets ordinary lines through at once, in order', () => {
    const lines: string[] = [];
    const stream = mask.lines((line) => lines.push(line));
    stream.push('compiling');
    stream.push('');
    stream.push('done');
    assert.deepEqual(lines, ['compiling', '', 'done']);
    stream.flush();
    assert.deepEqual(lines, ['compiling', '', 'done']);
  });
});
