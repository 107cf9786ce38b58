import { int, ints, type GraphWriter } from './graph-writer.js';

/**
 * A depthwise convolution (stride 1, dilation 1, multiplier 1) on ONNX Runtime's CPU NCHWc
 * kernel, `com.microsoft.nchwc` `Conv`, which reads its filter as an ordinary input — so it
 * serves a training graph, where the weights change every step, unlike the NCHWc path ONNX
 * Runtime picks by itself for constant weights only. The input is reordered into channel blocks
 * (`ReorderInput`) and back (`ReorderOutput`); the [C, 1, kh, kw] filter is padded to whole
 * blocks and laid out as MLAS' OIHWBo ([C/B, 1, kh, kw, B]). At Xception's shapes this ran
 * 1.3–5× faster than the standard Conv with the filter as an input, reorders included (bench:
 * onnx-op-variants.ts, "dw fwd"). CPU provider only. Internal.
 *
 * @param block ONNX Runtime's NCHWc block on this machine (8 with AVX2, 16 with AVX-512): see
 *   `nchwcBlockSize`.
 * @param channels a multiple of 4 (what `ReorderInput` takes).
 */
export function nchwcDepthwiseConv(
  g: GraphWriter,
  x: string,
  kernel: string,
  channels: number,
  kernelShape: readonly [number, number],
  pads: readonly number[],
  block: number,
  hint: string,
): string {
  const padded = Math.ceil(channels / block) * block;
  const [kh, kw] = kernelShape;
  const whole = padded > channels ? g.op('Pad', [kernel, g.int64s([0, 0, 0, 0, padded - channels, 0, 0, 0])], `${hint}/kernel_padded`) : kernel;
  const blocks = g.op('Reshape', [whole, g.int64s([padded / block, block, kh * kw])], `${hint}/kernel_blocks`);
  const blocked = g.op('Transpose', [blocks], `${hint}/kernel_bo`, [ints('perm', [0, 2, 1])]);
  const filter = g.op('Reshape', [blocked, g.int64s([padded, 1, kh, kw])], `${hint}/kernel_nchwc`);
  const input = g.domainOp(NCHWC, 'ReorderInput', [x], `${hint}/input_nchwc`);
  const output = g.domainOp(NCHWC, 'Conv', [input, filter], `${hint}/nchwc`, [ints('kernel_shape', kernelShape), ints('pads', pads), int('group', padded)]);
  return g.domainOp(NCHWC, 'ReorderOutput', [output], hint, [int('channels', channels)]);
}

/** ONNX Runtime's operator set of its NCHWc CPU kernels. */
export const NCHWC = 'com.microsoft.nchwc';

/** Whether {@link nchwcDepthwiseConv} takes this convolution. */
export function nchwcTakes(channels: number, strides: readonly number[], dilations: readonly number[]): boolean {
  return channels % 4 === 0 && strides.every((s) => s === 1) && dilations.every((d) => d === 1);
}
