import { add, backend_util, engine, pad, reshape, slice, stack, stridedSlice, tidy, zeros, type Tensor, type Tensor4D, type TensorInfo } from '@tensorflow/tfjs-core';
import { XceptionConfigError } from '../../errors.js';

/** A padding as tfjs kernels take it. @internal */
export type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;
/** A size or a [height, width] pair. @internal */
export type Pair = number | [number, number];
/** The attributes every convolution gradient kernel has. @internal */
export type ConvAttrs = { strides: Pair; pad: Pad; dilations?: Pair; dimRoundingMode?: 'floor' | 'round' | 'ceil'; dataFormat?: string };

/**
 * A tensor over a kernel input's data, through the backend's Identity kernel so
 * that the data's reference count goes up (a bare `makeTensorFromTensorInfo`
 * wrapper would free the caller's input when the surrounding tidy disposes it). @internal
 */
export const asTensor = <T extends Tensor>(info: TensorInfo): T => engine().runKernel('Identity', { x: info as Tensor }) as T;

/** The geometry of a convolution (NHWC only). @internal */
export function convInfo(xShape: number[], filterShape: number[], attrs: ConvAttrs, depthwise: boolean): backend_util.Conv2DInfo {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC' && attrs.dataFormat !== 'channelsLast') {
    throw new XceptionConfigError(`enableWasmTraining's kernels support dataFormat 'NHWC' only; got '${attrs.dataFormat}'.`);
  }
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
  );
}

/**
 * Calls `use` with the input window of each filter tap of a convolution or
 * pool, in row-major tap order: for tap (i, j), the `[batch, outHeight,
 * outWidth, channels]` values it multiplies (or compares), with padding
 * filled by `padValue`. Each window is freed once `use` returns (one window
 * lives at a time); the results are kept. @internal
 */
export function mapTaps<R extends Tensor>(
  x: Tensor4D,
  info: backend_util.Conv2DInfo,
  padValue: number,
  use: (window: Tensor4D, i: number, j: number) => R,
): R[] {
  const { padInfo, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, outHeight, outWidth } = info;
  // Pad enough for the last window of every tap (the 'valid' remainder is never read).
  const needH = (info.filterHeight - 1) * dh + (outHeight - 1) * sh + 1;
  const needW = (info.filterWidth - 1) * dw + (outWidth - 1) * sw + 1;
  const bottom = Math.max(needH - info.inHeight - padInfo.top, 0);
  const right = Math.max(needW - info.inWidth - padInfo.left, 0);
  const padded = padInfo.top || bottom || padInfo.left || right
    ? pad(x, [[0, 0], [padInfo.top, bottom], [padInfo.left, right], [0, 0]], padValue)
    : x;
  const [batch, , , channels] = x.shape;
  const results: R[] = [];
  for (let i = 0; i < info.filterHeight; i++) {
    for (let j = 0; j < info.filterWidth; j++) {
      results.push(
        tidy(() => {
          const begin = [0, i * dh, j * dw, 0];
          const window = sh === 1 && sw === 1
            ? (slice(padded, begin, [batch, outHeight, outWidth, channels]) as Tensor4D)
            : (stridedSlice(padded, begin, [batch, i * dh + (outHeight - 1) * sh + 1, j * dw + (outWidth - 1) * sw + 1, channels], [1, sh, sw, 1]) as Tensor4D);
          return use(window, i, j);
        }),
      );
    }
  }
  if (padded !== x) padded.dispose();
  return results;
}

/**
 * dy of a strided convolution laid out for the transposed convolution that
 * computes dx: stride − 1 zeros between its values, then padded (or cropped)
 * so that a stride-1 'valid' convolution with the spatially flipped filter
 * yields exactly `inputShape`'s height and width. @internal
 */
export function transposedConvFrame(dy: Tensor4D, info: backend_util.Conv2DInfo): Tensor4D {
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, padInfo, inHeight, inWidth } = info;
  const spread = insertZeros(dy, sh, sw);
  const [, spreadH, spreadW] = spread.shape;
  const top = (info.filterHeight - 1) * dh - padInfo.top;
  const left = (info.filterWidth - 1) * dw - padInfo.left;
  const bottom = inHeight + (info.filterHeight - 1) * dh - spreadH - top;
  const right = inWidth + (info.filterWidth - 1) * dw - spreadW - left;
  return cropOrPad(spread, top, bottom, left, right);
}

/** [b, h, w, c] → [b, (h−1)·sh + 1, (w−1)·sw + 1, c] with sh − 1 (sw − 1) zero rows (columns) between values. @internal */
export function insertZeros(t: Tensor4D, sh: number, sw: number): Tensor4D {
  const [b, h, w, c] = t.shape;
  let out: Tensor4D = t;
  if (sh > 1) {
    // Each row is followed by sh − 1 zero rows: pad a unit axis after the row axis, then fold it in.
    const spread = reshape(pad(reshape(out, [b, h, 1, w * c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0]]), [b, h * sh, w, c]);
    out = slice(spread, [0, 0, 0, 0], [b, (h - 1) * sh + 1, w, c]) as Tensor4D;
  }
  if (sw > 1) {
    const rows = out.shape[1];
    const spread = reshape(pad(reshape(out, [b * rows, w, 1, c]), [[0, 0], [0, 0], [0, sw - 1], [0, 0]]), [b, rows, w * sw, c]);
    out = slice(spread, [0, 0, 0, 0], [b, rows, (w - 1) * sw + 1, c]) as Tensor4D;
  }
  return out;
}

/** Pads (positive amounts) or crops (negative amounts) the two spatial axes. @internal */
export function cropOrPad(t: Tensor4D, top: number, bottom: number, left: number, right: number): Tensor4D {
  const [b, h, w, c] = t.shape;
  let out = t;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [t0, l0] = [Math.max(-top, 0), Math.max(-left, 0)];
    out = slice(out, [0, t0, l0, 0], [b, h - t0 - Math.max(-bottom, 0), w - l0 - Math.max(-right, 0), c]) as Tensor4D;
  }
  const [pt, pb, pl, pr] = [top, bottom, left, right].map((n) => Math.max(n, 0)) as [number, number, number, number];
  return pt || pb || pl || pr ? pad(out, [[0, 0], [pt, pb], [pl, pr], [0, 0]]) : out;
}

/**
 * The inverse of {@link mapTaps}: adds each tap's `[batch, outHeight,
 * outWidth, channels]` values back at the input positions the tap read, and
 * returns the `[batch, inHeight, inWidth, channels]` sum.
 *
 * Positions are grouped by phase (row mod stride, column mod stride): within
 * a phase, a tap is the output grid shifted by whole cells, so each tap costs
 * one pad and one add at output size; the phases are interleaved once at the
 * end. @internal
 */
export function scatterTaps(values: Tensor4D[], info: backend_util.Conv2DInfo): Tensor4D {
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, padInfo, outHeight, outWidth } = info;
  const [batch, , , channels] = values[0]!.shape;
  const extraH = Math.floor(((info.filterHeight - 1) * dh) / sh);
  const extraW = Math.floor(((info.filterWidth - 1) * dw) / sw);
  const phaseShape: [number, number, number, number] = [batch, outHeight + extraH, outWidth + extraW, channels];
  const phases: (Tensor4D | undefined)[][] = Array.from({ length: sh }, () => Array<Tensor4D | undefined>(sw));
  values.forEach((value, k) => {
    {
      const [r, c] = [Math.floor(k / info.filterWidth) * dh, (k % info.filterWidth) * dw];
      const [shiftH, shiftW] = [Math.floor(r / sh), Math.floor(c / sw)];
      const shifted = pad(value, [[0, 0], [shiftH, extraH - shiftH], [shiftW, extraW - shiftW], [0, 0]]) as Tensor4D;
      const current = phases[r % sh]![c % sw];
      phases[r % sh]![c % sw] = current ? (add(current, shifted) as Tensor4D) : shifted;
    }
  });
  // padded[b, y·sh + a, x·sw + e, c] = phases[a][e][b, y, x, c]
  const rows = phases.map((row) => {
    const filled = row.map((phase) => phase ?? (zeros(phaseShape) as Tensor4D));
    return sw === 1 ? filled[0]! : reshape(stack(filled, 3), [batch, phaseShape[1], phaseShape[2] * sw, channels]);
  });
  const padded = (sh === 1 ? rows[0]! : reshape(stack(rows, 2), [batch, phaseShape[1] * sh, phaseShape[2] * sw, channels])) as Tensor4D;
  const [, paddedH, paddedW] = padded.shape;
  return cropOrPad(padded, -padInfo.top, info.inHeight + padInfo.top - paddedH, -padInfo.left, info.inWidth + padInfo.left - paddedW);
}
