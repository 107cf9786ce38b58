import { XceptionConfigError, XceptionWeightsError } from '../errors.js';
import { md5Hex } from './md5.js';
import { fetchBytes, resolveDownloadOptions, type DownloadOptions } from '../platform/fetch-bytes.js';
import { cacheFileName } from './cache-file-name.js';
import { openWeightsCache } from './weights-cache.js';

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
 * @category Weights
 */
export interface ChecksummedWeights {
  /** Where to GET the file. */
  url: string;
  /** Its MD5, 32 hex digits; a download with another checksum is refused. */
  md5: string;
}

/** How {@link downloadVerified} fetches and caches. @internal */
export interface DownloadVerifiedOptions {
  /** The cache folder, `false` for none, undefined for the default. */
  cacheDir: string | false | undefined;
  /** Timeouts, size cap, signal. */
  download?: DownloadOptions | undefined;
  /** `maxBytes` when `download` does not set it. */
  defaultMaxBytes?: number;
  /** Receives the one warning of a cache that cannot be used. */
  warn: (message: string) => void;
}

/**
 * Downloads a file and checks its MD5; in Node, keeps verified files in the
 * cache folder (named by {@link cacheFileName}) and reuses them. A cache that
 * cannot be read or written costs only a warning. @internal
 */
export async function downloadVerified(weights: ChecksummedWeights, options: DownloadVerifiedOptions): Promise<ArrayBuffer> {
  if (typeof weights.url !== 'string' || weights.url === '') {
    throw new XceptionConfigError(`weights.url must be a non-empty URL string; got ${JSON.stringify(weights.url) ?? typeof weights.url}.`);
  }
  const expected = typeof weights.md5 === 'string' ? weights.md5.toLowerCase() : '';
  if (!/^[0-9a-f]{32}$/.test(expected)) {
    throw new XceptionConfigError(`weights.md5 must be 32 hex digits; got ${JSON.stringify(weights.md5) ?? typeof weights.md5}.`);
  }
  const download = resolveDownloadOptions(options.download, options.defaultMaxBytes);
  const name = cacheFileName(weights.url, expected);
  const cache = await openWeightsCache(options.cacheDir, options.warn);
  const cached = cache ? await cache.read(name) : null;
  if (cached && (await md5Hex(cached)) === expected) return cached;

  const bytes = await fetchBytes(weights.url, download);
  const actual = await md5Hex(bytes);
  if (actual !== expected) {
    throw new XceptionWeightsError(
      `the download of ${weights.url} has MD5 ${actual}, not the expected ${expected} ` +
        `(${bytes.byteLength} bytes): refusing a corrupt or different file.`,
    );
  }
  await cache?.write(name, bytes);
  return bytes;
}
