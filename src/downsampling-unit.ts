import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { add, batchNorm, conv2d, maxPool } from './layers.js';
import type { BlockActivation } from './presets.js';
import { separableBlock } from './separable-block.js';

/**
 * Two separable blocks, a stride-2 max pool and a strided 1×1 shortcut:
 * the unit of blocks 2–4 and 13. @internal
 */
export function downsamplingUnit(
  x: SymbolicTensor,
  block: string,
  filters: [number, number],
  activations: [BlockActivation, BlockActivation],
): SymbolicTensor {
  let residual = conv2d(x, { filters: filters[1], kernelSize: 1, strides: 2, padding: 'same', name: `${block}_residual_conv` });
  residual = batchNorm(residual, `${block}_residual_bn`);
  let y = separableBlock(x, { filters: filters[0], activation: activations[0], name: `${block}_sepconv1` });
  y = separableBlock(y, { filters: filters[1], activation: activations[1], name: `${block}_sepconv2` });
  y = maxPool(y, `${block}_pool`);
  return add([y, residual], `${block}_add`);
}
