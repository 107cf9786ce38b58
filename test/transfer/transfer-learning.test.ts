import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createXception,
  createXceptionClassifier,
  entryFlow,
  freezeBackbone,
  unfreeze,
  XceptionConfigError,
} from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';

beforeAll(() => useBackend('cpu'));

/** image [8, 8, 3] → conv → BN → ReLU → GAP → Dense(2, softmax). */
function tinyModel(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3] });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ momentum: 0.5, name: 'bn' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: 'act' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2, activation: 'softmax', name: 'head' }).apply(x) as tf.SymbolicTensor });
}

/** Each named layer's weights, copied. */
function snapshot(model: tf.LayersModel, names: string[]): Record<string, number[][]> {
  return Object.fromEntries(names.map((n) => [n, model.getLayer(n).getWeights().map((w) => Array.from(w.dataSync()))]));
}

async function fitTwice(model: tf.LayersModel): Promise<void> {
  model.compile({ optimizer: tf.train.sgd(0.5), loss: 'categoricalCrossentropy' });
  const x = tf.randomNormal([4, 8, 8, 3], 3, 2, 'float32', 11);
  const y = tf.oneHot(tf.tensor1d([0, 1, 0, 1], 'int32'), 2);
  await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
  tf.dispose([x, y]);
}

describe('batchNormMomentum', () => {
  it("sets every BatchNormalization's momentum, Keras' 0.99 by default, in createXception and the flows", () => {
    const momenta = (model: tf.LayersModel) =>
      new Set(model.layers.filter((l) => l.getClassName() === 'BatchNormalization').map((l) => l.getConfig()['momentum']));
    const custom = createXception({ inputShape: [71, 71, 3], middleFlowRepeats: 0, batchNormMomentum: 0.9 });
    expect(momenta(custom)).toEqual(new Set([0.9]));
    custom.dispose();
    const plain = createXception({ inputShape: [71, 71, 3], middleFlowRepeats: 0 });
    expect(momenta(plain)).toEqual(new Set([0.99]));
    plain.dispose();
    const input = tf.input({ shape: [64, 64, 3] });
    const flow = tf.model({ inputs: input, outputs: entryFlow(input, { batchNormMomentum: 0.5 }) });
    expect(momenta(flow)).toEqual(new Set([0.5]));
    flow.dispose();
    expect(() => createXception({ batchNormMomentum: 1 })).toThrow(
      new XceptionConfigError("batchNormMomentum must be a number in [0, 1) (Keras' default is 0.99); got 1."),
    );
  });
});

describe('freezeBackbone and unfreeze', () => {
  it("tfjs alone updates a frozen BatchNormalization's statistics in fit (the quirk this fixes)", async () => {
    const model = tinyModel();
    for (const name of ['conv', 'bn']) model.getLayer(name).trainable = false;
    const before = snapshot(model, ['bn']);
    await fitTwice(model);
    expect(snapshot(model, ['bn']).bn![2]).not.toEqual(before.bn![2]); // moving mean moved
    model.dispose();
  });

  it('keeps a frozen BatchNormalization in inference mode inside fit: statistics and frozen weights unchanged', async () => {
    const model = tinyModel();
    const summary = freezeBackbone(model);
    expect(summary).toEqual({ frozenLayers: 4, trainableParams: 4 * 2 + 2 });
    const before = snapshot(model, ['conv', 'bn', 'head']);
    await fitTwice(model);
    const after = snapshot(model, ['conv', 'bn', 'head']);
    expect(after.conv).toEqual(before.conv);
    expect(after.bn).toEqual(before.bn);
    expect(after.head![0]).not.toEqual(before.head![0]);
    model.dispose();
  });

  it('unfreeze trains all but BatchNormalization by default, and everything without keepBatchNormFrozen', async () => {
    const model = tinyModel();
    freezeBackbone(model);
    expect(unfreeze(model)).toEqual({ frozenLayers: 1, trainableParams: 3 * 3 * 3 * 4 + 4 + 4 * 2 + 2 });
    let before = snapshot(model, ['conv', 'bn']);
    await fitTwice(model);
    let after = snapshot(model, ['conv', 'bn']);
    expect(after.conv![0]).not.toEqual(before.conv![0]);
    expect(after.bn).toEqual(before.bn);

    expect(unfreeze(model, { keepBatchNormFrozen: false }).frozenLayers).toBe(0);
    before = snapshot(model, ['bn']);
    await fitTwice(model);
    after = snapshot(model, ['bn']);
    expect(after.bn![2]).not.toEqual(before.bn![2]);
    model.dispose();
  });

  it('freezes up to a named layer, and refuses unknown ones and bad flags before changing anything', () => {
    const model = tinyModel();
    freezeBackbone(model, { upTo: 'conv', keepBatchNormFrozen: false });
    expect(model.layers.map((l) => l.trainable)).toEqual([false, false, true, true, true, true]);
    unfreeze(model, { keepBatchNormFrozen: false });
    expect(() => freezeBackbone(model, { upTo: 'block99' })).toThrow(
      new XceptionConfigError(`freezeBackbone: upTo "block99" is not a layer of '${model.name}' (its layers run from '${model.layers[0]!.name}' to 'head').`),
    );
    expect(() => unfreeze(model, { keepBatchNormFrozen: 'yes' as unknown as boolean })).toThrow(
      new XceptionConfigError('unfreeze: keepBatchNormFrozen must be true or false; got "yes".'),
    );
    expect(model.layers.every((l) => l.trainable)).toBe(true);
    model.dispose();
  });
});

describe('createXceptionClassifier', () => {
  it("builds keras.io's base → GAP → Dropout → Dense, frozen, its BatchNormalizations unchanged by fit", { timeout: 60_000 }, async () => {
    const model = await createXceptionClassifier({ numClasses: 2, inputShape: [71, 71, 3] });
    expect(model.layers.slice(-4).map((l) => l.name)).toEqual(['block14_sepconv2_act', 'avg_pool', 'top_dropout', 'predictions']);
    expect(model.getLayer('top_dropout').getConfig()['rate']).toBe(0.2);
    expect(model.trainableWeights.map((w) => w.shape)).toEqual([[2048, 2], [2]]);
    const before = snapshot(model, ['block1_conv1_bn', 'block14_sepconv2_bn', 'predictions']);
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    const x = tf.randomUniform([2, 71, 71, 3], -1, 1, 'float32', 5);
    const y = tf.oneHot(tf.tensor1d([0, 1], 'int32'), 2);
    await model.fit(x, y, { epochs: 1, batchSize: 2, verbose: 0 });
    const after = snapshot(model, ['block1_conv1_bn', 'block14_sepconv2_bn', 'predictions']);
    expect(after.block1_conv1_bn).toEqual(before.block1_conv1_bn);
    expect(after.block14_sepconv2_bn).toEqual(before.block14_sepconv2_bn);
    expect(after.predictions![0]).not.toEqual(before.predictions![0]);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('checks its options before building', async () => {
    const before = tf.memory().numTensors;
    await expect(createXceptionClassifier({ numClasses: 0 })).rejects.toThrow(
      new XceptionConfigError('numClasses must be an integer >= 1; got 0.'),
    );
    await expect(createXceptionClassifier({ numClasses: 2, dropout: 1 })).rejects.toThrow(
      new XceptionConfigError('dropout must be a number in [0, 1); got 1.'),
    );
    await expect(createXceptionClassifier({ numClasses: 2, freeze: true } as never)).rejects.toThrow(XceptionConfigError);
    expect(tf.memory().numTensors).toBe(before);
  });
});
