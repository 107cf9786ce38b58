import { XceptionConfigError } from '../errors.js';
import { pixelChannels } from './pixel-channels.js';

/*
 * timm's ImageNet eval transform (timm.data.transforms_imagenet_eval): resize
 * the shorter side to floor(size / cropPct) keeping the aspect ratio
 * (torchvision's Resize), bicubic as Pillow computes it (Keys' cubic,
 * a = -0.5, widened by the scale when downscaling, i.e. antialiased), then
 * crop the center size × size (torchvision's CenterCrop). Pure JS, no
 * TensorFlow.js, so that the ONNX classifier can use it too. Like Pillow's
 * 8-bit images, each pass rounds and clips to [0, 255]; Pillow's fixed-point
 * coefficients can still make a value differ by one level.
 */

/** The geometry of an eval transform: output size and crop fraction. @internal */
export interface EvalTransform {
  /** Output `[height, width]` (timm's `input_size`, square for every preset). */
  readonly size: readonly [number, number];
  /** timm's `crop_pct`, in (0, 1]. */
  readonly cropPct: number;
}

/**
 * Applies the eval transform to an interleaved image of `channels` (3 or 4;
 * alpha dropped) and writes `scale · v + shift` per RGB value into `out` at
 * `at`, NHWC. @internal
 */
export function writeEvalTransformedRgb(
  image: { data: ArrayLike<number>; width: number; height: number },
  transform: EvalTransform,
  out: Float32Array,
  at: number,
  scale: number,
  shift: number,
): void {
  const { data, width: w, height: h } = image;
  const channels = pixelChannels(image);
  const [outH, outW] = transform.size;
  const { cropPct } = transform;
  if (!(cropPct > 0 && cropPct <= 1)) throw new XceptionConfigError(`cropPct must be in (0, 1]; got ${cropPct}.`);
  // torchvision Resize(int): the shorter side becomes `resized`, the longer int(resized · long / short).
  const resized = Math.floor(Math.min(outH, outW) / cropPct);
  const [rh, rw] = w <= h ? [Math.trunc((resized * h) / w), resized] : [resized, Math.trunc((resized * w) / h)];
  if (rh < outH || rw < outW) {
    throw new XceptionConfigError(`the eval transform resizes to ${rw} × ${rh}, smaller than its ${outW} × ${outH} crop.`);
  }
  const top = roundHalfEven((rh - outH) / 2);
  const left = roundHalfEven((rw - outW) / 2);
  const cols = resampleWeights(w, rw, left, outW);
  const rows = resampleWeights(h, rh, top, outH);

  // Horizontal pass over the input rows the vertical pass needs, then the vertical pass.
  const firstRow = rows.first;
  const rowCount = rows.last - firstRow;
  const horizontal = new Float32Array(rowCount * outW * 3);
  for (let y = 0; y < rowCount; y++) {
    const rowBase = (firstRow + y) * w * channels;
    for (let x = 0; x < outW; x++) {
      const start = cols.start[x]!;
      const weights = cols.weights[x]!;
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < weights.length; k++) {
        const p = rowBase + (start + k) * channels;
        const wk = weights[k]!;
        r += wk * data[p]!;
        g += wk * data[p + 1]!;
        b += wk * data[p + 2]!;
      }
      const o = (y * outW + x) * 3;
      horizontal[o] = toByte(r);
      horizontal[o + 1] = toByte(g);
      horizontal[o + 2] = toByte(b);
    }
  }
  for (let y = 0; y < outH; y++) {
    const start = rows.start[y]! - firstRow;
    const weights = rows.weights[y]!;
    for (let x = 0; x < outW; x++) {
      const o = at + (y * outW + x) * 3;
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (let k = 0; k < weights.length; k++) v += weights[k]! * horizontal[((start + k) * outW + x) * 3 + c]!;
        out[o + c] = toByte(v) * scale + shift;
      }
    }
  }
}

/**
 * Pillow's resampling coefficients (`precompute_coeffs`, bicubic) for the
 * `count` outputs from `offset` of a resize from `inSize` to `outSize`.
 */
function resampleWeights(inSize: number, outSize: number, offset: number, count: number) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const start: number[] = [];
  const weights: Float64Array[] = [];
  let first = Infinity;
  let last = 0;
  for (let i = offset; i < offset + count; i++) {
    const center = (i + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
    const w = new Float64Array(xmax - xmin);
    let total = 0;
    for (let x = 0; x < w.length; x++) total += w[x] = bicubic((x + xmin - center + 0.5) / filterScale);
    if (total !== 0) for (let x = 0; x < w.length; x++) w[x]! /= total;
    start.push(xmin);
    weights.push(w);
    first = Math.min(first, xmin);
    last = Math.max(last, xmax);
  }
  return { start, weights, first, last };
}

/** Pillow's 8-bit images hold each pass's result rounded and clipped to [0, 255]. */
function toByte(v: number): number {
  return Math.min(255, Math.max(0, Math.round(v)));
}

/** Keys' cubic convolution kernel with a = -0.5 (Pillow's BICUBIC). */
function bicubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

/** Python's round(): halves to even. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}
