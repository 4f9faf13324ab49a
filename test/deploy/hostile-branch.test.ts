/**
 * Branch names built for shell injection travel from the checkout to an SSH
 * host (as SLUICE_REF in the deploy hooks) and come out literally: nothing
 * is run, nothing is created.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runSluice } from '../helpers/run-sluice.ts';
import { startSshHosts, type SshHosts } from '../helpers/ssh-hosts.ts';
import { makeCheckout, type TempCheckout } from '../helpers/temp-checkout.ts';
import { deployOf, pipelineFixture } from '../helpers/pipeline-fixture.ts';
import { oneHostConfig } from '../helpers/sluice-in-dir.ts';

let ssh: SshHosts;
let checkout: TempCheckout;
const marker = `/tmp/sluice-pwned-${process.pid}`;

before(async () => {
  ssh = await startSshHosts(1);
  checkout = makeCheckout({ VERSION: '1\n' });
  checkout.write(
    '.github/sluice.yml',
    pipelineFixture('version-to-production', (pipeline) => {
      deployOf(pipeline).environment = 'dev';
      pipeline.app!.hooks.start = ['printf "ref=%s\\\\n" "$SLUICE_REF" | tee -a "$SLUICE_DEPLOY_PATH/refs.log"'];
    }),
  );
  writeFileSync(join(checkout.scratch, 'server.yml'), oneHostConfig(ssh, 'dev'));
  checkout.commit('pipeline');
});

after(async () => {
  await ssh?.stop();
  checkout?.remove();
});

for (const branch of [`$(touch\${IFS}${marker})`, ';id;#', `\`touch\${IFS}${marker}\``]) {
  test(`branch ${branch} reaches the host's hooks literally and runs nothing`, async () => {
    execFileSync('git', ['checkout', '-q', '-b', branch], { cwd: checkout.dir });
    const result = await runSluice(
      ['run', '--server', join(checkout.scratch, 'server.yml'), '--data-dir', join(checkout.scratch, 'data')],
      { cwd: checkout.dir },
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.ok(result.stdout.includes(`[host1] ref=${branch}`), result.stdout);
    assert.ok(result.stdout.includes(`(${branch})`), 'the header names the branch as it is');
    const log = readFileSync(join(ssh.host('host1').root, 'srv', 'refs.log'), 'utf8');
    assert.ok(log.trimEnd().split('\n').includes(`ref=${branch}`), log);
    assert.equal(existsSync(marker), false, `${marker} was created`);
    assert.doesNotMatch(result.stdout, /uid=\d+/);
  });
}
