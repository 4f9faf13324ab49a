/**
 * What the executor tests look with: processes found by a marker in their
 * command line, output lines recorded with their stream and arrival time,
 * and an executor error matched by code and message.
 */
import { execFile } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ExecutorError, type OutputStream } from '../../src/executor/executor.ts';

let markerCount = 0;

/** A `sleep` duration no other process on the machine is using, to find with pgrep. */
export function uniqueSleep(): string {
  markerCount += 1;
  return `4321.${process.pid}${markerCount}`;
}

/** The pids of the processes whose command line contains `pattern` (sshd hosts run on this machine too). */
export async function processesMatching(pattern: string): Promise<number[]> {
  try {
    const { stdout } = await promisify(execFile)('pgrep', ['-f', pattern]);
    return stdout.trim().split('\n').map(Number);
  } catch (error) {
    if ((error as { code?: number }).code === 1) return [];
    throw error;
  }
}

export function recorder() {
  const lines: Array<{ line: string; stream: OutputStream; at: number }> = [];
  return {
    lines,
    onLine: (line: string, stream: OutputStream) => lines.push({ line, stream, at: Date.now() }),
    of: (stream: OutputStream) => lines.filter((l) => l.stream === stream).map((l) => l.line),
  };
}

/** Reads until `ok` holds or the deadline passes, then returns the last value read for the assertion to judge. */
export async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await delay(50);
  }
}

export const isCode = (code: ExecutorError['code'], pattern?: RegExp) => (error: unknown) =>
  error instanceof ExecutorError && error.code === code && (pattern === undefined || pattern.test(error.message));
