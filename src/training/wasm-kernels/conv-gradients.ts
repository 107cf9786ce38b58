import {
  conv2d,
  depthwiseConv2d,
  matMul,
  mul,
  reshape,
  reverse,
  slice,
  stack,
  ones,
  tidy,
  transpose,
  type NamedAttrMap,
  type Tensor4D,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { asTensor, convInfo, mapTaps, transposedConvFrame, type ConvAttrs } from './windows.js';

type KernelArgs = { inputs: Record<string, TensorInfo>; attrs?: NamedAttrMap };
type Shape4 = [number, number, number, number];

/**
 * dW of a convolution, one matrix product per filter tap:
 * dW[i, j]ᵀ = dyᵀ · xWindow(i, j), over every batch position. (dy is
 * transposed once, explicitly: the wasm backend's transposed matmul is ~10× slower.) @internal
 */
export function conv2DBackpropFilter({ inputs, attrs }: KernelArgs): TensorInfo {
  const a = attrs as unknown as ConvAttrs & { filterShape: Shape4 };
  return tidy(() => {
    const x = asTensor<Tensor4D>(inputs['x']!);
    const dy = asTensor<Tensor4D>(inputs['dy']!);
    const info = convInfo(x.shape, a.filterShape, a, false);
    const [kh, kw, inChannels, outChannels] = a.filterShape;
    const rows = info.batchSize * info.outHeight * info.outWidth;
    const dyT = transpose(reshape(dy, [rows, outChannels]));
    const perTap = mapTaps(x, info, 0, (window) => matMul(dyT, reshape(window, [rows, inChannels])));
    const stacked = reshape(perTap.length === 1 ? perTap[0]! : stack(perTap), [kh, kw, outChannels, inChannels]);
    return transpose(stacked, [0, 1, 3, 2]);
  });
}

/**
 * dx of a convolution: the transposed convolution, as a stride-1 convolution
 * of the zero-spread, framed dy with the filter flipped spatially and its
 * channel axes swapped. It replaces the wasm backend's own kernel, whose
 * direct loop is ~10× slower than the XNNPACK convolution used here. @internal
 */
export function conv2DBackpropInput({ inputs, attrs }: KernelArgs): TensorInfo {
  const a = attrs as unknown as ConvAttrs & { inputShape: Shape4 };
  return tidy(() => {
    const dy = asTensor<Tensor4D>(inputs['dy']!);
    const filter = asTensor<Tensor4D>(inputs['filter']!);
    const info = convInfo(a.inputShape, filter.shape, a, false);
    const flipped = transpose(flipSpatially(filter), [0, 1, 3, 2]);
    return conv2d(transposedConvFrame(dy, info), flipped, 1, 'valid', 'NHWC', [info.dilationHeight, info.dilationWidth]);
  });
}

/** dW[i, j, c, m] = Σ over batch and positions of xWindow(i, j)[c] · dy[c·M + m]. @internal */
export function depthwiseBackpropFilter({ inputs, attrs }: KernelArgs): TensorInfo {
  const a = attrs as unknown as ConvAttrs & { filterShape: Shape4 };
  return tidy(() => {
    const x = asTensor<Tensor4D>(inputs['x']!);
    const dy = asTensor<Tensor4D>(inputs['dy']!);
    const info = convInfo(x.shape, a.filterShape, a, true);
    const [kh, kw, channels, multiplier] = a.filterShape;
    const [batch, outHeight, outWidth] = dy.shape;
    const dyPerChannel = multiplier === 1 ? dy : reshape(dy, [batch, outHeight, outWidth, channels, multiplier]);
    const rows = batch * outHeight * outWidth;
    // Σ over rows as a product with a row of ones: wasm reduces only along the last axis,
    // so sum(…, [0, 1, 2]) would first transpose the whole product.
    const sumRows = ones([1, rows]);
    const perTap = mapTaps(x, info, 0, (window) => {
      const w = multiplier === 1 ? window : reshape(window, [batch, outHeight, outWidth, channels, 1]);
      return matMul(sumRows, reshape(mul(w, dyPerChannel), [rows, channels * multiplier]));
    });
    return reshape(stack(perTap), [kh, kw, channels, multiplier]);
  });
}

/**
 * dx of a depthwise convolution: a stride-1 depthwise convolution of the
 * zero-spread, framed dy with the spatially flipped filter, one per channel
 * multiplier, summed. @internal
 */
export function depthwiseBackpropInput({ inputs, attrs }: KernelArgs): TensorInfo {
  const a = attrs as unknown as ConvAttrs & { inputShape: Shape4 };
  return tidy(() => {
    const dy = asTensor<Tensor4D>(inputs['dy']!);
    const filter = asTensor<Tensor4D>(inputs['filter']!);
    const info = convInfo(a.inputShape, filter.shape, a, true);
    const [, , channels, multiplier] = filter.shape;
    const framed = transposedConvFrame(dy, info);
    const flipped = flipSpatially(filter);
    const dilations: [number, number] = [info.dilationHeight, info.dilationWidth];
    if (multiplier === 1) return depthwiseConv2d(framed, flipped, 1, 'valid', 'NHWC', dilations);
    const [b, h, w] = framed.shape;
    const perChannel = reshape(framed, [b, h, w, channels, multiplier]);
    const parts = Array.from({ length: multiplier }, (_, m) =>
      depthwiseConv2d(
        reshape(slice(perChannel, [0, 0, 0, 0, m], [-1, -1, -1, -1, 1]), [b, h, w, channels]) as Tensor4D,
        slice(flipped, [0, 0, 0, m], [-1, -1, -1, 1]) as Tensor4D,
        1,
        'valid',
        'NHWC',
        dilations,
      ),
    );
    return parts.reduce((total, part) => total.add(part));
  });
}

/** The filter rotated by 180° in its two spatial axes (a no-op for 1×1 filters, the common case). */
function flipSpatially(filter: Tensor4D): Tensor4D {
  const [kh, kw] = filter.shape;
  return kh === 1 && kw === 1 ? filter : reverse(filter, [0, 1]);
}
