import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { atrousStep } from './atrous.js';
import { buildScope } from './build-scope.js';
import { downsamplingUnit } from './downsampling-unit.js';
import { resolveFlowBase, type FlowOptions } from './flow-options.js';
import { withBatchNormMomentum } from './layers.js';
import { separableBlock } from './separable-block.js';
import { requireFeatureMap, requireInteger, requireWidthPair } from './validation.js';

/**
 * The {@link exitFlow} function options.
 *
 * @example
 * ```ts
 * // After a middle flow of 4 units (blocks 5–8), the exit flow is blocks 9 and 10.
 * const options: ExitFlowOptions = { firstBlock: 9 };
 * ```
 * @category Blocks
 */
export interface ExitFlowOptions extends FlowOptions {
  /** Filters of the two separable blocks of the downsampling unit. @defaultValue the preset's, `[728, 1024]` */
  filters?: [number, number];
  /** Filters of the two final separable blocks. @defaultValue the preset's, `[1536, 2048]` */
  convFilters?: [number, number];
  /** Number of the downsampling unit's block, for layer names. @defaultValue `13` (after 8 middle units) */
  firstBlock?: number;
}

/**
 * Xception's exit flow: one downsampling unit (block 13: two separable
 * blocks, stride-2 max pool, 1×1 stride-2 shortcut) and two post-activation
 * separable blocks (block 14: 1536 and 2048 filters). Global pooling and the
 * classifier are added by {@link createXception}, not here.
 *
 * @param x - The middle flow's output.
 * @param options - See {@link ExitFlowOptions}.
 * @returns The final feature map (10×10×2048 for a 299×299 `'keras'` input).
 * @throws {@link XceptionConfigError} for a bad option or input.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { entryFlow, exitFlow, middleFlow } from 'xception-ts';
 *
 * const input = tf.input({ shape: [299, 299, 3] });
 * const features = exitFlow(middleFlow(entryFlow(input))); // [null, 10, 10, 2048]
 * const model = tf.model({ inputs: input, outputs: features });
 * ```
 * @category Blocks
 */
export function exitFlow(x: SymbolicTensor, options?: ExitFlowOptions): SymbolicTensor {
  requireFeatureMap('exitFlow input', x);
  const { preset, blockActivation, prefix, outputStride, inputReduction, batchNormMomentum } = resolveFlowBase('exitFlow', options, 16);
  const unitFilters = requireWidthPair('exitFlow: filters', options?.filters ?? preset.exitFilters);
  const convFilters = requireWidthPair('exitFlow: convFilters', options?.convFilters ?? preset.exitConvFilters);
  const firstBlock = requireInteger('exitFlow: firstBlock', options?.firstBlock ?? 13, 1);

  return withBatchNormMomentum(batchNormMomentum, () => buildScope(() => {
    const unit = `${prefix}block${firstBlock}`;
    const step = atrousStep(inputReduction, 2, outputStride);
    let y = downsamplingUnit(x, unit, unitFilters, [blockActivation, blockActivation], step);
    const { rate } = atrousStep(step.reductionAfter, 1, outputStride);
    const last = `${prefix}block${firstBlock + 1}`;
    y = separableBlock(y, { filters: convFilters[0], activation: 'post', dilationRate: rate, name: `${last}_sepconv1` });
    return separableBlock(y, { filters: convFilters[1], activation: 'post', dilationRate: rate, name: `${last}_sepconv2` });
  }));
}
