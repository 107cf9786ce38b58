import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { atrousStep } from './atrous.js';
import { buildScope } from './build-scope.js';
import { XceptionConfigError } from '../errors.js';
import { resolveFlowBase, type FlowOptions } from './flow-options.js';
import { add, withBatchNormMomentum } from './layers.js';
import { separableBlock } from './separable-block.js';
import { requireWithinLimit } from './limits.js';
import { requireFeatureMap, requireInteger } from './validation.js';

/**
 * The {@link middleFlow} function options.
 *
 * @example
 * ```ts
 * const options: MiddleFlowOptions = { repeats: 16, namePrefix: 'encoder_' };
 * ```
 * @category Blocks
 */
export interface MiddleFlowOptions extends FlowOptions {
  /** Number of residual units. @defaultValue the preset's, `8` */
  repeats?: number;
  /**
   * Filters of every separable convolution; must equal the input's channels,
   * since each unit adds its input back. @defaultValue the preset's, `728`
   */
  filters?: number;
  /** Number of the first unit's block, for layer names. @defaultValue `5` (after block 1 and entry blocks 2–4) */
  firstBlock?: number;
}

/**
 * Xception's middle flow: `repeats` residual units, each three separable
 * blocks of `filters` channels plus an identity shortcut, at constant spatial
 * size. Units are named `block5`, `block6`, … (`block{n}_sepconv{1,2,3}`,
 * `_bn`, `_act`, and `block{n}_add`).
 *
 * @param x - The entry flow's output, with `filters` channels.
 * @param options - See {@link MiddleFlowOptions}.
 * @returns The middle flow's output tensor (same shape as `x`).
 * @throws {@link XceptionConfigError} for a bad option or a channel count that differs from `filters`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { entryFlow, middleFlow } from 'xception-ts';
 *
 * const input = tf.input({ shape: [299, 299, 3] });
 * const features = middleFlow(entryFlow(input), { repeats: 4 }); // [null, 19, 19, 728]
 * ```
 * @category Blocks
 */
export function middleFlow(x: SymbolicTensor, options?: MiddleFlowOptions): SymbolicTensor {
  requireFeatureMap('middleFlow input', x);
  const { preset, blockActivation, prefix, outputStride, inputReduction, batchNormMomentum } = resolveFlowBase('middleFlow', options, 16);
  const { rate } = atrousStep(inputReduction, 1, outputStride);
  const repeats = requireWithinLimit(
    'middleFlow: repeats',
    requireInteger('middleFlow: repeats', options?.repeats ?? preset.middleRepeats, 0),
    'maxMiddleFlowRepeats',
  );
  const filters = requireInteger('middleFlow: filters', options?.filters ?? preset.middleFilters, 1);
  const firstBlock = requireInteger('middleFlow: firstBlock', options?.firstBlock ?? 5, 1);
  if (x.shape[3] !== filters) {
    throw new XceptionConfigError(
      `middleFlow: the input has ${x.shape[3]} channels but filters is ${filters}; ` +
        'the identity shortcuts need them equal.',
    );
  }

  return withBatchNormMomentum(batchNormMomentum, () => buildScope(() => {
    let y = x;
    for (let unit = 0; unit < repeats; unit++) {
      const block = `${prefix}block${firstBlock + unit}`;
      const shortcut = y;
      for (const conv of [1, 2, 3]) {
        y = separableBlock(y, { filters, activation: blockActivation, dilationRate: rate, name: `${block}_sepconv${conv}` });
      }
      y = add([y, shortcut], `${block}_add`);
    }
    return y;
  }));
}
