import * as tf from '@tensorflow/tfjs-core';
import { XceptionConfigError, XceptionImageError } from '../errors.js';
import { requireWithinLimit } from '../model/limits.js';
import { show } from '../model/validation.js';
import { requireKnownOptions } from '../model/xception-options.js';
import { fetchBytes, resolveDownloadOptions, type DownloadOptions } from '../platform/fetch-bytes.js';
import { importNode, isNode } from '../platform/node-import.js';
import { checkImageHeader, decodeImageBytes } from './decode-image.js';
import { formatCount, IMAGE_LIMITS, resolveLimit } from './image-limits.js';
import { isJpeg, isPng } from './image-header.js';
import { readImageFile } from './read-image-file.js';

/**
 * What {@link loadImage} reads. In Node: a file path, a `file:` URL, an
 * `http(s)` URL, PNG or JPEG bytes (`Uint8Array`, `Buffer`, `ArrayBuffer`) or
 * a `Blob`. In browsers: an `HTMLImageElement`, `HTMLCanvasElement`,
 * `ImageBitmap`, `ImageData`, a `Blob`/`File` or a URL (string or `URL`).
 *
 * @example
 * ```ts
 * import { loadImage, type ImageSource } from 'xception-ts';
 *
 * const source: ImageSource = new URL('./cat.png', import.meta.url);
 * const image = await loadImage(source);
 * ```
 * @category Data
 */
export type ImageSource =
  | string
  | URL
  | Uint8Array
  | ArrayBuffer
  | Blob
  | ImageBitmap
  | ImageData
  | HTMLImageElement
  | HTMLCanvasElement;

/**
 * Options of {@link loadImage}.
 *
 * @example
 * ```ts
 * import { loadImage, type LoadImageOptions } from 'xception-ts';
 *
 * const options: LoadImageOptions = { size: [299, 299], channels: 3, maxPixels: 20_000_000 };
 * const image = await loadImage('./cat.png', options);
 * ```
 * @category Data
 */
export interface LoadImageOptions {
  /** `[height, width]` to resize to (bilinear, half-pixel centres, rounded back to 0–255). Default: the image's own size. */
  size?: [number, number];
  /** 3 (RGB, alpha dropped) or 1 (luminance, 0.299 R + 0.587 G + 0.114 B as Pillow's `L`). Default 3. */
  channels?: 1 | 3;
  /** Largest width × height the image may declare, checked before decoding. Default {@link IMAGE_LIMITS}.maxPixels (50,000,000). */
  maxPixels?: number;
  /** Largest file, `Blob` or download read, in bytes. Default {@link IMAGE_LIMITS}.maxBytes (256 MiB). */
  maxBytes?: number;
  /** Timeouts and an abort signal for a URL (its `maxBytes` is this call's `maxBytes`). */
  download?: Omit<DownloadOptions, 'maxBytes'>;
}

const KNOWN_OPTIONS = ['size', 'channels', 'maxPixels', 'maxBytes', 'download'];

/**
 * Reads a photo into a `Tensor3D` of shape `[height, width, channels]`,
 * dtype `int32`, values 0–255 — what `tf.browser.fromPixels` gives, the
 * counterpart of Keras' `load_img` + `img_to_array`. Feed it to
 * {@link preprocessInput} and the model (add the batch axis with
 * `expandDims(0)`).
 *
 * PNG and JPEG are decoded in Node with pngjs and jpeg-js (no native code);
 * browsers decode with `createImageBitmap`, so any format they support works
 * there. Bounded before anything is allocated: the width × height that a PNG
 * or JPEG header declares must be at most `maxPixels`, a file must be a
 * regular file (not a device or pipe) of at most `maxBytes`, checked with
 * `stat` before reading ({@link IMAGE_LIMITS} has the defaults). Every
 * failure is an {@link XceptionImageError} (bad options: an
 * {@link XceptionConfigError}); no tensor is left behind. The caller owns the
 * returned tensor and disposes it.
 *
 * @param source - A path, URL, bytes, `Blob` or (in browsers) an image element, canvas or `ImageBitmap`.
 * @param options - Target size, channels and the caps; see {@link LoadImageOptions}.
 * @returns An `int32` tensor `[height, width, channels]` of values 0–255.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { loadImage, preprocessInput } from 'xception-ts';
 *
 * const image = await loadImage('./cat.jpg', { size: [299, 299] }); // int32 [299, 299, 3]
 * const input = preprocessInput(image).expandDims(0);
 * ```
 * @category Data
 */
export async function loadImage(source: ImageSource, options: LoadImageOptions = {}): Promise<tf.Tensor3D> {
  requireKnownOptions('loadImage', options, KNOWN_OPTIONS);
  const size = options.size === undefined ? undefined : resolveSize(options.size);
  const channels = options.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw new XceptionConfigError(`loadImage: channels must be 1 or 3; got ${show(channels)}.`);
  const maxPixels = resolveLimit('loadImage: maxPixels', options.maxPixels, IMAGE_LIMITS.maxPixels);
  const maxBytes = resolveLimit('loadImage: maxBytes', options.maxBytes, IMAGE_LIMITS.maxBytes);
  if (options.download !== undefined && (typeof options.download !== 'object' || options.download === null || 'maxBytes' in options.download)) {
    throw new XceptionConfigError(`loadImage: download takes timeoutMs, stallTimeoutMs, signal and onProgress; the byte cap is loadImage's own maxBytes.`);
  }
  const download = resolveDownloadOptions({ ...options.download, maxBytes });

  const rgb = await readPixels(source, { channels, maxPixels, maxBytes, download });
  if (size === undefined || (size[0] === rgb.shape[0] && size[1] === rgb.shape[1])) return rgb;
  const resized = tf.tidy(() =>
    tf.cast(tf.clipByValue(tf.round(tf.image.resizeBilinear(rgb, size, false, true)), 0, 255), 'int32'),
  );
  rgb.dispose();
  return resized;
}

interface ReadOptions {
  channels: 1 | 3;
  maxPixels: number;
  maxBytes: number;
  download: ReturnType<typeof resolveDownloadOptions>;
}

/** The source's pixels at their own size, int32, `channels` deep. */
async function readPixels(source: ImageSource, options: ReadOptions): Promise<tf.Tensor3D> {
  if (typeof source === 'string' || source instanceof URL) return fromBytes(await readLocation(source, options), describe(source), options);
  if (source instanceof Uint8Array) return fromBytes(source, 'image bytes', options);
  if (source instanceof ArrayBuffer) return fromBytes(new Uint8Array(source), 'image bytes', options);
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    const name = 'name' in source && typeof source.name === 'string' ? source.name : 'image Blob';
    if (source.size > options.maxBytes) throw overBytes(name, source.size, options.maxBytes);
    return fromBytes(new Uint8Array(await source.arrayBuffer()), name, options);
  }
  if (isDrawable(source)) {
    requirePixels('image', source.width, source.height, options.maxPixels);
    return fromPixels(source, options.channels);
  }
  throw new XceptionImageError(
    `loadImage: source must be a path or URL, PNG/JPEG bytes, a Blob, or (in browsers) an image element, canvas, ImageBitmap or ImageData; got ${show(source)}.`,
  );
}

/** A path (Node) or URL: its bytes, within `maxBytes`. */
async function readLocation(source: string | URL, options: ReadOptions): Promise<Uint8Array> {
  const text = source.toString();
  if (/^https?:\/\//i.test(text) || (!isNode() && !text.startsWith('file:'))) {
    return new Uint8Array(await fetchBytes(new URL(text, globalThis.location?.href).href, options.download, `cannot download the image ${text}`));
  }
  if (!isNode()) throw new XceptionImageError(`loadImage: ${text}: file paths and file: URLs are read in Node only; in browsers pass a URL, Blob or image element.`);
  let path = text;
  if (source instanceof URL || text.startsWith('file:')) {
    const { fileURLToPath } = await importNode<typeof import('node:url')>('node:url');
    path = fileURLToPath(text);
  }
  return readImageFile(path, options.maxBytes);
}

/** PNG/JPEG bytes → pixels: in Node with pngjs/jpeg-js, in browsers with createImageBitmap. */
async function fromBytes(bytes: Uint8Array, name: string, options: ReadOptions): Promise<tf.Tensor3D> {
  if (bytes.length > options.maxBytes) throw overBytes(name, bytes.length, options.maxBytes);
  if (isNode() || typeof createImageBitmap === 'undefined') {
    const { width, height, data } = await decodeImageBytes(bytes, { channels: options.channels, maxPixels: options.maxPixels, name });
    return tf.tensor3d(data, [height, width, options.channels], 'int32');
  }
  // Browsers decode any format they know; PNG and JPEG are checked against the cap before that.
  if (isPng(bytes) || isJpeg(bytes)) checkImageHeader(bytes, name, options.maxPixels);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]));
  } catch (error) {
    throw new XceptionImageError(`${name}: the browser cannot decode it as an image (${(error as Error).message}).`, { cause: error });
  }
  try {
    requirePixels(name, bitmap.width, bitmap.height, options.maxPixels);
    return fromPixels(bitmap, options.channels);
  } finally {
    bitmap.close();
  }
}

type Drawable = ImageBitmap | ImageData | HTMLImageElement | HTMLCanvasElement;

function isDrawable(source: unknown): source is Drawable {
  return (
    (typeof ImageBitmap !== 'undefined' && source instanceof ImageBitmap) ||
    (typeof ImageData !== 'undefined' && source instanceof ImageData) ||
    (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) ||
    (typeof HTMLCanvasElement !== 'undefined' && source instanceof HTMLCanvasElement)
  );
}

/** tf.browser.fromPixels (int32 RGB), then luminance for one channel. */
function fromPixels(source: Drawable, channels: 1 | 3): tf.Tensor3D {
  return tf.tidy(() => {
    const rgb = tf.browser.fromPixels(source, 3);
    if (channels === 3) return rgb;
    const luma = tf.sum(tf.mul(tf.cast(rgb, 'float32'), tf.tensor1d([0.299, 0.587, 0.114])), -1, true);
    return tf.cast(tf.round(luma), 'int32') as tf.Tensor3D;
  });
}

function requirePixels(name: string, width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw new XceptionImageError(
      `${name}: ${width}×${height} = ${formatCount(width * height)} pixels, over the pixel cap of ${formatCount(maxPixels)} (maxPixels; IMAGE_LIMITS.maxPixels by default).`,
    );
  }
  if (width === 0 || height === 0) throw new XceptionImageError(`${name}: the image has no pixels (${width}×${height}); is it loaded yet?`);
}

function overBytes(name: string, size: number, maxBytes: number): XceptionImageError {
  return new XceptionImageError(
    `${name}: ${formatCount(size)} bytes, over the byte cap of ${formatCount(maxBytes)} (maxBytes; IMAGE_LIMITS.maxBytes by default).`,
  );
}

function resolveSize(size: unknown): [number, number] {
  if (!Array.isArray(size) || size.length !== 2 || !size.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new XceptionConfigError(`loadImage: size must be [height, width], two positive integers; got ${show(size)}.`);
  }
  return [requireWithinLimit('loadImage: size height', size[0], 'maxInputSize'), requireWithinLimit('loadImage: size width', size[1], 'maxInputSize')];
}

function describe(source: string | URL): string {
  return source.toString();
}
