import { XceptionConfigError } from '../errors.js';
import { pixelChannels } from '../imagenet/pixel-channels.js';

/**
 * An image as pixels in [0, 255], row-major, RGB or RGBA (alpha is ignored):
 * a browser `ImageData`, a decoded PNG/JPEG, or any object of this shape.
 *
 * @example
 * ```ts
 * const image: Pixels = context.getImageData(0, 0, width, height); // RGBA
 * const rgb: Pixels = { data: new Uint8Array(w * h * 3), width: w, height: h };
 * ```
 * @category Inference
 */
export interface Pixels {
  /** `width · height · 3` (RGB) or `· 4` (RGBA) values in [0, 255]. */
  readonly data: ArrayLike<number>;
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
}

/**
 * A TensorFlow.js tensor of pixels in [0, 255], `[height, width, 3]` or
 * `[1, height, width, 3]`, described structurally so that this module does
 * not load TensorFlow.js.
 *
 * @example
 * ```ts
 * const top5 = await classifier.classify(tf.browser.fromPixels(imageElement));
 * ```
 * @category Inference
 */
export interface PixelTensor {
  /** `[height, width, channels]` or `[1, height, width, channels]`. */
  readonly shape: number[];
  /** Reads the values, row-major. */
  data(): Promise<ArrayLike<number>>;
}

/** Reads a {@link PixelTensor} into {@link Pixels}. @internal */
export async function pixelsOfTensor(tensor: PixelTensor): Promise<Pixels> {
  const shape = tensor.shape.length === 4 && tensor.shape[0] === 1 ? tensor.shape.slice(1) : tensor.shape;
  if (shape.length !== 3 || (shape[2] !== 3 && shape[2] !== 4)) {
    throw new XceptionConfigError(
      `an image tensor must be [height, width, 3|4] or [1, height, width, 3|4] in [0, 255]; got [${tensor.shape.join(', ')}].`,
    );
  }
  return { data: await tensor.data(), height: shape[0]!, width: shape[1]! };
}

/**
 * Resizes pixels bilinearly to `height × width` (TensorFlow's
 * `tf.image.resizeBilinear` rule: no half-pixel centres, corners not
 * aligned), drops alpha, and writes `scale · v + offset` for each RGB value
 * into `out` at `offset`, NHWC. @internal
 */
export function writeResizedRgb(
  image: Pixels,
  height: number,
  width: number,
  out: Float32Array,
  at: number,
  scale: number,
  shift: number,
): void {
  const { data, width: w, height: h } = image;
  const channels = pixelChannels(image);
  const rowScale = h / height;
  const colScale = w / width;
  for (let y = 0; y < height; y++) {
    const sy = y * rowScale;
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, h - 1);
    const dy = sy - y0;
    for (let x = 0; x < width; x++) {
      const sx = x * colScale;
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, w - 1);
      const dx = sx - x0;
      const a = (y0 * w + x0) * channels;
      const b = (y0 * w + x1) * channels;
      const c = (y1 * w + x0) * channels;
      const d = (y1 * w + x1) * channels;
      const o = at + (y * width + x) * 3;
      for (let k = 0; k < 3; k++) {
        const top = data[a + k]! + (data[b + k]! - data[a + k]!) * dx;
        const bottom = data[c + k]! + (data[d + k]! - data[c + k]!) * dx;
        out[o + k] = (top + (bottom - top) * dy) * scale + shift;
      }
    }
  }
}
