import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { add, batchNorm, conv2d, maxPool } from './layers.js';
import type { BlockActivation } from './presets.js';
import { separableBlock } from './separable-block.js';

/**
 * Two separable blocks, a 3×3 max pool and a 1×1 shortcut convolution + BN,
 * both with the unit's stride (2, or 1 once the output stride is reached, when
 * the separable convolutions dilate by `rate` instead): the unit of blocks 2–4
 * and 13. @internal
 */
export function downsamplingUnit(
  x: SymbolicTensor,
  block: string,
  filters: [number, number],
  activations: [BlockActivation, BlockActivation],
  step: { stride: number; rate: number },
): SymbolicTensor {
  const { stride, rate } = step;
  let residual = conv2d(x, { filters: filters[1], kernelSize: 1, strides: stride, padding: 'same', name: `${block}_residual_conv` });
  residual = batchNorm(residual, `${block}_residual_bn`);
  let y = separableBlock(x, { filters: filters[0], activation: activations[0], dilationRate: rate, name: `${block}_sepconv1` });
  y = separableBlock(y, { filters: filters[1], activation: activations[1], dilationRate: rate, name: `${block}_sepconv2` });
  y = maxPool(y, stride, `${block}_pool`);
  return add([y, residual], `${block}_add`);
}
