import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  createXception,
  createXceptionBackbone,
  entryFlow,
  registerXceptionLayers,
  XceptionConfigError,
  type OutputStride,
  type XceptionPresetName,
} from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';

beforeAll(() => useBackend('wasm'));

/** Final spatial size, worked out from the strides: 'same' ops give ceil(s / stride). */
function finalSize(preset: XceptionPresetName, size: number, outputStride: OutputStride): number {
  // 'keras' has a 'valid' stem: s → floor((s - 3) / 2) + 1 → that - 2, then 'same' ops.
  const stem = preset === 'keras' ? Math.floor((size - 3) / 2) + 1 - 2 : Math.ceil(size / 2);
  return Math.ceil(stem / (outputStride / 2));
}

const PRESETS: XceptionPresetName[] = ['keras', 'postact', 'xception41', 'xception65', 'xception71'];

describe('outputStride on every preset', () => {
  for (const preset of PRESETS) {
    it.each([32, 16, 8] as const)(`${preset} at output stride %i: feature-map sizes for 299, 224, 97 and 65`, (outputStride) => {
      for (const size of [299, 224, 97, 65]) {
        const model = createXception({ preset, includeTop: false, outputStride, inputShape: [size, size, 3], allowSmallInput: true });
        const s = finalSize(preset, size, outputStride);
        expect(model.outputs[0]!.shape).toEqual([null, s, s, 2048]);
        model.dispose();
      }
    });
  }

  it.each([
    ['keras', 16], ['keras', 8], ['postact', 8], ['xception41', 16], ['xception71', 8],
  ] as const)('%s at output stride %i runs on wasm with the predicted shape (97×97)', (preset, outputStride) => {
    const model = createXception({ preset, includeTop: false, outputStride, inputShape: [97, 97, 3] });
    const y = tf.tidy(() => model.predict(tf.randomUniform([1, 97, 97, 3], -1, 1)) as tf.Tensor);
    const s = finalSize(preset, 97, outputStride);
    expect(y.shape).toEqual([1, s, s, 2048]);
    expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
    y.dispose();
    model.dispose();
  });

  it('computes the same function at output stride 16 as a reference dilated model built from tf ops', () => {
    // block14 of 'keras' at output stride 16 is dilated by 2: compare that layer with tf.separableConv2d(…, rate 2).
    const model = createXception({ preset: 'keras', includeTop: false, outputStride: 16, inputShape: [71, 71, 3] });
    const layer = model.getLayer('block14_sepconv1');
    expect(layer.getClassName()).toBe('XceptionAtrousSeparableConv2D');
    const [depthwise, pointwise] = layer.getWeights() as [tf.Tensor4D, tf.Tensor4D];
    tf.tidy(() => {
      const x = tf.randomNormal([2, 5, 5, 1024]) as tf.Tensor4D;
      const expected = tf.separableConv2d(x, depthwise, pointwise, 1, 'same', 2);
      const actual = layer.apply(x) as tf.Tensor;
      expect(tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]).toBeLessThan(1e-4);
    });
    model.dispose();
  });

  it('refuses an output stride other than 8, 16, 32', () => {
    expect(() => createXception({ outputStride: 4 as never })).toThrow(XceptionConfigError);
    expect(() => createXception({ outputStride: 4 as never })).toThrow('outputStride must be one of 8, 16, 32; got 4.');
    expect(() => entryFlow(tf.input({ shape: [64, 64, 3] }), { outputStride: 64 as never })).toThrow(
      'entryFlow: outputStride must be one of 8, 16, 32; got 64.',
    );
  });
});

describe('createXceptionBackbone', () => {
  it("'keras': 64/128/256/728/2048 channels at reductions 2/4/8/16/32", () => {
    const { model, featureInfo } = createXceptionBackbone({ inputShape: [299, 299, 3] });
    expect(featureInfo).toEqual([
      { name: 'block1_conv2_act', reduction: 2, channels: 64 },
      { name: 'block3_sepconv1_act', reduction: 4, channels: 128 },
      { name: 'block4_sepconv1_act', reduction: 8, channels: 256 },
      { name: 'block13_sepconv1_act', reduction: 16, channels: 728 },
      { name: 'block14_sepconv2_act', reduction: 32, channels: 2048 },
    ]);
    expect(model.outputs.map((o) => o.shape)).toEqual([
      [null, 147, 147, 64], [null, 74, 74, 128], [null, 37, 37, 256], [null, 19, 19, 728], [null, 10, 10, 2048],
    ]);
    // The same layers and weights as createXception without the top, so ImageNet weights fit.
    const classifier = createXception({ includeTop: false });
    expect(model.layers.map((l) => l.name)).toEqual(classifier.layers.map((l) => l.name));
    expect(model.countParams()).toBe(20_861_480);
    model.dispose();
    classifier.dispose();
  });

  it.each(['xception41', 'xception65', 'xception71', 'xception41p', 'xception65p'] as const)('%s: 128/256/728/1024/2048 channels, real shapes on wasm at 128×128', (preset) => {
    const { model, featureInfo } = createXceptionBackbone({ preset, inputShape: [128, 128, 3] });
    expect(featureInfo.map((f) => [f.reduction, f.channels])).toEqual([[2, 128], [4, 256], [8, 728], [16, 1024], [32, 2048]]);
    const outputs = tf.tidy(() => model.predict(tf.zeros([1, 128, 128, 3])) as tf.Tensor[]);
    expect(outputs.map((o) => o.shape)).toEqual(featureInfo.map((f) => [1, 128 / f.reduction, 128 / f.reduction, f.channels]));
    tf.dispose(outputs);
    model.dispose();
  });

  it('caps reductions at the output stride and takes outIndices in the given order', () => {
    const { model, featureInfo } = createXceptionBackbone({ preset: 'xception41', outputStride: 8, outIndices: [4, 1] });
    expect(featureInfo).toEqual([
      { name: 'block14_sepconv3_pointwise_act', reduction: 8, channels: 2048 },
      { name: 'block3_sepconv3_act', reduction: 4, channels: 256 },
    ]);
    const outputs = tf.tidy(() => model.predict(tf.zeros([1, 100, 100, 3])) as tf.Tensor[]);
    expect(outputs.map((o) => o.shape)).toEqual([[1, 13, 13, 2048], [1, 25, 25, 256]]);
    tf.dispose(outputs);
    model.dispose();
  });

  it('keeps the low-level and the last feature maps for a DeepLab head at output stride 16', () => {
    const { model, featureInfo } = createXceptionBackbone({ outputStride: 16, outIndices: [1, 4] });
    expect(featureInfo.map((f) => f.reduction)).toEqual([4, 16]);
    const outputs = tf.tidy(() => model.predict(tf.zeros([1, 65, 65, 3])) as tf.Tensor[]);
    // 'keras' has a 'valid' stem: 65 → 32 → 30, then 15 (reduction 4) … 4 (reduction 16).
    expect(outputs.map((o) => o.shape)).toEqual([[1, 15, 15, 128], [1, 4, 4, 2048]]);
    tf.dispose(outputs);
    model.dispose();
  });

  it.each([
    [{ outIndices: [5] }, 'outIndices must be a non-empty list of distinct integers from 0 to 4 (reductions 2, 4, 8, 16, 32); got [5].'],
    [{ outIndices: [] }, 'outIndices must be a non-empty list of distinct integers from 0 to 4'],
    [{ outIndices: [1, 1] }, 'got [1,1].'],
    [{ outIndices: 'all' }, 'got "all".'],
    [{ outputStride: 12 }, 'outputStride must be one of 8, 16, 32; got 12.'],
    [{ preset: 'resnet' }, 'Unknown preset "resnet"'],
    [{ includeTop: true }, "Unknown createXceptionBackbone option 'includeTop'"],
  ])('refuses %j with XceptionConfigError, allocating nothing', (options, message) => {
    const before = tf.memory().numTensors;
    expect(() => createXceptionBackbone(options as never)).toThrow(XceptionConfigError);
    expect(() => createXceptionBackbone(options as never)).toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('saves and loads back (after registerXceptionLayers) with identical predictions', async () => {
    const { model } = createXceptionBackbone({ preset: 'xception41', outputStride: 8, outIndices: [2, 4], inputShape: [64, 64, 3] });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    registerXceptionLayers();
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    const x = tf.randomUniform([1, 64, 64, 3], -1, 1, 'float32', 5);
    const [a, b] = [model.predict(x) as tf.Tensor[], loaded.predict(x) as tf.Tensor[]];
    for (let i = 0; i < 2; i++) expect(Array.from(b[i]!.dataSync())).toEqual(Array.from(a[i]!.dataSync()));
    tf.dispose([x, ...a, ...b]);
    model.dispose();
    loaded.dispose();
  });
});
