#!/usr/bin/env node
// The `sluice` command. Node 24 runs the TypeScript sources directly. Through
// `npx sluice` or an npm script, node_modules/.bin (with the Node 24 that
// `npm ci` brings as the `node` package) is first on PATH already; started by
// an older system Node (`./bin/sluice.js`, `node bin/sluice.js`), it runs itself
// again on that Node 24, so a newcomer never has to install Node by hand.
// Plain JavaScript up to the import, so an old Node can read this far.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NEEDED_MAJOR, nodeAdvice } from '../scripts/need-node.js';

const major = Number(process.versions.node.split('.')[0]);

if (major >= NEEDED_MAJOR) {
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
} else {
  runOnProjectNode();
}

/** Runs this command again on node_modules/.bin/node and ends as it ends. */
function runOnProjectNode() {
  const projectNode = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
  if (process.env.SLUICE_REEXEC === '1' || !existsSync(projectNode)) {
    process.stderr.write(`sluice: ${nodeAdvice() ?? `needs Node ${NEEDED_MAJOR}.\n`}`);
    process.exitCode = 1;
    return;
  }
  const child = spawn(projectNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, SLUICE_REEXEC: '1' },
  });
  // A Ctrl-C on a terminal reaches the whole foreground process group, the
  // child included, so passing it on would count twice (and a second Ctrl-C
  // makes `sluice run` leave at once). Signals sent to this process alone are
  // passed on.
  const forward = (signal) => () => {
    if (signal === 'SIGINT' && process.stdin.isTTY) return;
    child.kill(signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']) process.on(signal, forward(signal));
  child.on('error', (error) => {
    process.stderr.write(`sluice: could not start ${projectNode}: ${error.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}
