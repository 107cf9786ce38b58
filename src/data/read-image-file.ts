import { XceptionImageError } from '../errors.js';
import { describeFsError } from '../platform/fs-error.js';
import { importNode } from '../platform/node-import.js';
import { formatCount } from './image-limits.js';

/**
 * Reads an image file in Node, bounded: the open file's `stat` must say a
 * regular file of at most `maxBytes` before a byte is read (devices such as
 * `/dev/zero`, pipes and folders are refused), and no more than that size is
 * read even if the file grows meanwhile. @internal
 */
export async function readImageFile(path: string, maxBytes: number): Promise<Uint8Array> {
  const { open } = await importNode<typeof import('node:fs/promises')>('node:fs/promises');
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new XceptionImageError(`cannot read ${path}: ${describeFsError(error)}.`, { cause: error });
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      throw new XceptionImageError(`${path}: not a regular file (${stats.isDirectory() ? 'a folder' : 'a device, pipe or socket'}); loadImage reads PNG and JPEG files.`);
    }
    if (stats.size > maxBytes) {
      throw new XceptionImageError(
        `${path}: ${formatCount(stats.size)} bytes, over the file-size cap of ${formatCount(maxBytes)} (maxBytes; IMAGE_LIMITS.maxBytes by default): nothing was read.`,
      );
    }
    const bytes = new Uint8Array(stats.size);
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === bytes.length ? bytes : bytes.subarray(0, filled);
  } catch (error) {
    if (error instanceof XceptionImageError) throw error;
    throw new XceptionImageError(`cannot read ${path}: ${describeFsError(error)}.`, { cause: error });
  } finally {
    await handle.close();
  }
}
