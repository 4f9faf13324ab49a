/**
 * An artifact built to point out of its release: `p -> .`, then the member
 * `p/p/p/x -> ../../..`, which GNU tar packs as it is when the pipeline lists
 * both paths. Each link alone looks harmless; together they would leave a
 * link from the release to the directory above the environment. `sluice
 * run` refuses the deploy, says which member and why, and the environment
 * gets no release at all, whether the artifact was gzipped or, being mostly
 * random bytes that do not compress, stored as it is.
 */
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { buildOf, pipelineFixture } from '../helpers/pipeline-fixture.ts';
import { runSluice } from '../helpers/run-sluice.ts';
import { makeCheckout, type TempCheckout } from '../helpers/temp-checkout.ts';

let checkout: TempCheckout | undefined;
afterEach(() => checkout?.remove());

/** Every symbolic link under `dir` whose target resolves outside it. */
function linksOut(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const root = realpathSync(dir);
  const out: string[] = [];
  const walk = (path: string) => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      const stat = lstatSync(full);
      if (stat.isSymbolicLink()) {
        let target: string;
        try {
          target = realpathSync(full);
        } catch {
          continue;
        }
        if (target !== root && !target.startsWith(`${root}/`)) out.push(`${full} -> ${target}`);
      } else if (stat.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out;
}

for (const [form, noise] of [
  ['gzipped', []],
  ['stored as it is (it does not compress)', ['head -c 2000000 /dev/urandom > noise']],
] as const) {
  test(`a chain of links that climbs out of the release, ${form}, is refused before anything reaches a host`, async () => {
    const c = (checkout = makeCheckout({ VERSION: 'v1\n' }));
    c.write(
      '.github/sluice.yml',
      pipelineFixture('build-to-dev', (pipeline) => {
        Object.assign(buildOf(pipeline), {
          host: 'local',
          run: [...noise, 'ln -s . p', 'ln -s ../../.. x'],
          artifact: { name: 'app', paths: [...(noise.length > 0 ? ['noise'] : []), 'p', 'p/p/p/x'] },
        });
      }),
    );
    const srv = join(c.scratch, 'srv');
    c.write(
      'sluice.config.yml',
      `hosts:\n  local: [local]\nlocal: { repos: ['*'] }\nenvironments:\n  dev:\n    hosts: [local]\n    path: ${srv}\n`,
    );
    c.commit('pipeline');

    const result = await runSluice(['run', '--data-dir', join(c.scratch, 'data'), '--server', 'sluice.config.yml'], {
      cwd: c.dir,
    });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(
      result.stdout + result.stderr,
      /"p\/p\/p\/x" is written through the symbolic link "p"; an artifact may not put members under its own links/,
    );
    assert.deepEqual(
      existsSync(join(srv, 'releases')) ? readdirSync(join(srv, 'releases')) : [],
      [],
      'no release was unpacked',
    );
    assert.equal(existsSync(join(srv, 'current')), false);
    assert.equal(result.stdout.includes('artifact "app" does not compress'), noise.length > 0);
    assert.deepEqual(linksOut(c.scratch), []);
  });
}
