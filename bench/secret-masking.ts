/**
 * Secret masking: Sluice's stream masker (every form, across line breaks,
 * pieces and dumps) beside the floor of replacing each raw secret in each
 * line, on 1, 10 and 30 secrets and three kinds of output: ordinary build
 * lines, one 4 MiB line without a break (cut in 64 KiB pieces), and a hex
 * dump. Both grow linearly with the output; the ratio is what masking every
 * form costs over the raw values alone.
 */
import { execFileSync } from 'node:child_process';
import { createMasker } from '../src/executor/mask-secrets.ts';
import { createLineSplitter } from '../src/executor/split-lines.ts';

const ALPHABET = `abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'"/\\*()!%+&<>@:;=?#$~ é`;
let state = 1;
const next = () => (state = (state * 16807) % 2147483647) / 2147483647;
const secret = () =>
  Array.from({ length: 12 + Math.floor(next() * 20) }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join('');

const outputs: Record<string, string> = {
  'ordinary lines (2 MiB)': Array.from(
    { length: 30_000 },
    (_, i) => `[${i}] compiling src/module-${i % 97}/index.ts (${i * 13} bytes) ok`,
  ).join('\n'),
  'one 4 MiB line': 'abcdefgh'.repeat(512 * 1024),
  'hex dump (xxd of 64 KiB)': execFileSync('xxd', [], {
    input: Buffer.from(Array.from({ length: 65536 }, (_, i) => (i * 7919) % 251)),
    encoding: 'utf8',
  }),
};

function streamed(
  mask: (line: string, continues: boolean, emit: (line: string) => void) => void,
  flush: () => void,
  text: string,
): void {
  const splitter = createLineSplitter((line, continues) => mask(line, continues, () => {}));
  for (let at = 0; at < text.length; at += 16 * 1024) splitter.push(text.slice(at, at + 16 * 1024));
  splitter.flush();
  flush();
}

/** The fastest of 3 runs. */
function time(run: () => void): number {
  let ms = Infinity;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    run();
    ms = Math.min(ms, performance.now() - started);
  }
  return ms;
}

console.log('| output | secrets | masker ms | raw replace ms | ratio |');
console.log('|---|---|---|---|---|');
for (const count of [1, 10, 30]) {
  const secrets = Array.from({ length: count }, secret);
  for (const [name, text] of Object.entries(outputs)) {
    const ours = time(() => {
      const lines = createMasker(secrets).lines(() => {});
      streamed(
        (line, continues) => lines.push(line, continues),
        () => lines.flush(),
        text,
      );
    });
    const floor = time(() =>
      streamed(
        (line, _continues, emit) => emit(secrets.reduce((out, value) => out.replaceAll(value, '***'), line)),
        () => {},
        text,
      ),
    );
    console.log(`| ${name} | ${count} | ${ours.toFixed(0)} | ${floor.toFixed(0)} | ${(ours / floor).toFixed(1)} |`);
  }
}
