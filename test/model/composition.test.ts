import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception, entryFlow, exitFlow, middleFlow, separableBlock } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';

beforeAll(() => useBackend('wasm'));

const layerSequence = (model: tf.LayersModel) => model.layers.map((l) => `${l.getClassName()}:${l.name}`);

describe('separableBlock', () => {
  const input = () => tf.input({ shape: [16, 16, 8], name: 'in' });
  it.each([
    ['post', ['SeparableConv2D:s', 'BatchNormalization:s_bn', 'Activation:s_act']],
    ['pre', ['Activation:s_act', 'SeparableConv2D:s', 'BatchNormalization:s_bn']],
    ['none', ['SeparableConv2D:s', 'BatchNormalization:s_bn']],
  ] as const)("activation '%s' orders and names its layers", (activation, expected) => {
    const x = input();
    const model = tf.model({ inputs: x, outputs: separableBlock(x, { filters: 12, activation, name: 's' }) });
    expect(layerSequence(model).slice(1)).toEqual(expected);
    expect(model.outputs[0]!.shape).toEqual([null, 16, 16, 12]);
    model.dispose();
  });

  it('passes kernel size, strides, padding, dilation and bias through', () => {
    const x = input();
    const y = separableBlock(x, { filters: 4, kernelSize: 5, strides: 2, padding: 'valid', useBias: true, name: 's' });
    const model = tf.model({ inputs: x, outputs: y });
    expect(model.getLayer('s').getConfig()).toMatchObject({ kernelSize: [5, 5], strides: [2, 2], padding: 'valid', useBias: true });
    expect(model.getLayer('s').weights.map((w) => w.shape)).toEqual([[5, 5, 8, 1], [1, 1, 8, 4], [4]]);
    expect(y.shape).toEqual([null, 6, 6, 4]);
    const dilated = separableBlock(x, { filters: 4, dilationRate: 2, name: 'd' });
    expect(tf.model({ inputs: x, outputs: dilated }).getLayer('d').getConfig()).toMatchObject({ dilationRate: [2, 2] });
    model.dispose();
  });

  it('computes BN(SepConv(x)) and then ReLU, checked against tf ops', () => {
    const x = input();
    const model = tf.model({ inputs: x, outputs: separableBlock(x, { filters: 6, name: 's' }) });
    const [depthwise, pointwise] = model.getLayer('s').getWeights() as [tf.Tensor4D, tf.Tensor4D];
    const bnWeights = [tf.randomUniform([6], 0.5, 2), tf.randomNormal([6]), tf.randomNormal([6]), tf.randomUniform([6], 0.5, 2)];
    model.getLayer('s_bn').setWeights(bnWeights);
    const [gamma, beta, mean, variance] = bnWeights as tf.Tensor1D[];
    tf.tidy(() => {
      const data = tf.randomNormal([2, 16, 16, 8]) as tf.Tensor4D;
      const conv = tf.separableConv2d(data, depthwise, pointwise, 1, 'same');
      const expected = tf.relu(tf.batchNorm(conv, mean!, variance!, beta!, gamma!, 1e-3));
      const actual = model.predict(data) as tf.Tensor;
      expect(tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]).toBeLessThan(1e-5);
    });
    model.dispose();
  });
});

describe('flows', () => {
  it('compose into the same graph as createXception', () => {
    const x = tf.input({ shape: [71, 71, 3], name: 'input' });
    const y = exitFlow(middleFlow(entryFlow(x)));
    const composed = tf.model({ inputs: x, outputs: y });
    const built = createXception({ includeTop: false, inputShape: [71, 71, 3] });
    expect(layerSequence(composed)).toEqual(layerSequence(built));
    expect(composed.countParams()).toBe(20_861_480);
    composed.dispose();
    built.dispose();
  });

  it('give the documented shapes at 299 and take a name prefix', () => {
    const x = tf.input({ shape: [299, 299, 3] });
    const entry = entryFlow(x, { namePrefix: 'enc_' });
    const middle = middleFlow(entry, { namePrefix: 'enc_', repeats: 2 });
    const exit = exitFlow(middle, { namePrefix: 'enc_', firstBlock: 7 });
    expect([entry.shape, middle.shape, exit.shape]).toEqual([
      [null, 19, 19, 728],
      [null, 19, 19, 728],
      [null, 10, 10, 2048],
    ]);
    const model = tf.model({ inputs: x, outputs: exit });
    const names = model.layers.slice(1).map((l) => l.name);
    expect(names.every((n) => n.startsWith('enc_block'))).toBe(true);
    expect(names).toContain('enc_block6_add');
    expect(names).toContain('enc_block8_sepconv2_act');
    expect(names).not.toContain('enc_block9_sepconv1');
    model.dispose();
  });

  it('accept custom widths and a post-activation style', () => {
    const x = tf.input({ shape: [64, 64, 3] });
    const entry = entryFlow(x, { stemFilters: [8, 16], filters: [24, 32], blockActivation: 'post', stemPadding: 'same' });
    expect(entry.shape).toEqual([null, 8, 8, 32]);
    const middle = middleFlow(entry, { filters: 32, repeats: 1, firstBlock: 4 });
    const exit = exitFlow(middle, { filters: [40, 48], convFilters: [56, 64], firstBlock: 5 });
    expect(exit.shape).toEqual([null, 4, 4, 64]);
    const model = tf.model({ inputs: x, outputs: exit });
    // post style: block2's first separable block ends with its own ReLU.
    expect(model.getLayer('block2_sepconv1_act').getClassName()).toBe('Activation');
    const out = tf.tidy(() => (model.predict(tf.ones([1, 64, 64, 3])) as tf.Tensor).shape);
    expect(out).toEqual([1, 4, 4, 64]);
    model.dispose();
  });
});
