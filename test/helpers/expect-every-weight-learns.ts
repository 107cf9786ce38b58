import { expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception, type XceptionPresetName } from '../../src/index.js';

/**
 * Builds a full-width model at 48×48 (the middle flow is 3×3, the exit flow
 * 2×2, so with a batch of 2 every BatchNormalization sees several values per
 * channel), takes one training-mode gradient of a cross-entropy loss, and
 * asserts that every trainable weight gets a finite, non-zero gradient and that
 * no tensor is left behind.
 *
 * Runs on the 'cpu' backend (wasm has no convolution gradients), whose
 * Conv2DBackpropFilter is slow: about a minute per model here.
 */
export function expectEveryWeightLearns(preset: XceptionPresetName): void {
  const model = createXception({ preset, inputShape: [48, 48, 3], numClasses: 5, allowSmallInput: true });
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  // 6 conv kernels + 34 separable convs × 2 kernels + 40 BN × (gamma, beta) + dense kernel and bias.
  expect(variables).toHaveLength(6 + 34 * 2 + 40 * 2 + 2);

  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(() => {
    const x = tf.randomUniform([2, 48, 48, 3], -1, 1, 'float32', 7);
    const labels = tf.oneHot(tf.tensor1d([1, 3], 'int32'), 5);
    const probs = model.apply(x, { training: true }) as tf.Tensor;
    return tf.losses.softmaxCrossEntropy(labels, tf.log(tf.add(probs, 1e-7))) as tf.Scalar;
  }, variables);

  expect(Number.isFinite(value.dataSync()[0])).toBe(true);
  const dead: string[] = [];
  for (const variable of variables) {
    const norm = tf.tidy(() => tf.sum(tf.abs(grads[variable.name]!)).dataSync()[0]!);
    if (!(norm > 0 && Number.isFinite(norm))) dead.push(`${variable.name}: ${norm}`);
  }
  expect(dead).toEqual([]);
  tf.dispose([value, ...Object.values(grads)]);
  expect(tf.memory().numTensors).toBe(before);
  model.dispose();
}
