import { XceptionWeightsError } from '../errors.js';
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
 */
export type WeightsSource = ArrayBuffer | ArrayBufferView | Blob | URL | string;

/** Reads a source into an ArrayBuffer of its own, and a label for messages. @internal */
export async function readWeightsSource(source: WeightsSource): Promise<{ bytes: ArrayBuffer; label: string }> {
  if (source instanceof ArrayBuffer) return { bytes: source, label: 'the weight file' };
  if (ArrayBuffer.isView(source)) {
    // A Node Buffer may be a view into a larger pool: copy out exactly its bytes.
    const view = new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    return { bytes: view.slice().buffer, label: 'the weight file' };
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    return { bytes: await source.arrayBuffer(), label: (source as { name?: string }).name ?? 'the weight file' };
  }
  if (source instanceof URL || (typeof source === 'string' && /^(https?|blob|data):/i.test(source))) {
    return { bytes: await fetchBytes(String(source)), label: String(source) };
  }
  if (typeof source === 'string') {
    if (!isNode()) {
      return { bytes: await fetchBytes(source), label: source }; // a relative URL in a browser
    }
    const { readFile } = await importNode<typeof import('node:fs/promises')>('node:fs/promises');
    try {
      const file = await readFile(source.startsWith('file://') ? new URL(source) : source);
      return { bytes: file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer, label: source };
    } catch (error) {
      throw new XceptionWeightsError(`cannot read the weight file ${source}: ${(error as Error).message}`);
    }
  }
  throw new XceptionWeightsError(
    'weights must be an ArrayBuffer, a typed array, a Blob, a URL or (in Node) a file path; ' +
      `got ${source === null ? 'null' : typeof source}.`,
  );
}

/** GETs a URL into an ArrayBuffer; a failed request is an XceptionWeightsError. @internal */
export async function fetchBytes(url: string): Promise<ArrayBuffer> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new XceptionWeightsError(`cannot download ${url}: ${(error as Error).message}`);
  }
  if (!response.ok) {
    throw new XceptionWeightsError(`cannot download ${url}: HTTP ${response.status} ${response.statusText}`.trim() + '.');
  }
  return response.arrayBuffer();
}
