import { expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception, type XceptionOptions } from '../../src/index.js';
import { useFastCpuFilterGradient } from './fast-cpu-filter-gradient.js';

/**
 * Builds a full-width model (at 48×48 the classic middle flow is 3×3 and the
 * exit flow 2×2, so every BatchNormalization sees several values per channel
 * even at batch 1), takes one training-mode gradient of a random linear
 * function of the logits, and asserts that every trainable weight gets a
 * finite, non-zero gradient and that no tensor is left behind.
 *
 * Runs on the 'cpu' backend (wasm has no convolution gradients). tfjs' cpu
 * Conv2DBackpropFilter took one to three minutes per model here, so the
 * filter gradient runs through an equivalent flat-indexed kernel (see
 * fast-cpu-filter-gradient.ts and its test against tfjs' own).
 */
export function expectEveryWeightLearns(options: XceptionOptions, expectedVariables: number): void {
  useFastCpuFilterGradient();
  const size = options.inputShape?.[0] ?? 48;
  const model = createXception({
    inputShape: [size, size, 3],
    numClasses: 5,
    classifierActivation: 'linear',
    allowSmallInput: true,
    ...options,
  });
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  expect(variables).toHaveLength(expectedVariables);

  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(() => {
    const x = tf.randomUniform([1, size, size, 3], -1, 1, 'float32', 7);
    const direction = tf.randomNormal([1, 5], 0, 1, 'float32', 11);
    const logits = model.apply(x, { training: true }) as tf.Tensor;
    return tf.sum(tf.mul(logits, direction)) as tf.Scalar;
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
