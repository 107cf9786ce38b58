/** Plain words for the Node file-system error codes a user can act on. */
const REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EISDIR: 'it is a folder, not a file',
  ENOTDIR: 'a part of the path is a file, not a folder',
  ENAMETOOLONG: 'the path is too long',
  ENOSPC: 'no space left on the device',
  EEXIST: 'something else already exists there',
  ERR_INVALID_ARG_VALUE: 'the path is not valid (it holds a NUL character?)',
  ERR_INVALID_ARG_TYPE: 'the path is not a string',
};

/**
 * Describes a failed file-system call for an error message or a warning:
 * plain words and the code, e.g. `permission denied (EACCES)`, instead of
 * Node's raw `EACCES: permission denied, open '…'`. @internal
 */
export function describeFsError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in REASONS) return `${REASONS[code]} (${code})`;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.startsWith(code) ? `${message} (${code})` : message;
}
