/*
 * One image into a batch buffer: resized (bilinear, half-pixel centres, as
 * TensorFlow's tf.image.resize that Keras' image_dataset_from_directory uses)
 * or centred on a larger canvas, optionally cropped at a random place and
 * flipped, then scaled as the model expects. Plain JavaScript on the bytes:
 * no tensors until the batch is complete.
 */

/** Decoded pixels, row-major, `channels` values per pixel. @internal */
export interface SourcePixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: number;
}

/** Where the output samples its source: an augmentation, or none. @internal */
export interface Placement {
  /** Zoom factor of the random crop (1: none): the image is sized ×zoom, then cut to the output. */
  zoom: number;
  /** Crop offset in [0, 1]: 0 top/left, 1 bottom/right, 0.5 centred. */
  top: number;
  left: number;
  flip: boolean;
}

/** No augmentation. @internal */
export const CENTRED: Placement = { zoom: 1, top: 0.5, left: 0.5, flip: false };

/** How to turn 0–255 into the model's input. @internal */
export type PixelScale = 'xception' | 'none';

/**
 * Writes `source` as `height × width × channels` floats at `out[offset…]`.
 * `fit` 'resize' stretches the source to the output (Keras' default);
 * 'pad' centres it on a canvas of zeros when it is not larger than the output
 * (Fashion-MNIST's 28×28 on 32×32), shifting it by the crop instead of zooming.
 * @internal
 */
export function sampleImage(
  source: SourcePixels,
  out: Float32Array,
  offset: number,
  size: { height: number; width: number; channels: number },
  placement: Placement,
  fit: 'resize' | 'pad',
  scale: PixelScale,
): void {
  const { height, width, channels } = size;
  const value = scale === 'xception' ? (v: number) => v / 127.5 - 1 : (v: number) => v;
  const padded = fit === 'pad' && source.height <= height && source.width <= width;
  if (padded) {
    // Centred, shifted by up to (zoom − 1)·size/2 pixels each way.
    const reachY = Math.round(((placement.zoom - 1) * height) / 2);
    const reachX = Math.round(((placement.zoom - 1) * width) / 2);
    const top = ((height - source.height) >> 1) + Math.round((placement.top * 2 - 1) * reachY);
    const left = ((width - source.width) >> 1) + Math.round((placement.left * 2 - 1) * reachX);
    out.fill(value(0), offset, offset + height * width * channels);
    for (let y = 0; y < source.height; y++) {
      const ty = y + top;
      if (ty < 0 || ty >= height) continue;
      for (let x = 0; x < source.width; x++) {
        const tx = (placement.flip ? source.width - 1 - x : x) + left;
        if (tx < 0 || tx >= width) continue;
        for (let c = 0; c < channels; c++) out[offset + (ty * width + tx) * channels + c] = value(pixel(source, y, x, c));
      }
    }
    return;
  }
  // Resize to (height, width)·zoom, then cut (height, width) at the crop offset.
  const loadHeight = Math.round(height * placement.zoom);
  const loadWidth = Math.round(width * placement.zoom);
  const top = Math.round(placement.top * (loadHeight - height));
  const left = Math.round(placement.left * (loadWidth - width));
  const scaleY = source.height / loadHeight;
  const scaleX = source.width / loadWidth;
  for (let y = 0; y < height; y++) {
    const sy = Math.min(Math.max((y + top + 0.5) * scaleY - 0.5, 0), source.height - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, source.height - 1);
    const fy = sy - y0;
    for (let x = 0; x < width; x++) {
      const ox = placement.flip ? width - 1 - x : x;
      const sx = Math.min(Math.max((x + left + 0.5) * scaleX - 0.5, 0), source.width - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, source.width - 1);
      const fx = sx - x0;
      for (let c = 0; c < channels; c++) {
        const topRow = pixel(source, y0, x0, c) + (pixel(source, y0, x1, c) - pixel(source, y0, x0, c)) * fx;
        const bottomRow = pixel(source, y1, x0, c) + (pixel(source, y1, x1, c) - pixel(source, y1, x0, c)) * fx;
        out[offset + (y * width + ox) * channels + c] = value(topRow + (bottomRow - topRow) * fy);
      }
    }
  }
}

/** Channel `c` of a pixel; a one-channel source serves every channel (gray → RGB). */
function pixel(source: SourcePixels, y: number, x: number, c: number): number {
  return source.data[(y * source.width + x) * source.channels + (source.channels === 1 ? 0 : c)]!;
}
