import { XceptionWeightsError } from '../errors.js';
import { md5Hex } from './md5.js';
import { fetchBytes } from './weights-source.js';
import { importNode, isNode } from '../platform/node-import.js';

/**
 * A weight file to download and check: its URL and its published MD5.
 *
 * @example
 * ```ts
 * const weights: ChecksummedWeights = {
 *   url: 'https://example.com/my_xception.h5',
 *   md5: '0a58e3b7378bc2990ea3b43d5981f1f6',
 * };
 * const model = await createXception({ weights });
 * ```
 */
export interface ChecksummedWeights {
  /** Where to GET the file. */
  url: string;
  /** Its MD5, 32 hex digits; a download with another checksum is refused. */
  md5: string;
}

/**
 * Downloads a file and checks its MD5; in Node, keeps verified files in
 * `cacheDir` (named `<md5>-<file name>`) and reuses them. @internal
 */
export async function downloadVerified(weights: ChecksummedWeights, cacheDir: string | false | undefined): Promise<ArrayBuffer> {
  const expected = weights.md5.toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(expected)) {
    throw new XceptionWeightsError(`md5 must be 32 hex digits; got ${JSON.stringify(weights.md5)}.`);
  }
  const name = `${expected}-${decodeURIComponent(new URL(weights.url, 'http://x/').pathname.split('/').pop() || 'weights.h5')}`;
  const cache = await resolveCacheDir(cacheDir);
  if (cache) {
    const { readFile } = await importNode<typeof import('node:fs/promises')>('node:fs/promises');
    const cached = await readFile(cache.join(name)).catch(() => null);
    if (cached) {
      const bytes = cached.buffer.slice(cached.byteOffset, cached.byteOffset + cached.byteLength) as ArrayBuffer;
      if ((await md5Hex(bytes)) === expected) return bytes;
    }
  }
  const bytes = await fetchBytes(weights.url);
  const actual = await md5Hex(bytes);
  if (actual !== expected) {
    throw new XceptionWeightsError(
      `the download of ${weights.url} has MD5 ${actual}, not the expected ${expected} ` +
        `(${bytes.byteLength} bytes): refusing a corrupt or different file.`,
    );
  }
  if (cache) {
    const { mkdir, rename, writeFile } = await importNode<typeof import('node:fs/promises')>('node:fs/promises');
    await mkdir(cache.dir, { recursive: true });
    const partial = cache.join(`${name}.${process.pid}.partial`);
    await writeFile(partial, new Uint8Array(bytes));
    await rename(partial, cache.join(name)); // atomic: a reader never sees half a file
  }
  return bytes;
}

/** Node only: the cache folder, from the option, XCEPTION_TS_CACHE_DIR, or ~/.cache/xception-ts. @internal */
export async function resolveCacheDir(option: string | false | undefined): Promise<{ dir: string; join(file: string): string } | null> {
  if (option === false || !isNode()) return null;
  const path = await importNode<typeof import('node:path')>('node:path');
  const os = await importNode<typeof import('node:os')>('node:os');
  const dir = option ?? process.env['XCEPTION_TS_CACHE_DIR'] ?? path.join(os.homedir(), '.cache', 'xception-ts');
  return { dir, join: (file: string) => path.join(dir, file) };
}
