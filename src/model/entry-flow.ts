import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { atrousStep } from './atrous.js';
import { buildScope } from './build-scope.js';
import { XceptionConfigError } from '../errors.js';
import { resolveFlowBase, type FlowOptions } from './flow-options.js';
import { downsamplingUnit } from './downsampling-unit.js';
import { batchNorm, conv2d, relu, withBatchNormMomentum } from './layers.js';
import type { Padding } from './presets.js';
import { requireFeatureMap, requireOneOf, requireWidthPair, requireWidths } from './validation.js';

/**
 * The {@link entryFlow} function options.
 *
 * @example
 * ```ts
 * const options: EntryFlowOptions = { preset: 'postact', filters: [64, 128, 256] };
 * ```
 * @category Blocks
 */
export interface EntryFlowOptions extends FlowOptions {
  /** Filters of the two 3×3 stem convolutions. @defaultValue the preset's, `[32, 64]` */
  stemFilters?: [number, number];
  /** Padding of the stem convolutions. @defaultValue the preset's (`'valid'` for `'keras'`) */
  stemPadding?: Padding;
  /** Output filters of each downsampling unit (blocks 2, 3, …). @defaultValue the preset's, `[128, 256, 728]` */
  filters?: number[];
}

/**
 * Xception's entry flow: the stem (block 1: two 3×3 convolutions, each with
 * BN and ReLU, the first with stride 2) and one downsampling unit per entry in
 * `filters` (blocks 2, 3, 4): two separable blocks, a 3×3 stride-2 max pool,
 * and a 1×1 stride-2 convolution + BN on the shortcut, added together.
 *
 * Layer names follow Keras Applications (`block1_conv1`, `block2_sepconv1_bn`,
 * `block2_pool`, …); the layers Keras leaves unnamed are named
 * `block{n}_residual_conv`, `block{n}_residual_bn` and `block{n}_add`.
 * In the pre-activation style the first separable block has no leading ReLU,
 * since the stem already ends with one (exactly as in Keras).
 *
 * The output is 1/16 of the input's spatial size (for 299: 19×19×728 with
 * `'keras'`) and is the input of {@link middleFlow}.
 *
 * @param x - The image input, `[batch, height, width, channels]`.
 * @param options - See {@link EntryFlowOptions}.
 * @returns The entry flow's output tensor.
 * @throws {@link XceptionConfigError} for a bad option or an input too small for the graph.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { entryFlow } from 'xception-ts';
 *
 * const input = tf.input({ shape: [299, 299, 3] });
 * const features = entryFlow(input); // [null, 19, 19, 728]
 * ```
 * @category Blocks
 */
export function entryFlow(x: SymbolicTensor, options?: EntryFlowOptions): SymbolicTensor {
  requireFeatureMap('entryFlow input', x);
  const { preset, blockActivation, prefix, outputStride, inputReduction, batchNormMomentum } = resolveFlowBase('entryFlow', options, 1);
  const stemFilters = requireWidthPair('entryFlow: stemFilters', options?.stemFilters ?? preset.stemFilters);
  const stemPadding = requireOneOf(
    'entryFlow: stemPadding',
    options?.stemPadding ?? preset.stemPadding,
    ['valid', 'same'] as const,
  );
  const filters = requireWidths('entryFlow: filters', options?.filters ?? preset.entryFilters);
  // A 'valid' stem maps s → floor((s - 3) / 2) + 1 → that - 2, so it needs s >= 7; a 'same' stem takes any size.
  const smallestInput = stemPadding === 'valid' ? 7 : 1;
  (['height', 'width'] as const).forEach((label, axis) => {
    const size = x.shape[axis + 1];
    if (size != null && size < smallestInput) {
      throw new XceptionConfigError(
        `entryFlow: input ${label} ${size} is too small for a '${stemPadding}' stem ` +
          `(two 3×3 convolutions, the first with stride 2); it needs at least ${smallestInput}.`,
      );
    }
  });

  return withBatchNormMomentum(batchNormMomentum, () => buildScope(() => {
    // Block 1: the stem. Its stride 2 never exceeds an output stride of 8 or more.
    let reduction = inputReduction * 2;
    let y = conv2d(x, { filters: stemFilters[0], kernelSize: 3, strides: 2, padding: stemPadding, name: `${prefix}block1_conv1` });
    y = batchNorm(y, `${prefix}block1_conv1_bn`);
    y = relu(y, `${prefix}block1_conv1_act`);
    y = conv2d(y, { filters: stemFilters[1], kernelSize: 3, strides: 1, padding: stemPadding, name: `${prefix}block1_conv2` });
    y = batchNorm(y, `${prefix}block1_conv2_bn`);
    y = relu(y, `${prefix}block1_conv2_act`);

    // Blocks 2, 3, …: downsampling units with a 1×1 convolution on the shortcut.
    filters.forEach((width, unit) => {
      const block = `${prefix}block${unit + 2}`;
      // The stem ends with a ReLU, so a pre-activation first unit starts without one.
      const firstActivation = blockActivation === 'pre' && unit === 0 ? 'none' : blockActivation;
      const step = atrousStep(reduction, 2, outputStride);
      y = downsamplingUnit(y, block, [width, width], [firstActivation, blockActivation], step);
      reduction = step.reductionAfter;
    });
    return y;
  }));
}
