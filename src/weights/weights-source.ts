import { XceptionConfigError, XceptionWeightsError } from '../errors.js';
import { fetchBytes, resolveDownloadOptions, type DownloadOptions } from '../platform/fetch-bytes.js';
import { describeFsError } from '../platform/fs-error.js';
import { importNode, isNode } from '../platform/node-import.js';

/**
 * Where weights come from: the bytes themselves (`ArrayBuffer`, a typed array
 * such as a Node `Buffer`, a `Blob`/`File`), a URL (`http(s)://…` or a
 * `URL`), or, in Node, a file path.
 *
 * @example
 * ```ts
 * const fromPath: WeightsSource = './xception_weights_tf_dim_ordering_tf_kernels.h5';
 * const fromUrl: WeightsSource = new URL('https://example.com/xception.h5');
 * const fromInput: WeightsSource = fileInput.files![0]!; // a browser File (a Blob)
 * ```
 * @category Weights
 */
export type WeightsSource = ArrayBuffer | ArrayBufferView | Blob | URL | string;

/**
 * Reads a source into an ArrayBuffer of its own, and a label for messages;
 * URLs are fetched within the limits of `download`. @internal
 */
export async function readWeightsSource(
  source: WeightsSource,
  download?: DownloadOptions,
): Promise<{ bytes: ArrayBuffer; label: string }> {
  if (source instanceof ArrayBuffer) return { bytes: source, label: 'the weight file' };
  if (ArrayBuffer.isView(source)) {
    // A Node Buffer may be a view into a larger pool: copy out exactly its bytes.
    const view = new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    return { bytes: view.slice().buffer, label: 'the weight file' };
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    return { bytes: await source.arrayBuffer(), label: (source as { name?: string }).name ?? 'the weight file' };
  }
  if (source instanceof URL) source = source.href; // a file: URL is read from disk below, in Node
  if (typeof source === 'string' && /^(https?|blob|data):/i.test(source)) {
    return { bytes: await fetchBytes(String(source), resolveDownloadOptions(download)), label: String(source) };
  }
  if (typeof source === 'string') {
    if (!isNode()) {
      return { bytes: await fetchBytes(source, resolveDownloadOptions(download)), label: source }; // a relative URL in a browser
    }
    const { readFile, stat } = await importNode<typeof import('node:fs/promises')>('node:fs/promises');
    const path = source.startsWith('file://') ? new URL(source) : source;
    try {
      // A device or a pipe (/dev/zero, a FIFO) has no end to read to: only regular files are read.
      if (!(await stat(path)).isFile()) {
        throw new XceptionWeightsError(`cannot read the weight file ${source}: it is not a regular file (a folder, device or pipe).`);
      }
      const file = await readFile(path);
      return { bytes: file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer, label: source };
    } catch (error) {
      if (error instanceof XceptionWeightsError) throw error;
      throw new XceptionWeightsError(`cannot read the weight file ${source}: ${describeFsError(error)}.`);
    }
  }
  if (source !== null && typeof source === 'object' && typeof (source as { url?: unknown }).url === 'string') {
    throw new XceptionConfigError(
      `weights { url: ${JSON.stringify((source as unknown as { url: string }).url)} } needs md5 too: the file's MD5, 32 hex digits, ` +
        'which the download is checked against; to load a URL unchecked, pass the URL itself as weights.',
    );
  }
  throw new XceptionConfigError(
    'weights must be an ArrayBuffer, a typed array, a Blob, a URL or (in Node) a file path; ' +
      `got ${source === null ? 'null' : Array.isArray(source) ? 'an array' : typeof source}.`,
  );
}
