/**
 * Forms of a secret that once leaked past the masker, each printed as the
 * tool that prints it does (real xxd, hexdump, od and bash where they make
 * it) and fed to the masker as output arrives: a whole text, lines, and
 * pieces of lines.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { createMasker } from '../../src/executor/mask-secrets.ts';

const SECRET = "k3y'%/\\*(é)!~x";
const SHORT = 'tk9!';

/**
 * Feeds `output` to a stream masker in pieces of `size` characters, as a line splitter would, and returns what it
 * emitted.
 */
function streamed(secrets: string[], output: string, size = Infinity): string {
  const out: string[] = [];
  const stream = createMasker(secrets).lines((line, continues) => out.push(continues ? line : `${line}\n`));
  const lines = output.split('\n');
  const ends = output.endsWith('\n');
  if (ends) lines.pop();
  lines.forEach((line, i) => {
    const open = i === lines.length - 1 && !ends;
    if (line === '' && !open) stream.push('', false);
    for (let start = 0; start < line.length; start += size)
      stream.push(line.slice(start, start + size), start + size < line.length || open);
  });
  stream.flush();
  return out.join('');
}

function run(file: string, args: string[], input: string | Buffer): string {
  return execFileSync(file, args, { input, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' } });
}

/** Bytes of `secret` a reader can recover from hex digits in `shown` (a run of half its hex, or more). */
function hexLeaks(shown: string, secret: string): boolean {
  const digits = shown.replace(/[^0-9a-f]/gi, '').toLowerCase();
  const hex = Buffer.from(secret).toString('hex');
  return digits.includes(hex.slice(0, hex.length / 2)) || digits.includes(hex.slice(hex.length / 2));
}

describe('masking: base64', () => {
  it('unpadded base64 and base64url of a short secret', () => {
    const mask = createMasker([SHORT]);
    for (const encoded of [
      Buffer.from(SHORT).toString('base64').replace(/=+$/, ''),
      Buffer.from(SHORT).toString('base64url'),
    ]) {
      assert.equal(mask(`token=${encoded};`), 'token=***;', encoded);
    }
  });

  it('a short secret at each of the three alignments inside a longer base64 stream, every bit of it covered', () => {
    for (const secret of [SHORT, SECRET]) {
      const mask = createMasker([secret]);
      for (let before = 0; before < 6; before++) {
        const encoded = Buffer.from(`${'u'.repeat(before)}:${secret}:tail`).toString('base64');
        const shown = mask(encoded);
        assert.match(shown, /\*\*\*/, `${before}: ${shown}`);
        // What is left decodes to the neighbours only: no character of the secret's own bits survives.
        const [head, tail] = shown.split('***');
        const kept = Math.ceil((8 * (before + 1)) / 6) - 1;
        assert.ok(
          (head ?? '').length <= kept + 1 &&
            (tail ?? '').length <= encoded.length - Math.floor((8 * (before + 1 + Buffer.byteLength(secret))) / 6),
          `${before}: ${shown}`,
        );
      }
    }
  });
});

describe('masking: hex', () => {
  const bytes = Buffer.from(SECRET);
  it('upper and lower case, whole and inside other bytes', () => {
    const mask = createMasker([SECRET]);
    for (const hex of [bytes.toString('hex'), bytes.toString('hex').toUpperCase()])
      assert.equal(mask(`ab${hex}cd`), 'ab***cd');
  });

  it('as xxd, hexdump -C, od -An -tx1 and od -x print it, across 16-byte lines, with no byte left in the text column', () => {
    const long = `${SECRET}${SECRET}`;
    for (const pad of [0, 1, 5, 9, 15]) {
      const input = Buffer.concat([Buffer.alloc(pad, 0x2e), Buffer.from(long), Buffer.from('.tail')]);
      const dumps = {
        xxd: run('xxd', [], input),
        'xxd -g1': run('xxd', ['-g1'], input),
        'hexdump -C': run('hexdump', ['-C'], input),
        'od -An -tx1': run('od', ['-An', '-tx1'], input),
        'od -x': run('od', ['-x'], input),
        'od -Ax -tx1': run('od', ['-Ax', '-tx1'], input),
      };
      for (const [tool, dump] of Object.entries(dumps)) {
        for (const shown of [createMasker([long])(dump), streamed([long], dump)]) {
          assert.match(shown, /\*\*\*/, `${tool} pad ${pad}:\n${shown}`);
          assert.ok(!hexLeaks(shown, long), `${tool} pad ${pad}:\n${shown}`);
          // hexdump -C and xxd write the bytes as text too: not one run of 4 of the secret's characters stays.
          const text = shown.replace(/^[^|]*\||\|$/gm, '').replaceAll('\n', '');
          for (let i = 0; i + 4 <= long.length; i++)
            assert.ok(
              !text.includes(long.slice(i, i + 4)),
              `${tool} pad ${pad} shows ${long.slice(i, i + 4)}:\n${shown}`,
            );
        }
      }
    }
  });

  it("xxd's text column is masked byte for byte when it begins with a space", () => {
    const secret = 'P (8A5=hHhwa=o!7 i-and-more';
    const dump = run('xxd', [], `...${secret}.tail`);
    assert.equal(createMasker([secret])(dump).split('\n')[1], '*** 2e74  ***.t');
  });

  it('an ordinary dump goes through unchanged', () => {
    const dump = run('hexdump', ['-C'], Buffer.from('nothing secret in here, just bytes'));
    assert.equal(streamed([SECRET], dump), dump);
  });
});

describe('masking: quoting and escaping', () => {
  const mask = createMasker([SECRET]);
  it('double URL encoding, double JSON escaping', () => {
    const shapes = [
      encodeURIComponent(encodeURIComponent(SECRET)),
      encodeURIComponent(encodeURIComponent(SECRET)).toLowerCase(),
      JSON.stringify(JSON.stringify(SECRET)).slice(2, -2),
      JSON.stringify(JSON.stringify({ token: SECRET })),
      JSON.stringify(JSON.stringify(SECRET).replaceAll('/', '\\/')),
    ];
    for (const shape of shapes) assert.doesNotMatch(mask(shape), /k3y/, shape);
    assert.equal(mask(JSON.stringify(JSON.stringify({ token: SECRET }))), '"{\\"token\\":\\"***\\"}"');
  });

  it('printf %q and bash -x, in a UTF-8 and in the C locale, alone and inside a word', () => {
    for (const locale of ['C.UTF-8', 'C']) {
      const script = 'exec 2>&1; printf "%q\\n" "$1" "x=$1"; set -x; : "$1" "a$1"';
      const printed = execFileSync('bash', ['--norc', '-c', script, 'bash', SECRET], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, LC_ALL: locale },
      });
      assert.doesNotMatch(mask(printed), /k3y/, `${locale}: ${mask(printed)}`);
    }
  });
});

describe('masking: a secret cut apart', () => {
  it('by \\r (a progress bar) and by colour escapes inside it, whole or streamed', () => {
    const cut = [
      `${SECRET.slice(0, 5)}\r${SECRET.slice(5)}`,
      `\x1b[1;31m${SECRET.slice(0, 3)}\x1b[0m${SECRET.slice(3, 8)}\x1b[32m${SECRET.slice(8)}\x1b[0m`,
      `${SECRET.slice(0, 4)}\x1b[2K\r${SECRET.slice(4)}`,
    ];
    for (const output of cut) {
      for (const shown of [
        createMasker([SECRET])(output),
        streamed([SECRET], `${output}\n`),
        streamed([SECRET], `${output}\n`, 3),
      ]) {
        assert.ok(!shown.includes(SECRET.slice(3, 8)) && !shown.includes(SECRET.slice(-5)), JSON.stringify(shown));
        assert.match(shown, /\*\*\*/);
      }
    }
  });

  it('over three or more lines, begun a character or two before a line ends (base64 of a long secret, a dump)', () => {
    const secret = `${SECRET}-${'0123456789abcdef'.repeat(8)}`;
    for (let pad = 0; pad < 80; pad++) {
      const wrapped = Buffer.from(`${'x'.repeat(pad)}${secret}.`)
        .toString('base64')
        .replace(/.{76}/g, '$&\n');
      const decoded = Buffer.from(streamed([secret], `${wrapped}\n`).replace(/[\n*]/g, ''), 'base64').toString(
        'latin1',
      );
      assert.doesNotMatch(decoded, /0123456789ab|89abcdef01/, `pad ${pad}`);
    }
    for (let pad = 0; pad < 16; pad++) {
      const dump = run('xxd', [], Buffer.from(`${'.'.repeat(pad)}${secret}.`));
      assert.ok(!hexLeaks(streamed([secret], dump), secret), `pad ${pad}`);
    }
  });

  it('across chunk boundaries at every place', () => {
    const output = `before ${SECRET} after\n`;
    for (let size = 1; size < output.length; size++)
      assert.equal(streamed([SECRET], output, size), 'before *** after\n', `size ${size}`);
  });

  it('on a short line, on a line without a trailing newline, and as the only output', () => {
    assert.equal(streamed([SHORT], `${SHORT}\n`), '***\n');
    assert.equal(streamed([SHORT], SHORT), '***');
    assert.equal(streamed([SHORT], `ok\n${SHORT}`), 'ok\n***');
    assert.equal(streamed([SHORT], `${SHORT.slice(0, 2)}`, 1), SHORT.slice(0, 2));
    for (let size = 1; size <= SHORT.length; size++)
      assert.equal(streamed([SHORT], `a${SHORT}`, size), 'a***', `size ${size}`);
  });
});

describe('byte escapes and HTML entities', () => {
  it("masks Python's bytes repr, C escapes, xxd -i and HTML-escaped secrets", () => {
    const python = run(
      'python3',
      [
        '-c',
        'import sys; s = sys.stdin.read(); print(repr(s.encode())); print("".join("\\\\x%02x" % b for b in s.encode())); import html; print(html.escape(s))',
      ],
      SECRET,
    );
    assert.match(python, /\\xc3\\xa9/, 'the tool wrote byte escapes');
    const masked = streamed([SECRET], python);
    for (const line of masked.trimEnd().split('\n')) assert.match(line, /\*\*\*/, `masked: ${line}`);
    assert.doesNotMatch(masked, /k3y/);
    assert.equal(hexLeaks(streamed([SECRET], run('xxd', ['-i'], SECRET)), SECRET), false, 'xxd -i, read as a dump');
  });
});
