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
    // Inside a longer encoding the secret starts at any of three byte offsets.
    const encode = (text: string) => Buffer.from(text).toString('base64');
    assert.equal(mask(encode(`deploy:${SECRET}!tail`)), 'ZGVwbG95On***iF0YWls');
    assert.equal(mask(encode(`deploy:x${SECRET}!tail`)), 'ZGVwbG95Onh***YhdGFpbA==');
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
