import { getKernel, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';
import { explicitTransposes } from './wasm-kernels/batch-mat-mul.js';
import {
  conv2DBackpropFilter,
  conv2DBackpropInput,
  depthwiseBackpropFilter,
  depthwiseBackpropInput,
} from './wasm-kernels/conv-gradients.js';
import { maxPoolGrad } from './wasm-kernels/max-pool-gradient.js';

/** Kernels the wasm backend lacks: added unless someone registered them already. */
const ADDED: Record<string, KernelFunc> = {
  Conv2DBackpropFilter: conv2DBackpropFilter as KernelFunc,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter as KernelFunc,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput as KernelFunc,
};
/** Kernels the wasm backend has, replaced because they are wrong or slow for training. */
const REPLACED: Record<string, (original: KernelFunc) => KernelFunc> = {
  MaxPoolGrad: () => maxPoolGrad as KernelFunc,
  Conv2DBackpropInput: () => conv2DBackpropInput as KernelFunc,
  BatchMatMul: explicitTransposes,
};
/** The kernel functions this module registered, to recognise them on a second call. */
const ours = new WeakSet<KernelFunc>();

/**
 * Makes TensorFlow.js' `wasm` backend able to train convolutional networks:
 * registers the three gradient kernels it lacks (`Conv2DBackpropFilter`,
 * `DepthwiseConv2dNativeBackpropFilter`, `DepthwiseConv2dNativeBackpropInput`),
 * built from operations the wasm backend runs natively (strided slices,
 * matrix products, depthwise convolutions). Without them, `model.fit` on
 * 'wasm' fails with "kernel not found"; the pure-JS `cpu` backend can train,
 * but many times slower.
 *
 * Call it once, before training; calling it again does nothing. It affects
 * only the 'wasm' backend (the backend package need not be loaded yet) and
 * leaves kernels that are already registered alone. Every stride, padding and
 * dilation is supported; gradients equal the `cpu` backend's.
 *
 * It also replaces three wasm kernels that exist but hold training back:
 * - `MaxPoolGrad`, which in tfjs-backend-wasm 4.22 routes gradients to the
 *   wrong inputs at some sizes (3×3 / stride 2 'same' pooling of a 5×5,
 *   18×18 or 35×35 input, among others), with one built from comparisons
 *   and slices;
 * - `Conv2DBackpropInput`, a direct loop, with a transposed convolution run
 *   by the (XNNPACK) convolution kernel, ~10× faster;
 * - `BatchMatMul` with a transposed operand (~10× slower than without), by
 *   transposing explicitly first; plain products are unchanged.
 *
 * Memory: the wasm heap is at most 4 GB. See the "Choosing a backend" guide
 * for the largest batch that trains at each input size.
 *
 * @returns The names of the kernels it registered now (empty on later calls).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import '@tensorflow/tfjs-backend-wasm';
 * import { createXception, enableWasmTraining } from 'xception-ts';
 *
 * enableWasmTraining();
 * await tf.setBackend('wasm');
 * const model = createXception({ numClasses: 10, inputShape: [150, 150, 3] });
 * model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
 * await model.fit(images, labels, { batchSize: 8 });
 * ```
 * @category Training
 */
export function enableWasmTraining(): string[] {
  const registered: string[] = [];
  const register = (config: KernelConfig) => {
    ours.add(config.kernelFunc);
    registerKernel(config);
    registered.push(config.kernelName);
  };
  for (const [kernelName, kernelFunc] of Object.entries(ADDED)) {
    if (!getKernel(kernelName, 'wasm')) register({ kernelName, backendName: 'wasm', kernelFunc });
  }
  for (const [kernelName, replace] of Object.entries(REPLACED)) {
    const current = getKernel(kernelName, 'wasm');
    if (!current || ours.has(current.kernelFunc)) continue;
    unregisterKernel(kernelName, 'wasm');
    register({ ...current, kernelFunc: replace(current.kernelFunc) });
  }
  return registered;
}
