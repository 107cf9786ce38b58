import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { optimizeForInference, XceptionConfigError } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { randomize } from '../helpers/randomize.js';

beforeAll(() => useBackend('cpu'));

const relativeDiff = (a: tf.Tensor, b: tf.Tensor) =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / tf.max(tf.abs(b)).dataSync()[0]!);

type Build = (x: tf.SymbolicTensor) => tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor;

/** A small random-weight model over an 8×8×3 input (the BN statistics far from identity). */
function modelOf(build: Build, inputShape = [8, 8, 3]): tf.LayersModel {
  const input = tf.input({ shape: inputShape });
  const model = tf.model({ inputs: input, outputs: build(input) });
  randomize(model);
  return model;
}

/** optimizeForInference's output equals model.predict's within 1e-5 (relative); nothing leaks. */
function expectSameOutputs(model: tf.LayersModel) {
  const before = tf.memory().numTensors;
  const fast = optimizeForInference(model);
  const x = tf.randomUniform([2, ...(model.inputs[0]!.shape.slice(1) as number[])], -1, 1, 'float32', 7);
  const expected = model.predict(x) as tf.Tensor;
  const actual = fast.predict(x);
  expect(actual.shape).toEqual(expected.shape);
  expect(relativeDiff(actual, expected)).toBeLessThan(1e-5);
  tf.dispose([x, expected, actual]);
  fast.dispose();
  fast.dispose(); // a second dispose is a no-op
  expect(tf.memory().numTensors).toBe(before);
  return fast;
}

const bn = (options: Partial<Parameters<typeof tf.layers.batchNormalization>[0]> = {}) =>
  tf.layers.batchNormalization({ epsilon: 1e-3, ...options });

describe('optimizeForInference on plain tfjs models: never a changed output', () => {
  it('keeps a Conv2D\'s own ReLU (it used to drop it)', () => {
    const model = modelOf((x) => apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', padding: 'same' }), x));
    expect(expectSameOutputs(model).foldedBatchNorms).toBe(0);
    model.dispose();
  });

  it.each(['conv2d', 'separableConv2d', 'depthwiseConv2d'] as const)(
    'does not fold a BN across the ReLU of the %s before it (conv(relu) → BN → relu)',
    (kind) => {
      const conv =
        kind === 'conv2d'
          ? tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', padding: 'same' })
          : kind === 'separableConv2d'
            ? tf.layers.separableConv2d({ filters: 4, kernelSize: 3, activation: 'relu', padding: 'same' })
            : tf.layers.depthwiseConv2d({ kernelSize: 3, activation: 'relu', padding: 'same' });
      const model = modelOf((x) => apply(tf.layers.activation({ activation: 'relu' }), apply(bn(), apply(conv, x))));
      const fast = expectSameOutputs(model);
      expect([fast.foldedBatchNorms, fast.fusedActivations]).toEqual([0, 0]);
      model.dispose();
    },
  );

  it.each([
    ['scale: false', { scale: false }],
    ['center: false', { center: false }],
    ['scale: false, center: false', { scale: false, center: false }],
  ])('folds a BN with %s into the conv before it, and runs one standalone', (_label, options) => {
    const folded = modelOf((x) => apply(bn(options), apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, useBias: true }), x)));
    expect(expectSameOutputs(folded).foldedBatchNorms).toBe(1);
    folded.dispose();
    // After an Add there is no convolution to fold into: the BN runs as a BN.
    const standalone = modelOf((x) => apply(bn(options), apply(tf.layers.add(), [x, x])));
    expect(expectSameOutputs(standalone).foldedBatchNorms).toBe(0);
    standalone.dispose();
  });

  it.each([
    ['depthwiseConv2d, depthMultiplier 2', () => tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', useBias: true })],
    ['depthwiseConv2d, depthMultiplier 3, stride 2', () => tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 3, strides: 2 })],
    ['separableConv2d, depthMultiplier 2', () => tf.layers.separableConv2d({ filters: 5, kernelSize: 3, depthMultiplier: 2, padding: 'same' })],
  ])('folds BN → ReLU into a %s', (_label, conv) => {
    const model = modelOf((x) => apply(tf.layers.activation({ activation: 'relu' }), apply(bn(), apply(conv(), x))));
    const fast = expectSameOutputs(model);
    expect([fast.foldedBatchNorms, fast.fusedActivations]).toEqual([1, 1]);
    model.dispose();
  });

  it('does not fold a BN into a conv whose output is also read elsewhere', () => {
    const model = modelOf((x) => {
      const c = apply(tf.layers.conv2d({ filters: 3, kernelSize: 1 }), x);
      return apply(tf.layers.add(), [apply(bn(), c), c]);
    });
    expect(expectSameOutputs(model).foldedBatchNorms).toBe(0);
    model.dispose();
  });

  it('keeps any other activation of a conv or Dense (tanh, sigmoid, elu), and folds the BN only after a linear conv', () => {
    const model = modelOf((x) => {
      let y = apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'tanh' }), x);
      y = apply(bn(), y); // not folded: the conv has tanh
      y = apply(tf.layers.conv2d({ filters: 4, kernelSize: 1 }), y);
      y = apply(bn(), y); // folded
      y = apply(tf.layers.activation({ activation: 'elu' }), y);
      y = apply(tf.layers.globalAveragePooling2d({}), y);
      return apply(tf.layers.dense({ units: 3, activation: 'sigmoid' }), y);
    });
    expect(expectSameOutputs(model).foldedBatchNorms).toBe(1);
    model.dispose();
  });
});

describe('optimizeForInference.predict takes what model.predict takes', () => {
  it('int32 pixels, cast to float32 (the kernels used to refuse them)', () => {
    const model = modelOf((x) => apply(bn(), apply(tf.layers.conv2d({ filters: 2, kernelSize: 3 }), x)));
    const fast = optimizeForInference(model);
    const pixels = tf.randomUniform([1, 8, 8, 3], 0, 255, 'int32', 3);
    const expected = model.predict(pixels) as tf.Tensor;
    const actual = fast.predict(pixels);
    expect(actual.dtype).toBe('float32');
    expect(relativeDiff(actual, expected)).toBeLessThan(1e-5);
    tf.dispose([pixels, expected, actual]);
    fast.dispose();
    model.dispose();
  });
});

describe('optimizeForInference refuses what it cannot compile, with a typed error and no leaks', () => {
  it.each([
    ['a layer class it does not know', () => apply(tf.layers.upSampling2d({ size: [2, 2], name: 'up' }), tf.input({ shape: [4, 4, 3] })), "cannot compile layer 'up' (UpSampling2D): unknown layer class"],
    ['channels-first convolution', () => apply(tf.layers.conv2d({ filters: 2, kernelSize: 1, dataFormat: 'channelsFirst', name: 'cf' }), tf.input({ shape: [3, 4, 4] })), "cannot compile layer 'cf' (Conv2D): dataFormat 'channelsFirst'"],
    ['BN over the height axis', () => apply(bn({ axis: 1, name: 'bn_h' }), tf.input({ shape: [4, 4, 3] })), "cannot compile layer 'bn_h' (BatchNormalization): axis 1 (only the last axis)"],
    ['Dense on a feature map', () => apply(tf.layers.dense({ units: 2, name: 'd4' }), tf.input({ shape: [4, 4, 3] })), "cannot compile layer 'd4' (Dense): an input of rank 4"],
  ])('%s', (_label, build, message) => {
    const output = build();
    // Compiled convolutions before the refused layer must not leak their folded weights.
    const input = output.sourceLayer.inboundNodes[0]!.inputTensors[0]!;
    const model = tf.model({ inputs: input, outputs: output });
    const before = tf.memory().numTensors;
    expect(() => optimizeForInference(model)).toThrow(XceptionConfigError);
    expect(() => optimizeForInference(model)).toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('leaks nothing when a layer after folded convolutions is refused', () => {
    const model = modelOf((x) => {
      const y = apply(bn(), apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }), x));
      return apply(tf.layers.upSampling2d({ size: [2, 2], name: 'late_up' }), y);
    });
    const before = tf.memory().numTensors;
    expect(() => optimizeForInference(model)).toThrow("cannot compile layer 'late_up' (UpSampling2D)");
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('refuses a layer applied twice', () => {
    const shared = tf.layers.conv2d({ filters: 3, kernelSize: 1, name: 'shared' });
    const model = modelOf((x) => apply(shared, apply(shared, x)));
    expect(() => optimizeForInference(model)).toThrow("cannot compile layer 'shared': it is applied 2 times");
    model.dispose();
  });

  it.each([
    ['null', null, 'optimizeForInference: model must be a tf.LayersModel (e.g. from createXception or tf.model); got null.'],
    ['{}', {}, 'optimizeForInference: model must be a tf.LayersModel (e.g. from createXception or tf.model); got [object Object].'],
    ['a tensor', 'tensor', 'optimizeForInference: model must be a tf.LayersModel (e.g. from createXception or tf.model); got a Tensor.'],
  ])('refuses %s as the model', (_label, value, message) => {
    const argument = value === 'tensor' ? tf.zeros([1]) : value;
    expect(() => optimizeForInference(argument as never)).toThrow(XceptionConfigError);
    expect(() => optimizeForInference(argument as never)).toThrow(message);
    if (argument instanceof tf.Tensor) argument.dispose();
  });

  it('refuses a disposed model', () => {
    const model = modelOf((x) => apply(tf.layers.conv2d({ filters: 2, kernelSize: 1 }), x));
    model.dispose();
    expect(() => optimizeForInference(model)).toThrow(XceptionConfigError);
    expect(() => optimizeForInference(model)).toThrow(`optimizeForInference: model '${model.name}' has been disposed (its weights were freed); pass a live model.`);
  });

  it('predict refuses null, {}, a disposed tensor and a wrong shape with typed errors', () => {
    const model = modelOf((x) => apply(tf.layers.conv2d({ filters: 2, kernelSize: 1 }), x));
    const fast = optimizeForInference(model);
    const disposed = tf.zeros([1, 8, 8, 3]);
    disposed.dispose();
    const wrong = tf.zeros([1, 8, 8, 4]);
    const before = tf.memory().numTensors;
    for (const [x, message] of [
      [null, 'InferenceModel.predict: x must be a tf.Tensor; got null.'],
      [{}, 'InferenceModel.predict: x must be a tf.Tensor; got [object Object].'],
      [disposed, 'InferenceModel.predict: x is a tf.Tensor that has been disposed; pass a live tensor.'],
      [wrong, "InferenceModel.predict: x must have the model's input shape [any, 8, 8, 3]; got [1, 8, 8, 4]."],
    ] as [unknown, string][]) {
      expect(() => fast.predict(x as tf.Tensor)).toThrow(XceptionConfigError);
      expect(() => fast.predict(x as tf.Tensor)).toThrow(message);
    }
    expect(tf.memory().numTensors).toBe(before);
    wrong.dispose();
    fast.dispose();
    model.dispose();
  });
});
