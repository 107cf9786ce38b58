import { batchToSpaceND, depthwiseConv2d, spaceToBatchND, type Tensor4D } from '@tensorflow/tfjs-core';

/**
 * Output strides a model can be built for: the largest reduction of the input
 * it reaches (DeepLab's `output_stride`).
 *
 * @example
 * ```ts
 * const outputStride: OutputStride = 16;
 * createXceptionBackbone({ outputStride }); // last feature map at 1/16 of the input
 * ```
 * @category Backbone
 */
export type OutputStride = 8 | 16 | 32;

/** Stride and dilation rate of one downsampling step, after the output-stride rule. @internal */
export interface AtrousStep {
  /** The stride the unit actually uses: its nominal stride, or 1 once the output stride is reached. */
  stride: number;
  /** The dilation rate of the unit's convolutions. */
  rate: number;
  /** The nominal reduction after the unit (the product of all nominal strides so far). */
  reductionAfter: number;
}

/**
 * DeepLab's output-stride rule for one unit: while the running stride is below
 * `outputStride`, a unit keeps its stride; once the stride would exceed it, the
 * unit runs at stride 1 and every later unit dilates its convolutions by the
 * strides it gave up. The unit itself uses the rate reached *before* it.
 *
 * @param reductionBefore - Nominal reduction of the unit's input (1 for the image).
 * @param stride - The unit's nominal stride.
 * @param outputStride - The largest reduction the network may reach.
 * @internal
 */
export function atrousStep(reductionBefore: number, stride: number, outputStride: number): AtrousStep {
  const rate = Math.max(1, reductionBefore / outputStride);
  const keep = reductionBefore * stride <= outputStride;
  return { stride: keep ? stride : 1, rate, reductionAfter: reductionBefore * stride };
}

/**
 * A 'same'-padded depthwise convolution dilated by `rate`, computed as
 * space-to-batch → undilated 'valid' depthwise convolution → batch-to-space
 * (as TensorFlow's `with_space_to_batch`). Unlike `tf.depthwiseConv2d` with
 * `dilations > 1`, every op here has a gradient in TensorFlow.js, and the wasm
 * backend has all of them.
 *
 * @param x - `[batch, height, width, channels]`.
 * @param kernel - `[kh, kw, channels, 1]`, odd sizes.
 * @param rate - Dilation rate per spatial axis.
 * @internal
 */
export function atrousDepthwiseConv2d(x: Tensor4D, kernel: Tensor4D, rate: [number, number]): Tensor4D {
  const [, height, width] = x.shape;
  const pads: [number, number][] = [];
  const crops: [number, number][] = [];
  [height, width].forEach((size, axis) => {
    const r = rate[axis]!;
    const total = r * (kernel.shape[axis]! - 1); // the dilated kernel's 'same' padding
    const before = Math.floor(total / 2);
    const extra = (r - ((size + total) % r)) % r; // makes the padded size divisible by r
    pads.push([before, total - before + extra]);
    crops.push([0, extra]);
  });
  const blocks = spaceToBatchND(x, rate, pads) as Tensor4D;
  const filtered = depthwiseConv2d(blocks, kernel, 1, 'valid');
  return batchToSpaceND(filtered, rate, crops) as Tensor4D;
}
