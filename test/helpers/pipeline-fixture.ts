/**
 * The named pipelines in test/fixtures/pipelines, shared by tests, benches
 * and the try scripts, so one pipeline is written once. A caller that needs
 * a variant edits the parsed file (a gate before the build, another health
 * check) and gets YAML back; without an edit it gets the file as it is.
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { isCollection, parseDocument, type Document } from 'yaml';
import { parsePipelineConfig } from '../../src/config/load-pipeline-config.ts';
import type { PipelineDefinition } from '../../src/pipeline/definition.ts';

export type PipelineFixtureName =
  | 'app-to-production'
  | 'app-through-dev'
  | 'shop-to-production'
  | 'build-to-dev'
  | 'one-build'
  | 'build-check-release'
  | 'version-to-production'
  | 'version-through-dev'
  | 'payload-to-production';

export interface FixtureBuild {
  host: string;
  run: string[];
  timeout?: string;
  secrets?: string[];
  artifact?: { name: string; paths: string[] };
}

export interface FixtureAction {
  name: string;
  needs?: string[];
  build?: FixtureBuild;
  command?: { host: string; inputs?: string[]; run: string[] };
  deploy?: { environment: string; artifact: string };
  approval?: { environment: string };
}

/** The parts of a pipeline file the fixtures use, for an edit to change. */
export interface FixturePipeline {
  mode?: 'superseded' | 'queued';
  on?: { push?: { branches: string[] } };
  stages: Array<{ name: string; needs?: string[]; actions: FixtureAction[] }>;
  app?: {
    hooks: Partial<Record<'stop' | 'after_install' | 'validate' | 'start', string[]>>;
    health?: { command?: string; http?: string; timeout?: string; interval?: string };
  };
}

/**
 * The YAML text of a named fixture pipeline, changed by `edit` if given.
 * Only what the edit changed is written anew; every other line stays as the
 * file has it, so a test may still look for a line of it.
 */
export function pipelineFixture(name: PipelineFixtureName, edit?: (pipeline: FixturePipeline) => void): string {
  const text = readFileSync(new URL(`../fixtures/pipelines/${name}.yml`, import.meta.url), 'utf8');
  if (!edit) return text;
  const doc = parseDocument(text);
  const pipeline = doc.toJS() as FixturePipeline;
  edit(pipeline);
  carryOver(doc, [], doc.toJS(), pipeline);
  // What the edit wrote is quoted, as JSON would quote it; what the file has keeps its quoting.
  return doc.toString({
    lineWidth: 0,
    flowCollectionPadding: false,
    defaultStringType: 'QUOTE_DOUBLE',
    defaultKeyType: 'PLAIN',
  });
}

/**
 * Writes into `doc` at `path` what differs between `before` and `after`:
 * changed values, keys and list items taken out or added at the end. A list
 * or map replaced whole keeps its flow style.
 */
function carryOver(doc: Document, path: Array<string | number>, before: unknown, after: unknown): void {
  if (isDeepStrictEqual(before, after)) return;
  if (isRecord(before) && isRecord(after)) {
    for (const key of Object.keys(before)) if (!(key in after)) doc.deleteIn([...path, key]);
    for (const [key, value] of Object.entries(after)) carryOver(doc, [...path, key], before[key], value);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    if (before.length === after.length) {
      after.forEach((value, i) => carryOver(doc, [...path, i], before[i], value));
      return;
    }
    const kept = keptIndices(before, after);
    if (kept) {
      for (let i = before.length - 1; i >= 0; i--) if (!kept.includes(i)) doc.deleteIn([...path, i]);
      after.forEach((value, j) => carryOver(doc, [...path, j], before[kept[j]!], value));
      return;
    }
    if (before.every((item, i) => isSameItem(item, after[i]))) {
      before.forEach((item, i) => carryOver(doc, [...path, i], item, after[i]));
      for (const item of after.slice(before.length))
        doc.addIn(path, doc.createNode(item, { aliasDuplicateObjects: false }));
      return;
    }
  }
  const old = path.length > 0 ? doc.getIn(path, true) : undefined;
  const node = doc.createNode(after, { aliasDuplicateObjects: false });
  if (isCollection(old) && isCollection(node)) node.flow = old.flow ?? false;
  doc.setIn(path, node);
}

/**
 * Where `after` is `before` with items taken out, the index in `before` of
 * each item of `after`; an item is itself if equal or of the same name.
 */
function keptIndices(before: unknown[], after: unknown[]): number[] | undefined {
  const kept: number[] = [];
  let i = 0;
  for (const item of after) {
    while (i < before.length && !isSameItem(before[i], item)) i++;
    if (i === before.length) return undefined;
    kept.push(i++);
  }
  return kept;
}

function isSameItem(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(a, b) || (isRecord(a) && isRecord(b) && a.name !== undefined && a.name === b.name);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The first build action's build, the one most variants change. */
export function buildOf(pipeline: FixturePipeline): FixtureBuild {
  const build = pipeline.stages.flatMap((stage) => stage.actions).find((action) => action.build)?.build;
  if (!build) throw new Error('this fixture pipeline has no build action');
  return build;
}

/** The first deploy action's deploy. */
export function deployOf(pipeline: FixturePipeline): NonNullable<FixtureAction['deploy']> {
  const deploy = pipeline.stages.flatMap((stage) => stage.actions).find((action) => action.deploy)?.deploy;
  if (!deploy) throw new Error('this fixture pipeline has no deploy action');
  return deploy;
}

/**
 * The definition Sluice makes of a named fixture pipeline (changed by `edit`
 * if given), for a test that hands an execution's definition to the store
 * or the engine directly.
 */
export function definitionOf(
  name: PipelineFixtureName,
  edit?: (pipeline: FixturePipeline) => void,
): PipelineDefinition {
  const loaded = parsePipelineConfig(pipelineFixture(name, edit), { file: `${name}.yml` });
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`).join('\n'));
  return loaded.definition;
}
