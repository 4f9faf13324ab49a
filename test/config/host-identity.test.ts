/** Every spelling of one SSH host is one identity; different hosts stay apart. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostIdentity } from '../../src/config/host-identity.ts';

test('spellings of one host are one identity, and other hosts are not', () => {
  const same: Array<[string, number | undefined, string, number | undefined]> = [
    ['web1.example.com', 22, 'WEB1.Example.COM.', undefined],
    ['10.0.1.11', undefined, '::ffff:10.0.1.11', 22],
    ['10.0.1.11', 22, '[::FFFF:a00:10b]', 22],
    ['10.0.1.11', 22, '012.0.1.11', 22],
    ['127.0.0.1', 2222, 'LOCALHOST', 2222],
    ['127.0.0.1', 2222, '127.0.0.1.', 2222],
    ['127.0.0.1', 2222, '::ffff:127.0.0.1', 2222],
    ['127.0.0.1', 2222, '127.1', 2222],
    ['::1', 22, '0:0:0:0:0:0:0:1', 22],
    // ssh to the unspecified address reaches this machine's sshd, as loopback does.
    ['127.0.0.1', 2222, '0.0.0.0', 2222],
    ['127.0.0.1', 2222, '0', 2222],
    ['::1', 22, '[::]', 22],
    ['2001:db8::1', 22, '[2001:DB8:0::1]', 22],
  ];
  for (const [a, pa, b, pb] of same)
    assert.equal(hostIdentity(a, pa), hostIdentity(b, pb), `${a}:${pa} and ${b}:${pb}`);
  const apart: Array<[string, number | undefined, string, number | undefined]> = [
    ['web1.example.com', 22, 'web2.example.com', 22],
    ['10.0.1.11', 22, '10.0.1.11', 2222],
    ['10.0.1.11', 22, '10.0.1.12', 22],
    ['face.bad', 22, 'face.bad.example', 22],
  ];
  for (const [a, pa, b, pb] of apart)
    assert.notEqual(hostIdentity(a, pa), hostIdentity(b, pb), `${a}:${pa} and ${b}:${pb}`);
});
