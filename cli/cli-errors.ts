/*
 * How the CLI fails: a usage error exits 2 with one line and a hint; an I/O
 * problem exits 1 with one line naming the path (never a stack trace).
 */

/** Bad usage: an unknown command or flag, a flag that does not apply, a bad flag value. Exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    /** The command whose help the hint points at, if any. */
    readonly command?: string,
  ) {
    super(message);
  }
}

/** A Node system error (`ENOENT`, `EACCES`, `ENOSPC`, `EPIPE`, …). */
export interface SystemError extends Error {
  code: string;
  syscall?: string;
  path?: string;
}

/** Whether `error` is a Node system error with an errno code. */
export function isSystemError(error: unknown): error is SystemError {
  return error instanceof Error && typeof (error as SystemError).code === 'string' && /^E[A-Z]+$/.test((error as SystemError).code);
}

/**
 * One line for a system error: `out.onnx: no space left on device (ENOSPC)`.
 * `path` names the file when the error does not (a stream's write).
 */
export function describeSystemError(error: SystemError, path?: string): string {
  const where = error.path ?? path;
  return `${where ? `${where}: ` : ''}${systemErrorReason(error)}`;
}

/** `no space left on device (ENOSPC)`: the reason of a system error, without its path. */
export function systemErrorReason(error: SystemError): string {
  // Node writes "ENOSPC: no space left on device, write" or "ENOENT: no such file or directory, open '/x/y'".
  const description = error.message.replace(/^E[A-Z]+: /, '').replace(/, \w+( '.*')?$/, '');
  return `${description} (${error.code})`;
}

/** Runs `write` and names `path` in a system error that lacks it (a write's ENOSPC). */
export async function writingTo<T>(path: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isSystemError(error) && error.path === undefined) error.path = path;
    throw error;
  }
}
