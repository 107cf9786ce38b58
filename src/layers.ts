import { layers, type SymbolicTensor } from '@tensorflow/tfjs-layers';
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

/** A depthwise separable convolution (depth multiplier 1). */
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
  return apply(track(layers.separableConv2d({ ...options, depthMultiplier: 1 })), x);
}

/** Batch normalization with Keras' defaults (epsilon 1e-3, momentum 0.99). */
export function batchNorm(x: SymbolicTensor, name: string): SymbolicTensor {
  return apply(track(layers.batchNormalization({ axis: -1, epsilon: 1e-3, momentum: 0.99, name })), x);
}

/** A ReLU activation layer. */
export function relu(x: SymbolicTensor, name: string): SymbolicTensor {
  return apply(track(layers.activation({ activation: 'relu', name })), x);
}

/** 3×3, stride-2, 'same' max pooling: the downsampling of every Xception unit. */
export function maxPool(x: SymbolicTensor, name: string): SymbolicTensor {
  return apply(track(layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name })), x);
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

function apply(layer: { apply(x: SymbolicTensor): unknown }, x: SymbolicTensor): SymbolicTensor {
  return layer.apply(x) as SymbolicTensor;
}
