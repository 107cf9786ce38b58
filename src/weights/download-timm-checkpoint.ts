import { XceptionWeightsError } from '../errors.js';
import { fetchBytes, resolveDownloadOptions } from '../platform/fetch-bytes.js';
import type { DownloadVerifiedOptions } from './download-verified.js';
import { readSafetensors } from './safetensors.js';
import { openWeightsCache } from './weights-cache.js';
import { importNode, isNode } from '../platform/node-import.js';

/** What a downloaded checkpoint must be. @internal */
export interface CheckpointExpectation {
  url: string;
  /** timm's tag, which names the cached file. */
  tag: string;
  /** Published SHA-256 (64 hex digits), or null when none is known: then size and header only. */
  sha256: string | null;
  /**
   * Bytes of tensor data a float32 checkpoint of this architecture may have
   * (after the header): with and without the int64 `num_batches_tracked` counters.
   */
  dataBytes: readonly number[];
}

/**
 * Downloads a timm checkpoint and refuses it unless it checks out: its
 * SHA-256 where one is published, else a valid safetensors header whose
 * tensors tile exactly `dataBytes` of data (the size of the architecture's
 * float32 state dict). In Node a checked file is kept in the cache folder
 * (`timm-<tag>-model.safetensors`, through the same cache as the Keras files:
 * atomic writes, and a cache that cannot be used only warns), and a cached
 * file is checked again before it is used. Downloads keep the limits of
 * `options.download`. @internal
 */
export async function downloadTimmCheckpoint(expected: CheckpointExpectation, options: DownloadVerifiedOptions): Promise<ArrayBuffer> {
  if (expected.sha256 !== null && !/^[0-9a-f]{64}$/i.test(expected.sha256)) {
    throw new XceptionWeightsError(`sha256 must be 64 hex digits; got ${JSON.stringify(expected.sha256)}.`);
  }
  const download = resolveDownloadOptions(options.download, options.defaultMaxBytes);
  const name = `timm-${expected.tag.replace(/[^A-Za-z0-9._-]/g, '_')}-model.safetensors`;
  const cache = await openWeightsCache(options.cacheDir, options.warn);
  const cached = cache ? await cache.read(name) : null;
  if (cached && (await problemWith(cached, expected)) === null) return cached;

  const bytes = await fetchBytes(expected.url, download);
  const problem = await problemWith(bytes, expected);
  if (problem !== null) {
    throw new XceptionWeightsError(`the download of ${expected.url} (${bytes.byteLength} bytes) ${problem}: refusing a corrupt or different file.`);
  }
  await cache?.write(name, bytes);
  return bytes;
}

/** Why `bytes` is not the expected checkpoint, or null when it is. */
async function problemWith(bytes: ArrayBuffer, expected: CheckpointExpectation): Promise<string | null> {
  if (expected.sha256 !== null) {
    const actual = await sha256Hex(bytes);
    return actual === expected.sha256.toLowerCase() ? null : `has SHA-256 ${actual}, not the published ${expected.sha256.toLowerCase()}`;
  }
  let dataStart: number;
  try {
    const file = readSafetensors(bytes, expected.url);
    dataStart = Math.min(bytes.byteLength, ...[...file.entries.values()].map((e) => e.begin));
  } catch (error) {
    return `is not a valid safetensors file (${(error as Error).message})`;
  }
  const dataBytes = bytes.byteLength - dataStart;
  return expected.dataBytes.includes(dataBytes)
    ? null
    : `holds ${dataBytes} bytes of tensors, not the ${expected.dataBytes.join(' or ')} of this architecture's float32 checkpoint`;
}

/**
 * SHA-256 of the bytes, lowercase hex: Node's `crypto` in Node (Node 18 has no
 * global Web Crypto without a flag), Web Crypto elsewhere. @internal
 */
export async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  if (isNode()) {
    const { createHash } = await importNode<typeof import('node:crypto')>('node:crypto');
    return createHash('sha256').update(new Uint8Array(bytes)).digest('hex');
  }
  return sha256HexWebCrypto(bytes);
}

/** SHA-256 with Web Crypto (browsers, Node ≥ 19), exposed for tests against Node's. @internal */
export async function sha256HexWebCrypto(bytes: ArrayBuffer): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new XceptionWeightsError('SHA-256 checks need Web Crypto (crypto.subtle), which this runtime lacks.');
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
