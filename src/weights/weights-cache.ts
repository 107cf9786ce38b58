import { XceptionConfigError } from '../errors.js';
import { describeFsError } from '../platform/fs-error.js';
import { importNode, isNode } from '../platform/node-import.js';

/**
 * The folder of verified downloads, in Node. Every file-system failure is
 * caught: a cache that cannot be read or written only costs a download, and
 * is reported once (per download) through `warn`. @internal
 */
export interface WeightsCache {
  /** The cached bytes of `name`, or null (absent, unreadable: then warned). */
  read(name: string): Promise<ArrayBuffer | null>;
  /** Keeps `bytes` as `name`, atomically (a unique partial file, then a rename); warns on failure. */
  write(name: string, bytes: ArrayBuffer): Promise<void>;
}

/** Requires `weightsCacheDir` to be a non-empty path, `false`, or absent. @internal */
export function requireCacheDirOption(value: unknown): string | false | undefined {
  if (value === undefined || value === false || (typeof value === 'string' && value !== '')) return value;
  throw new XceptionConfigError(
    `weightsCacheDir must be a folder path (a non-empty string) or false for no cache; got ${
      typeof value === 'string' ? '""' : value === null ? 'null' : typeof value === 'object' ? 'an object' : String(value)
    }.`,
  );
}

let partialCounter = 0;

/**
 * Opens the cache: `option` if a path, none if `false` or outside Node, else
 * `$XCEPTION_TS_CACHE_DIR` (ignored when empty), else `~/.cache/xception-ts`.
 * @internal
 */
export async function openWeightsCache(option: string | false | undefined, warn: (message: string) => void): Promise<WeightsCache | null> {
  if (option === false || !isNode()) return null;
  const path = await importNode<typeof import('node:path')>('node:path');
  const fs = await importNode<typeof import('node:fs/promises')>('node:fs/promises');
  let warned = false;
  const warnOnce = (message: string) => {
    if (!warned) warn(`xception-ts: ${message}`);
    warned = true;
  };
  let dir: string;
  try {
    const fromEnv = process.env['XCEPTION_TS_CACHE_DIR'];
    dir = path.resolve(option ?? (fromEnv ? fromEnv : path.join((await importNode<typeof import('node:os')>('node:os')).homedir(), '.cache', 'xception-ts')));
  } catch (error) {
    warnOnce(`cannot use the weights cache (no home folder: ${describeFsError(error)}); the download is loaded without caching.`);
    return null;
  }
  /** The entry's path, refusing any name that would leave the folder. */
  const entry = (name: string): string => {
    const full = path.join(dir, name);
    if (path.dirname(full) !== dir) throw new Error(`the name ${JSON.stringify(name)} leaves the cache folder`);
    return full;
  };
  return {
    async read(name) {
      try {
        const file = await fs.readFile(entry(name));
        return file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer;
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ENOENT') {
          warnOnce(`cannot use the weights cache (${path.join(dir, name)}): ${describeFsError(error)}; the download is loaded without caching.`);
        }
        return null;
      }
    },
    async write(name, bytes) {
      let partial: string | null = null;
      try {
        const target = entry(name);
        await fs.mkdir(dir, { recursive: true });
        // Unique per call, so that concurrent downloads of one file never share (or rename away) a partial file.
        partial = `${target}.${process.pid}-${partialCounter++}-${Math.random().toString(36).slice(2, 8)}.partial`;
        await fs.writeFile(partial, new Uint8Array(bytes));
        await fs.rename(partial, target); // atomic: a reader never sees half a file; the last of identical writers wins
        partial = null;
      } catch (error) {
        warnOnce(`cannot use the weights cache (${dir}): ${describeFsError(error)}; the download is loaded without caching.`);
      } finally {
        if (partial !== null) await fs.rm(partial, { force: true }).catch(() => {});
      }
    },
  };
}
