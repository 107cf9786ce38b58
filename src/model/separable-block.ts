import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { buildScope } from './build-scope.js';
import { XceptionConfigError } from '../errors.js';
import { batchNorm, relu, separableConv2d } from './layers.js';
import type { BlockActivation, Padding } from './presets.js';
import {
  requireFeatureMap,
  requireIntegerOrPair,
  requireName,
  requireOneOf,
  requireInteger,
  show,
} from './validation.js';

/**
 * The {@link separableBlock} function options.
 *
 * @example
 * ```ts
 * const options: SeparableBlockOptions = { filters: 256, activation: 'pre', name: 'block3_sepconv1' };
 * ```
 * @category Blocks
 */
export interface SeparableBlockOptions {
  /** Output channels of the pointwise convolution. Required. */
  filters: number;
  /** Depthwise kernel size. @defaultValue `3` */
  kernelSize?: number | [number, number];
  /** Depthwise strides; cannot be combined with `dilationRate` > 1. @defaultValue `1` */
  strides?: number | [number, number];
  /** Convolution padding. @defaultValue `'same'` */
  padding?: Padding;
  /** Whether the separable convolution has a bias (Xception: no, a BN follows). @defaultValue `false` */
  useBias?: boolean;
  /** Depthwise dilation rate. @defaultValue `1` */
  dilationRate?: number | [number, number];
  /**
   * Where the ReLU goes: `'post'` (SepConv → BN → ReLU, the course block),
   * `'pre'` (ReLU → SepConv → BN, the Keras order) or `'none'`.
   * @defaultValue `'post'`
   */
  activation?: BlockActivation;
  /**
   * Name of the separable convolution. The batch normalization is named
   * `${name}_bn` and the ReLU `${name}_act`, as in Keras Applications. Required,
   * so that every layer has a deterministic name.
   */
  name: string;
}

const ACTIVATIONS: readonly BlockActivation[] = ['pre', 'post', 'none'];
const PADDINGS: readonly Padding[] = ['same', 'valid'];

/**
 * The Xception building block: a depthwise separable convolution followed by
 * batch normalization, with a ReLU before (`'pre'`), after (`'post'`) or
 * nowhere (`'none'`). Composes on tfjs symbolic tensors like a Keras layer.
 *
 * @param x - A 4D symbolic tensor `[batch, height, width, channels]`.
 * @param options - See {@link SeparableBlockOptions}.
 * @returns The block's output tensor.
 * @throws {@link XceptionConfigError} for a bad option or input; nothing is left allocated.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { separableBlock } from 'xception-ts';
 *
 * const input = tf.input({ shape: [64, 64, 32] });
 * const y = separableBlock(input, { filters: 64, name: 'my_sepconv1' });
 * const model = tf.model({ inputs: input, outputs: y });
 * // layers: my_sepconv1, my_sepconv1_bn, my_sepconv1_act
 * ```
 * @category Blocks
 */
export function separableBlock(x: SymbolicTensor, options: SeparableBlockOptions): SymbolicTensor {
  requireFeatureMap('separableBlock input', x);
  if (options == null || typeof options !== 'object') {
    throw new XceptionConfigError(
      `separableBlock options must be an object with at least { filters, name }; got ${show(options)}.`,
    );
  }
  const name = requireName('separableBlock name', options.name, false);
  const filters = requireInteger(`${name}: filters`, options.filters, 1);
  const kernelSize = requireIntegerOrPair(`${name}: kernelSize`, options.kernelSize ?? 3, 1);
  const strides = requireIntegerOrPair(`${name}: strides`, options.strides ?? 1, 1);
  const dilationRate = requireIntegerOrPair(`${name}: dilationRate`, options.dilationRate ?? 1, 1);
  const padding = requireOneOf(`${name}: padding`, options.padding ?? 'same', PADDINGS);
  const activation = requireOneOf(`${name}: activation`, options.activation ?? 'post', ACTIVATIONS);
  const useBias = options.useBias ?? false;
  if (typeof useBias !== 'boolean') {
    throw new XceptionConfigError(`${name}: useBias must be true or false; got ${show(useBias)}.`);
  }
  if ([strides].flat().some((s) => s > 1) && [dilationRate].flat().some((d) => d > 1)) {
    throw new XceptionConfigError(
      `${name}: strides ${show(strides)} and dilationRate ${show(dilationRate)} cannot be combined; ` +
        'TensorFlow.js allows strides > 1 only with dilationRate 1.',
    );
  }

  return buildScope(() => {
    let y = x;
    if (activation === 'pre') y = relu(y, `${name}_act`);
    y = separableConv2d(y, { filters, kernelSize, strides, padding, dilationRate, useBias, name });
    y = batchNorm(y, `${name}_bn`);
    if (activation === 'post') y = relu(y, `${name}_act`);
    return y;
  });
}
