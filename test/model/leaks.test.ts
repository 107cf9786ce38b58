import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  createXception,
  entryFlow,
  exitFlow,
  middleFlow,
  separableBlock,
  XceptionConfigError,
  type XceptionOptions,
} from '../../src/index.js';
import { buildScope, track } from '../../src/model/build-scope.js';
import { useBackend } from '../helpers/backend.js';

beforeAll(() => useBackend('wasm'));

describe('tensor hygiene', () => {
  it('repeated predicts leave the tensor count unchanged', () => {
    const model = createXception({ inputShape: [71, 71, 3], numClasses: 10 });
    const x = tf.randomUniform([2, 71, 71, 3]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      const y = model.predict(x) as tf.Tensor;
      y.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
    x.dispose();
    model.dispose();
  });

  it('disposing a model frees every weight it allocated', () => {
    const before = tf.memory().numTensors;
    const model = createXception({ includeTop: false, inputShape: [71, 71, 3] });
    expect(tf.memory().numTensors - before).toBe(model.weights.length);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  const badOptions: XceptionOptions[] = [
    { numClasses: 0 },
    { inputShape: [20, 20, 3] },
    { preset: 'nope' as never },
    { includeTop: false, pooling: 'sum' as never },
    { includeTop: true, inputShape: [null, null, 3] },
  ];
  it.each(badOptions.map((o) => [JSON.stringify(o), o] as const))('failed createXception(%s) allocates nothing', (_, options) => {
    const before = tf.memory().numTensors;
    expect(() => createXception(options)).toThrow(XceptionConfigError);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('flows that fail on their options allocate nothing', () => {
    const before = tf.memory().numTensors;
    const input = tf.input({ shape: [19, 19, 256] });
    expect(() => entryFlow(tf.input({ shape: [5, 5, 3] }))).toThrow(XceptionConfigError);
    expect(() => middleFlow(input)).toThrow(XceptionConfigError);
    expect(() => exitFlow(input, { filters: [728, 0] as never })).toThrow(XceptionConfigError);
    expect(() => separableBlock(input, { filters: 8, strides: 2, dilationRate: 2, name: 'x' })).toThrow(XceptionConfigError);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('buildScope disposes the weights of every tracked layer when the build throws, nested scopes included', () => {
    const before = tf.memory().numTensors;
    const input = tf.input({ shape: [8, 8, 4] });
    expect(() =>
      buildScope(() => {
        const inner = buildScope(() => track(tf.layers.dense({ units: 3, name: 'inner' })).apply(input));
        track(tf.layers.conv2d({ filters: 2, kernelSize: 3, name: 'outer' })).apply(inner as tf.SymbolicTensor);
        expect(tf.memory().numTensors).toBe(before + 4); // two kernels, two biases
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
  });
});
