/**
 * Problems of a pipeline file as check-run annotations (PRODUCT G3). GitHub
 * takes at most 50 annotations per request, so they come in batches.
 */
import type { ConfigProblem } from '../config/config-problem.ts';
import { keepHead } from './cut-to-bytes.ts';

export interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  start_column?: number;
  end_column?: number;
  annotation_level: 'failure';
  title: string;
  message: string;
}

/** GitHub's limit of annotations in one create or update request. */
export const ANNOTATIONS_PER_REQUEST = 50;
/** GitHub's limit of an annotation's message: 64 KB. */
const MESSAGE_LIMIT = 65_535;

export function toAnnotations(problems: readonly ConfigProblem[], path: string): Annotation[][] {
  const all = problems.map((p): Annotation => ({
    path,
    start_line: p.line,
    end_line: p.line,
    // Columns are allowed only on one line.
    start_column: p.col,
    end_column: p.col,
    annotation_level: 'failure',
    title: 'Invalid pipeline file',
    message: keepHead(p.message, MESSAGE_LIMIT),
  }));
  const batches: Annotation[][] = [];
  for (let i = 0; i < all.length; i += ANNOTATIONS_PER_REQUEST) batches.push(all.slice(i, i + ANNOTATIONS_PER_REQUEST));
  return batches;
}
