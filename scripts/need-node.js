#!/usr/bin/env node
// Runs before `npm start`, `npm test` and `npm run try-hosts` (and in
// `npm run try`), on whatever Node npm found first on PATH: the project's
// Node 24 in node_modules/.bin once `npm ci` brought it. Without it, the
// machine's older Node would meet the TypeScript sources and stop with
// ERR_UNKNOWN_FILE_EXTENSION and a stack; this says instead what to run.
// Plain JavaScript, so an old Node reads it.
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const NEEDED_MAJOR = 24;

/** The lines to print when this Node is too old, or undefined when it will do. */
export function nodeAdvice(version = process.version) {
  const major = Number(version.replace(/^v/, '').split('.')[0]);
  if (major >= NEEDED_MAJOR) return undefined;
  const root = fileURLToPath(new URL('..', import.meta.url));
  const projectNode = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
  const why = `Sluice needs Node ${NEEDED_MAJOR} or newer, and this is Node ${version}.`;
  if (!existsSync(fileURLToPath(new URL('../node_modules', import.meta.url)))) {
    return `${why}\nRun \`npm ci\` in ${root}: it brings Node ${NEEDED_MAJOR} into node_modules/.bin.\n`;
  }
  if (!existsSync(projectNode)) {
    return (
      `${why}\nnode_modules in ${root} has no Node ${NEEDED_MAJOR}: it was installed with --ignore-scripts, or before Sluice brought its own Node. ` +
      `Run \`npm rebuild node\` (or \`npm ci\`, with its install scripts) there.\n`
    );
  }
  return `${why}\nnode_modules/.bin/node is there but did not run this: call Sluice through npm (\`npm start\`, \`npx sluice\`), or put Node ${NEEDED_MAJOR} first on PATH.\n`;
}

// Run as a script (not imported by bin/sluice.js); compared as real paths, as a checkout may be reached through a link.
if (
  process.argv[1] &&
  existsSync(process.argv[1]) &&
  realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
) {
  const advice = nodeAdvice();
  if (advice) {
    process.stderr.write(advice);
    process.exitCode = 1;
  }
}
