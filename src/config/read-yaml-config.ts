/**
 * Parse a YAML config file and check it against a zod schema, turning every
 * YAML error and schema issue into a ConfigProblem at the line and column of
 * the offending key or value. Both config files go through here.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import type { RuleProblem } from './check-pipeline.ts';
import { closestWord } from './closest-word.ts';
import { formatPath, type ConfigPath, type ConfigProblem } from './config-problem.ts';
import { displayPath } from './display-path.ts';
import { errorMessage } from '../sluice-error.ts';

/** Config files are small; anything bigger is a mistake (or hostile). */
export const MAX_CONFIG_BYTES = 256 * 1024;
/** No config nests this deep; a file that does is refused before the parser recurses into it. */
export const MAX_NESTING = 64;

export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export type ReadResult<T> = { ok: true; value: T; source: YamlSource } | { ok: false; problems: ConfigProblem[] };

/** The one problem of a file that cannot be read as a config at all, put at its first line. */
function fileProblem(file: string, message: string): { ok: false; problems: ConfigProblem[] } {
  return { ok: false, problems: [{ file, line: 1, col: 1, message }] };
}

export function readYamlConfig<S extends z.ZodType>(text: string, file: string, schema: S): ReadResult<z.infer<S>> {
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    return fileProblem(
      file,
      `the file is larger than ${MAX_CONFIG_BYTES / 1024} KiB; a config file this big is a mistake`,
    );
  }
  const deep = nestingProblem(text);
  if (deep)
    return {
      ok: false,
      problems: [
        {
          file,
          ...deep,
          message: `the YAML nests deeper than ${MAX_NESTING} levels here; a config file never needs that`,
        },
      ],
    };
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((error) => {
        const at = lines.linePos(error.pos[0]);
        return { file, line: at.line, col: at.col, message: yamlMessage(error.code, error.message) };
      }),
    };
  }
  const source: YamlSource = { file, doc, lines };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return fileProblem(file, `the YAML cannot be read: ${errorMessage(error)}`);
  }
  if (data === null || data === undefined) {
    return fileProblem(file, 'the file is empty; see the examples in README.md for what it holds');
  }
  const parsed = schema.safeParse(data, { reportInput: true });
  if (parsed.success) return { ok: true, value: parsed.data, source };
  const problems = parsed.error.issues.flatMap((issue) => issueProblems(source, schema, issue));
  return { ok: false, problems: sortProblems(problems) };
}

/**
 * A config file's text and the name its problems are reported under, or
 * the one problem that says why it cannot be read: `what` names the file
 * for the reader, `fix` says what to do when it does not exist.
 */
export async function readConfigFile(
  path: string,
  what: string,
  fix: string,
): Promise<{ ok: true; file: string; text: string } | { ok: false; problems: ConfigProblem[] }> {
  const file = displayPath(path);
  try {
    return { ok: true, file, text: await readFile(path, 'utf8') };
  } catch (error) {
    return fileProblem(file, unreadable(error, what, fix));
  }
}

export function unreadable(error: unknown, what: string, fix: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `${what} does not exist; ${fix}`;
  if (code === 'EACCES') return `${what} cannot be read (permission denied); let the user running Sluice read it`;
  if (code === 'EISDIR') return `${what} is a directory, not a file`;
  return `${what} cannot be read: ${errorMessage(error)}`;
}

/** The cross-field rules' problems, each at the line and column of the key or value it is about, in file order. */
export function locateProblems(source: YamlSource, rules: RuleProblem[]): ConfigProblem[] {
  return sortProblems(
    rules.map((rule) => ({ file: source.file, ...locate(source, rule.path, rule.at), message: rule.message })),
  );
}

export function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.toSorted((a, b) => a.line - b.line || a.col - b.col);
}

/**
 * Where the text first nests deeper than MAX_NESTING, by flow brackets or by
 * indentation. A rough scan (it does not know YAML's quoting rules fully),
 * used only to refuse: a file it passes still meets the real parser.
 */
function nestingProblem(text: string): { line: number; col: number } | undefined {
  let depth = 0;
  /** Inside '…', "…" or a comment (ended by the line). */
  let quote: "'" | '"' | '#' | undefined;
  let line = 1;
  let col = 0;
  let indent = 0;
  let atLineStart = true;
  let previous = ' ';
  for (const c of text) {
    col++;
    if (c === '\n') {
      [line, col, indent, atLineStart, previous] = [line + 1, 0, 0, true, ' '];
      if (quote === '#') quote = undefined;
      continue;
    }
    if (atLineStart && !quote && (c === ' ' || c === '-')) {
      if (++indent / 2 > MAX_NESTING) return { line, col };
      previous = c;
      continue;
    }
    atLineStart = false;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (previous === ' ' || previous === '\t')) quote = '#';
    else if (c === '[' || c === '{') {
      if (++depth > MAX_NESTING) return { line, col };
    } else if (c === ']' || c === '}') depth = Math.max(0, depth - 1);
    previous = c;
  }
  return undefined;
}

/** The line and column of a key (`at: 'key'`) or its value, as far as the path exists. */
export function locate(
  source: YamlSource,
  path: ConfigPath,
  at: 'key' | 'value' = 'value',
): { line: number; col: number } {
  let node: unknown = source.doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const part of path) {
    if (!isMap(node) && !(node && typeof node === 'object' && 'items' in node)) break;
    const items = (node as { items: unknown[] }).items;
    let next: unknown;
    let keyOffset: number | undefined;
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(part));
      if (!pair) break;
      keyOffset = rangeStart(pair.key);
      next = pair.value;
    } else if (typeof part === 'number') {
      next = items[part];
    }
    if (next === undefined && keyOffset === undefined) break;
    offset = (at === 'key' && part === path.at(-1) ? keyOffset : undefined) ?? rangeStart(next) ?? keyOffset ?? offset;
    node = next;
  }
  return source.lines.linePos(offset);
}

/** Keys a strict object schema allows at a path, for "did you mean" hints. */
export function allowedKeys(schema: z.ZodType, path: ConfigPath): string[] {
  let current: z.ZodType | undefined = schema;
  for (const part of [...path, undefined]) {
    current = unwrap(current);
    const options = (current?.def as { type: string; options?: z.ZodType[] } | undefined)?.options;
    if (current?.def.type === 'union' && options) {
      // The form of a union that this path can go through: a list for an index, a map for a key.
      const wanted = typeof part === 'number' ? 'array' : 'object';
      current = options.map(unwrap).find((option) => option?.def.type === wanted);
    }
    if (!current) return [];
    if (part === undefined) break;
    const def = current.def as {
      type: string;
      shape?: Record<string, z.ZodType>;
      element?: z.ZodType;
      valueType?: z.ZodType;
    };
    if (def.type === 'object') current = def.shape?.[String(part)];
    else if (def.type === 'array') current = def.element;
    else if (def.type === 'record') current = def.valueType;
    else return [];
  }
  const def = current?.def as { type: string; shape?: Record<string, unknown> } | undefined;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema;
  for (let i = 0; i < 10 && current; i++) {
    const def = current.def as { type: string; innerType?: z.ZodType; in?: z.ZodType };
    if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') current = def.innerType;
    else if (def.type === 'pipe') current = def.in;
    else return current;
  }
  return current;
}

function issueProblems(source: YamlSource, schema: z.ZodType, issue: z.core.$ZodIssue): ConfigProblem[] {
  const path = issue.path.filter((part): part is string | number => typeof part !== 'symbol');
  const where = path.length > 0 ? `${formatPath(path)}: ` : '';
  const problem = (at: ConfigPath, side: 'key' | 'value', message: string): ConfigProblem => ({
    file: source.file,
    ...locate(source, at, side),
    message,
  });
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(schema, path);
      return issue.keys.map((key) => {
        const guess = closestWord(key, allowed);
        const hint = guess
          ? ` (did you mean "${guess}"?)`
          : allowed.length > 0
            ? ` (allowed here: ${allowed.join(', ')})`
            : '';
        return problem([...path, key], 'key', `${where}unknown key "${key}"${hint}`);
      });
    }
    case 'invalid_type': {
      const input = (issue as { input?: unknown }).input;
      if (input === undefined) {
        const key = path.at(-1);
        return [
          problem(path.slice(0, -1), 'key', `${formatPath(path.slice(0, -1)) || 'the file'}: missing "${String(key)}"`),
        ];
      }
      return [problem(path, 'value', `${where}expected ${article(issue.expected)}, not ${describeValue(input)}`)];
    }
    case 'too_big':
      // A whole number past 2^53 (1e20 in YAML): no limit's own message applies, as it cannot be read exactly.
      if (issue.origin === 'int' && issue.maximum === Number.MAX_SAFE_INTEGER)
        return [problem(path, 'value', `${where}this number is too large to be read exactly; use a smaller one`)];
      return [problem(path, 'value', `${where}${issue.message}`)];
    case 'invalid_union': {
      // A list or a map that fits the shape of one form only: say what is wrong inside it, where it is.
      const input = (issue as { input?: unknown }).input;
      const fitting = issue.errors.filter(
        (branch) => !branch.some((inner) => inner.path.length === 0 && inner.code === 'invalid_type'),
      );
      if (typeof input === 'object' && input !== null && fitting.length === 1) {
        return fitting[0]!.flatMap((inner) =>
          issueProblems(source, schema, { ...inner, path: [...issue.path, ...inner.path] }),
        );
      }
      return [problem(path, 'value', `${where}${issue.message}`)];
    }
    case 'invalid_key': {
      const inner = issue.issues[0]?.message ?? 'this key is not allowed';
      return [problem(path, 'key', `${where}${inner}`)];
    }
    default:
      return [problem(path, 'value', `${where}${issue.message}`)];
  }
}

function article(expected: string): string {
  const names: Record<string, string> = {
    object: 'a map of keys',
    array: 'a list',
    string: 'text',
    number: 'a number',
    int: 'a whole number',
    boolean: 'true or false',
  };
  return names[expected] ?? expected;
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'nothing (null)';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return `the text "${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return `${typeof value} ${String(value)}`;
}

function yamlMessage(code: string, message: string): string {
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  if (code === 'DUPLICATE_KEY') return `${first}: each key may appear once here`;
  if (code === 'TAB_AS_INDENT') return 'YAML is indented with spaces, not tabs';
  return `YAML: ${first}`;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | undefined)?.range;
  return Array.isArray(range) ? range[0] : undefined;
}
