import type { Tensor2D } from '@tensorflow/tfjs-core';
import { requireTensor } from '../argument-checks.js';
import { XceptionConfigError } from '../errors.js';
import { requireKnownOptions } from '../model/xception-options.js';
import type { Pixels } from '../onnx/image-input.js';
import { show } from '../model/validation.js';
import { colorOf, HEATMAP_COLORMAPS, type HeatmapColormap } from './colormap.js';

/**
 * The {@link overlayHeatmap} function options.
 *
 * @example
 * ```ts
 * const options: OverlayHeatmapOptions = { alpha: 0.5, colormap: 'jet' };
 * const overlay = overlayHeatmap(image, heatmap, options);
 * ```
 * @category Explain
 */
export interface OverlayHeatmapOptions {
  /** Weight of the heatmap's colour in [0, 1]; the image keeps `1 - alpha`. @defaultValue `0.4` (keras.io's) */
  alpha?: number;
  /** The colour map. @defaultValue `'jet'` */
  colormap?: HeatmapColormap;
}

/**
 * RGBA pixels, row-major, the shape of a browser `ImageData`
 * (`new ImageData(overlay.data, overlay.width, overlay.height)`) and of a
 * PNG encoder's input.
 *
 * @example
 * ```ts
 * const overlay: RgbaPixels = overlayHeatmap(image, heatmap);
 * context.putImageData(new ImageData(overlay.data, overlay.width, overlay.height), 0, 0);
 * ```
 * @category Explain
 */
export interface RgbaPixels {
  /** `width · height · 4` values in [0, 255]. */
  data: Uint8ClampedArray<ArrayBuffer>;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/**
 * Paints a heatmap (such as {@link gradCam}'s) over an image: the heatmap is
 * resized bilinearly (half-pixel centres) to the image, coloured with the
 * colour map and blended, `(1 - alpha) · image + alpha · colour`; alpha is
 * 255. Pure JavaScript: Node and browsers alike; the heatmap is read, not
 * disposed.
 *
 * @param image - Pixels in [0, 255], RGB or RGBA (an `ImageData`, a decoded PNG/JPEG).
 * @param heatmap - `[h, w]` values in [0, 1] (a tensor, or its values with its size).
 * @param options - See {@link OverlayHeatmapOptions}.
 * @returns RGBA pixels the size of `image`.
 * @throws {@link XceptionConfigError} for an image or heatmap of the wrong
 *   size, or an option out of range.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { PNG } from 'pngjs';
 * import { gradCam, overlayHeatmap } from 'xception-ts';
 *
 * const { heatmap } = gradCam(model, input);
 * const overlay = overlayHeatmap({ data: png.data, width: png.width, height: png.height }, heatmap);
 * const out = new PNG({ width: overlay.width, height: overlay.height });
 * out.data = Buffer.from(overlay.data.buffer);
 * writeFileSync('cam.png', PNG.sync.write(out));
 * ```
 * @category Explain
 */
export function overlayHeatmap(
  image: Pixels,
  heatmap: Tensor2D | { data: ArrayLike<number>; width: number; height: number },
  options: OverlayHeatmapOptions = {},
): RgbaPixels {
  if (options === null || typeof options !== 'object') {
    throw new XceptionConfigError(`overlayHeatmap options must be an object or undefined; got ${show(options)}.`);
  }
  requireKnownOptions('overlayHeatmap', options, ['alpha', 'colormap']);
  const alpha = options.alpha ?? 0.4;
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1)) {
    throw new XceptionConfigError(`overlayHeatmap: alpha must be a number in [0, 1]; got ${show(alpha)}.`);
  }
  const colormap = options.colormap ?? 'jet';
  if (!HEATMAP_COLORMAPS.includes(colormap)) {
    throw new XceptionConfigError(
      `overlayHeatmap: colormap must be one of ${HEATMAP_COLORMAPS.map((c) => `'${c}'`).join(', ')}; got ${show(colormap)}.`,
    );
  }
  const { width, height, channels } = checkImage(image);
  const map = readHeatmap(heatmap);
  const out = new Uint8ClampedArray(width * height * 4);
  const rowScale = map.height / height;
  const colScale = map.width / width;
  for (let y = 0; y < height; y++) {
    const sy = Math.min(map.height - 1, Math.max(0, (y + 0.5) * rowScale - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, map.height - 1);
    const fy = sy - y0;
    for (let x = 0; x < width; x++) {
      const sx = Math.min(map.width - 1, Math.max(0, (x + 0.5) * colScale - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, map.width - 1);
      const fx = sx - x0;
      const at = (r: number, c: number) => map.data[r * map.width + c]!;
      const value =
        (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
      const colour = colorOf(colormap, value);
      const pixel = y * width + x;
      for (let c = 0; c < 3; c++) {
        out[pixel * 4 + c] = Math.round((1 - alpha) * Number(image.data[pixel * channels + c]) + alpha * colour[c]!);
      }
      out[pixel * 4 + 3] = 255;
    }
  }
  return { data: out, width, height };
}

function checkImage(image: Pixels): { width: number; height: number; channels: number } {
  if (image === null || typeof image !== 'object' || image.data === undefined) {
    throw new XceptionConfigError(`overlayHeatmap: image must be pixels { data, width, height }; got ${show(image)}.`);
  }
  const { width, height, data } = image;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new XceptionConfigError(`overlayHeatmap: image needs a positive integer width and height; got ${show(width)} × ${show(height)}.`);
  }
  if (width * height > MAX_OVERLAY_PIXELS) {
    throw new XceptionConfigError(
      `overlayHeatmap: image ${width} × ${height} has ${width * height} pixels, above the ${MAX_OVERLAY_PIXELS} (16384 × 16384) allowed: its RGBA output would take over 1 GiB.`,
    );
  }
  if (typeof data !== 'object' || typeof data.length !== 'number') {
    throw new XceptionConfigError(`overlayHeatmap: image data must be an array or typed array of numbers (e.g. ImageData.data); got a ${typeof data}.`);
  }
  const channels = data.length / (width * height);
  if (channels !== 3 && channels !== 4) {
    throw new XceptionConfigError(
      `overlayHeatmap: image data must hold width · height · 3 (RGB) or · 4 (RGBA) values; ` +
        `${width} × ${height} needs ${width * height * 3} or ${width * height * 4}, got ${data.length}.`,
    );
  }
  return { width, height, channels };
}

function readHeatmap(
  heatmap: Tensor2D | { data: ArrayLike<number>; width: number; height: number },
): { data: ArrayLike<number>; width: number; height: number } {
  if (heatmap !== null && typeof heatmap === 'object' && 'dataSync' in heatmap) {
    requireTensor('overlayHeatmap: heatmap', heatmap);
    if (heatmap.rank !== 2 || heatmap.shape[0] === 0 || heatmap.shape[1] === 0) {
      throw new XceptionConfigError(
        `overlayHeatmap: heatmap must be a 2D tensor [h, w] with h and w at least 1; got shape [${heatmap.shape.join(', ')}].`,
      );
    }
    return requireFinite({ data: heatmap.dataSync(), height: heatmap.shape[0], width: heatmap.shape[1] });
  }
  const map = heatmap as { data?: ArrayLike<number>; width?: number; height?: number } | null;
  const w = map?.width;
  const h = map?.height;
  if (!map || !map.data || !(Number.isInteger(w) && w! > 0 && Number.isInteger(h) && h! > 0) || map.data.length !== w! * h!) {
    throw new XceptionConfigError(
      `overlayHeatmap: heatmap must be a 2D tensor or { data, width, height } with width · height values; got ${show(heatmap)}.`,
    );
  }
  return requireFinite({ data: map.data, width: w!, height: h! });
}

/** The largest image overlayHeatmap colours: 16384 × 16384 pixels, whose RGBA output is 1 GiB. */
const MAX_OVERLAY_PIXELS = 16384 * 16384;

function requireFinite<T extends { data: ArrayLike<number> }>(map: T): T {
  for (let i = 0; i < map.data.length; i++) {
    const value = map.data[i]!;
    if (!Number.isFinite(value)) {
      throw new XceptionConfigError(`overlayHeatmap: heatmap value ${i} is ${show(value)}; heatmap values must be finite (gradCam gives [0, 1]).`);
    }
  }
  return map;
}
