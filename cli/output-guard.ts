import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { XceptionError } from '../src/index.js';
import { isSystemError, systemErrorReason, UsageError } from './cli-errors.js';

/**
 * Refuses to write `output` when it is `input` (the same path, or the same
 * file through another name or a link): `export-onnx w.h5 w.h5` must not
 * overwrite the weights.
 */
export function refuseOverwrite(input: string, output: string, kind: 'file' | 'folder'): void {
  if (sameFile(input, output)) {
    throw new UsageError(`refusing to write the output ${kind} ${JSON.stringify(output)} over the input ${JSON.stringify(input)}; pick another path.`);
  }
}

/** Whether two paths name the same file. */
export function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    const [sa, sb] = [statSync(a), statSync(b)];
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/**
 * Checks, before any work, that `path` can be written: its folder exists and
 * is writable, and a file output is not a folder (a folder output is not a
 * file). Throws one line naming the path.
 */
export function requireWritable(path: string, kind: 'file' | 'folder'): void {
  const fail = (description: string) => new XceptionError(`${path}: ${description}`);
  let existing;
  try {
    existing = statSync(path);
  } catch {
    existing = undefined;
  }
  if (existing?.isDirectory() && kind === 'file') throw fail('illegal operation on a directory (EISDIR)');
  if (existing && !existing.isDirectory() && kind === 'folder') throw fail('exists and is not a folder (ENOTDIR)');
  if (existing && kind === 'folder') return;
  const parent = dirname(resolve(path));
  try {
    if (!statSync(parent).isDirectory()) throw fail('not a directory (ENOTDIR)');
    accessSync(parent, constants.W_OK);
  } catch (error) {
    if (isSystemError(error)) throw fail(systemErrorReason(error));
    throw error;
  }
}
