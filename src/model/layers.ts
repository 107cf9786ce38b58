import { layers, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { AtrousDepthwiseConv2D, AtrousSeparableConv2D, registerXceptionLayers } from './atrous-layers.js';
import { track } from './build-scope.js';
import type { Padding } from './presets.js';

/*
 * Thin, always-named constructors for the tfjs layers Xception is made of.
 * Every layer is registered with the open build scope (see build-scope.ts) and
 * has no bias where a BatchNormalization follows, as in Keras Applications.
 */

/** A 2D convolution without bias. */
export function conv2d(
  x: SymbolicTensor,
  options: { filters: number; kernelSize: number; strides: number; padding: Padding; name: string },
): SymbolicTensor {
  return apply(track(layers.conv2d({ ...options, useBias: false })), x);
}

/**
 * A depthwise separable convolution (depth multiplier 1). Dilated ones use
 * {@link AtrousSeparableConv2D}, which trains in tfjs (same weights).
 */
export function separableConv2d(
  x: SymbolicTensor,
  options: {
    filters: number;
    kernelSize: number | [number, number];
    strides: number | [number, number];
    padding: Padding;
    dilationRate: number | [number, number];
    useBias: boolean;
    name: string;
  },
): SymbolicTensor {
  const rate = pair(options.dilationRate);
  if (rate[0] > 1 || rate[1] > 1) {
    registerXceptionLayers();
    const { filters, kernelSize, useBias, name } = options;
    return apply(track(new AtrousSeparableConv2D({ filters, kernelSize: pair(kernelSize), dilationRate: rate, useBias, name })), x);
  }
  return apply(track(layers.separableConv2d({ ...options, depthMultiplier: 1 })), x);
}

/**
 * A depthwise convolution without bias, 'same' unless told otherwise; dilated
 * ones use {@link AtrousDepthwiseConv2D} (always 'same').
 */
export function depthwiseConv2d(
  x: SymbolicTensor,
  options: { kernelSize: number; strides: number; dilationRate: number; name: string; padding?: Padding },
): SymbolicTensor {
  const { kernelSize, strides, dilationRate, name, padding = 'same' } = options;
  if (dilationRate > 1) {
    registerXceptionLayers();
    const layer = new AtrousDepthwiseConv2D({ kernelSize: [kernelSize, kernelSize], dilationRate: [dilationRate, dilationRate], useBias: false, name });
    return apply(track(layer), x);
  }
  return apply(track(layers.depthwiseConv2d({ kernelSize, strides, padding, depthMultiplier: 1, useBias: false, name })), x);
}

/** Keras' BatchNormalization momentum, the default of every model. */
export const DEFAULT_BATCH_NORM_MOMENTUM = 0.99;

let batchNormMomentum = DEFAULT_BATCH_NORM_MOMENTUM;

/**
 * Runs `build` with every {@link batchNorm} it creates using `momentum`
 * (`undefined`: the enclosing setting), then restores the previous one.
 */
export function withBatchNormMomentum<T>(momentum: number | undefined, build: () => T): T {
  if (momentum === undefined) return build();
  const previous = batchNormMomentum;
  batchNormMomentum = momentum;
  try {
    return build();
  } finally {
    batchNormMomentum = previous;
  }
}

/**
 * Batch normalization with Keras' defaults (epsilon 1e-3 unless given, momentum 0.99, or
 * the momentum of the enclosing {@link withBatchNormMomentum}).
 */
export function batchNorm(x: SymbolicTensor, name: string, epsilon = 1e-3): SymbolicTensor {
  return apply(track(layers.batchNormalization({ axis: -1, epsilon, momentum: batchNormMomentum, name })), x);
}

/**
 * Zero padding of `amount` pixels on every side of height and width: with a
 * 'valid' convolution after it, DeepLab's `fixed_padding` (and timm's
 * symmetric padding), which TF 'same' is not for strided convolutions.
 */
export function zeroPad(x: SymbolicTensor, amount: number, name: string): SymbolicTensor {
  return apply(track(layers.zeroPadding2d({ padding: [[amount, amount], [amount, amount]], name })), x);
}

/** A ReLU activation layer. */
export function relu(x: SymbolicTensor, name: string): SymbolicTensor {
  return apply(track(layers.activation({ activation: 'relu', name })), x);
}

/** 3×3 'same' max pooling: the downsampling (stride 2) of every classic Xception unit. */
export function maxPool(x: SymbolicTensor, strides: number, name: string): SymbolicTensor {
  return apply(track(layers.maxPooling2d({ poolSize: 3, strides, padding: 'same', name })), x);
}

/** Element-wise sum of a unit's output and its shortcut. */
export function add(inputs: SymbolicTensor[], name: string): SymbolicTensor {
  return track(layers.add({ name })).apply(inputs) as SymbolicTensor;
}

/** Global average or max pooling over height and width. */
export function globalPool(x: SymbolicTensor, kind: 'avg' | 'max', name: string): SymbolicTensor {
  const layer = kind === 'avg' ? layers.globalAveragePooling2d({ name }) : layers.globalMaxPooling2d({ name });
  return apply(track(layer), x);
}

/** Dropout before the classifier. */
export function dropout(x: SymbolicTensor, rate: number, name: string): SymbolicTensor {
  return apply(track(layers.dropout({ rate, name })), x);
}

/** The classifier: a dense layer with bias. */
export function dense(
  x: SymbolicTensor,
  options: { units: number; activation: 'softmax' | 'linear'; name: string },
): SymbolicTensor {
  return apply(track(layers.dense(options)), x);
}

function pair(value: number | [number, number]): [number, number] {
  return typeof value === 'number' ? [value, value] : value;
}

function apply(layer: { apply(x: SymbolicTensor): unknown }, x: SymbolicTensor): SymbolicTensor {
  return layer.apply(x) as SymbolicTensor;
}
