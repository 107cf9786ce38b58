import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception, optimizeForInference, XceptionConfigError, type XceptionOptions } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { randomize } from '../helpers/randomize.js';

beforeAll(() => useBackend('wasm'));

const relativeDiff = (a: tf.Tensor, b: tf.Tensor) =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / tf.max(tf.abs(b)).dataSync()[0]!);

describe('optimizeForInference', () => {
  it.each([
    ['keras, 1000 classes, linear top', { classifierActivation: 'linear' }],
    ['postact, 100 classes', { preset: 'postact', numClasses: 100 }],
    ['keras, no top, output stride 16', { includeTop: false, outputStride: 16, inputShape: [99, 99, 3] }],
    ['xception41, no top, output stride 8', { preset: 'xception41', includeTop: false, outputStride: 8, inputShape: [99, 99, 3] }],
  ] as [string, XceptionOptions][])('%s: outputs match within 1e-4, every BN folded, no leaks', (_label, options) => {
    const model = createXception(options);
    randomize(model);
    const fast = optimizeForInference(model);
    // In Xception every BN follows a convolution with no other consumer, so all fold;
    // a ReLU fuses where its only input is such a BN.
    const sourceOf = (layer: tf.layers.Layer) => (layer.input as tf.SymbolicTensor).sourceLayer.getClassName();
    const bns = model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
    const reluAfterBn = model.layers.filter((l) => l.getClassName() === 'Activation' && !Array.isArray(l.input) && sourceOf(l) === 'BatchNormalization');
    expect(fast.foldedBatchNorms).toBe(bns.length);
    expect(fast.fusedActivations).toBe(reluAfterBn.length);
    expect(reluAfterBn.length).toBeGreaterThan(1);
    const [h, w] = (model.inputs[0]!.shape.slice(1, 3) as number[]);
    const x = tf.randomUniform([2, h!, w!, 3], -1, 1, 'float32', 5);
    const expected = model.predict(x) as tf.Tensor;
    const before = tf.memory().numTensors;
    const actual = fast.predict(x);
    expect(tf.memory().numTensors).toBe(before + 1); // only the output is left
    expect(actual.shape).toEqual(expected.shape);
    expect(relativeDiff(actual, expected)).toBeLessThan(1e-4);
    tf.dispose([x, expected, actual]);
    const weights = tf.memory().numTensors;
    fast.dispose();
    expect(tf.memory().numTensors).toBeLessThan(weights);
    expect(() => fast.predict(tf.zeros([1, 8, 8, 3]))).toThrow('this InferenceModel has been disposed.');
    // The original model still works: its variables were not disposed with the folded copies.
    tf.tidy(() => {
      expect((model.predict(tf.zeros([1, h!, w!, 3])) as tf.Tensor).shape[0]).toBe(1);
    });
    model.dispose();
  });

  it('xception41p (ZeroPadding2D, BNs after an Add stay BNs), 100×100: outputs match within 1e-4', () => {
    const model = createXception({ preset: 'xception41p', includeTop: false, outputStride: 16, inputShape: [100, 100, 3] });
    randomize(model);
    const fast = optimizeForInference(model);
    const x = tf.randomUniform([1, 100, 100, 3], -1, 1, 'float32', 7);
    const expected = model.predict(x) as tf.Tensor;
    const actual = fast.predict(x);
    expect(actual.shape).toEqual(expected.shape);
    expect(relativeDiff(actual, expected)).toBeLessThan(1e-4);
    tf.dispose([x, expected, actual]);
    fast.dispose();
    model.dispose();
  });

  it('refuses a layer it does not know', () => {
    const input = tf.input({ shape: [4] });
    const model = tf.model({ inputs: input, outputs: tf.layers.repeatVector({ n: 2, name: 'odd' }).apply(input) as tf.SymbolicTensor });
    expect(() => optimizeForInference(model)).toThrow(XceptionConfigError);
    expect(() => optimizeForInference(model)).toThrow("cannot compile layer 'odd' (RepeatVector): unknown layer class");
    model.dispose();
  });
});
