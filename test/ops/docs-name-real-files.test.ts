/**
 * The documents name the tree as it is: README's Layout lists every
 * top-level file and folder, every entry of src/ and of test/helpers/, and
 * nothing that is not there, and names every folder and file of test/;
 * every file docs/requirements.md cites as holding a requirement exists.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '..', '..');
/** What .gitignore keeps out of the repository, and git's own folder. */
const IGNORED = new Set(['.git', 'node_modules', 'data', 'test-artifacts', 'try', '.env']);

/** The entries of a folder as the repository holds them: folders end in `/`, dot-files are left out. */
function entries(folder: string): string[] {
  return readdirSync(join(root, folder), { withFileTypes: true })
    .filter((entry) => !IGNORED.has(entry.name) && !entry.name.endsWith('.log'))
    .filter((entry) => entry.isDirectory() || !entry.name.startsWith('.'))
    .map((entry) => `${folder ? `${folder}/` : ''}${entry.name}${entry.isDirectory() ? '/' : ''}`);
}

function layout(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /^## Layout\n\n```\n([\s\S]*?)\n```$/m.exec(readme);
  assert.ok(block, 'README.md has a "## Layout" section with the tree in a code block');
  return block[1]!
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith(' '))
    .map((line) => line.split(/\s+/)[0]!);
}

test("README's Layout lists the tree as it is, and nothing that is not there", () => {
  const expected = [
    ...entries('').filter((entry) => entry !== 'src/'),
    ...entries('src'),
    'test/fixtures/',
    'test/helpers/',
    ...entries('test/helpers'),
  ];
  const listed = layout();
  assert.deepEqual(
    listed.filter((entry) => !expected.includes(entry)),
    [],
    'listed in README.md but not in the tree',
  );
  assert.deepEqual(
    expected.filter((entry) => !listed.includes(entry)),
    [],
    'in the tree but missing from README.md',
  );
});

test("README's Layout names every folder and file of test/: a part of src/ by that part, any other by its name", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /^## Layout\n\n```\n([\s\S]*?)\n```$/m.exec(readme)![1]!;
  const named = (name: string) =>
    new RegExp(`(?<![\\w./-])(?:test/)?${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`).test(block);
  const unnamed = entries('test')
    .map((entry) => entry.slice('test/'.length))
    .filter((name) => !(name.endsWith('/') && existsSync(join(root, 'src', name))) && !named(name));
  assert.deepEqual(unnamed, [], 'in test/ but named nowhere in README.md');
});

test('every file docs/requirements.md cites exists', () => {
  const text = readFileSync(join(root, 'docs', 'requirements.md'), 'utf8');
  const cited = [...text.matchAll(/`((?:src|test|bench|scripts|docs|schema|systemd|bin)\/[^`\s]+)`/g)].map(
    (m) => m[1]!,
  );
  assert.ok(cited.length > 50, `docs/requirements.md cites its tests (found ${cited.length} paths)`);
  assert.deepEqual(
    cited.filter((path) => !existsSync(join(root, path))),
    [],
    'cited in docs/requirements.md but not in the repository',
  );
});
