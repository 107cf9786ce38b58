import { beforeAll, describe, expect, it } from 'vitest';
import { unzipSync, zipSync } from 'fflate';
import * as tf from '@tensorflow/tfjs';
import {
  createXception,
  inspectKerasFile,
  loadKerasModel,
  saveKerasModel,
  XceptionConfigError,
  XceptionModelFileError,
  XceptionWeightsError,
} from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { nestedXceptionModel, writeKeras3LegacyH5, writeKerasArchive } from '../helpers/keras3-fixtures.js';
import { writeKerasWeights } from '../helpers/keras-fixtures.js';
import { keras1Reference, KERAS1_CONFIG, writeKeras1ModelFile } from '../helpers/keras1-model-fixture.js';
import { setDeclaredSize } from '../helpers/hostile-keras-fixtures.js';
import { kerasFilePath, maxAbsDiff, MINI_XCEPTION_FILES, readF32 } from '../helpers/keras-reference-files.js';

beforeAll(() => useBackend('cpu'));

/** Runs `model` on `x` and returns the values, leaving no tensor behind. */
const run = (model: tf.LayersModel, x: tf.Tensor | (() => tf.Tensor)) =>
  tf.tidy(() => Float32Array.from((model.predict(typeof x === 'function' ? x() : x) as tf.Tensor).dataSync()));

/** Expects `promise` to reject with `type` and a message matching `message`, leaving no tensor behind. */
async function expectRefused(promise: () => Promise<unknown>, type: typeof XceptionWeightsError, message: RegExp): Promise<void> {
  const before = tf.memory().numTensors;
  const error = await promise().then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(type);
  expect((error as Error).message).toMatch(message);
  expect(tf.memory().numTensors).toBe(before);
}

describe('loadKerasModel: real Keras 2.0.5 files (full model, optimizer state)', () => {
  it.each(MINI_XCEPTION_FILES)('$stem loads with outputs within 1e-4 of the independent forward pass', async ({ stem, numClasses }) => {
    const before = tf.memory().numTensors;
    const model = await loadKerasModel(kerasFilePath(`${stem}.hdf5`));
    expect(model.countParams()).toBe(58_423 - 9 * 128 * 7 - 7 + 9 * 128 * numClasses + numClasses);
    expect(model.outputs[0]!.shape).toEqual([null, numClasses]);
    const out = run(model, () => tf.tensor4d(readF32(`${stem}.input.f32`), [2, 64, 64, 1]));
    expect(maxAbsDiff(out, readF32(`${stem}.output.f32`))).toBeLessThan(1e-4);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('inspect reports format, Keras version, layers and parameters', async () => {
    const summary = await inspectKerasFile(kerasFilePath('fer2013_mini_XCEPTION.102-0.66.hdf5'));
    expect(summary).toMatchObject({ format: 'h5-model', kerasVersion: '2.0.5', modelClass: 'Model', parameters: 58_423, buildError: null });
    expect(summary.layers).toHaveLength(46);
    expect(summary.layers[1]).toEqual({ name: 'conv2d_1', className: 'Conv2D', path: 'conv2d_1', parameters: 72 });
    expect(summary.layers.at(-1)).toEqual({ name: 'predictions', className: 'Activation', path: 'predictions', parameters: 0 });
  });
});

describe('loadKerasModel: a Keras 1 full-model file (Keras 1 class and argument names)', () => {
  it('translates Convolution2D, SeparableConvolution2D, Merge(sum), Dropout(p), Dense(output_dim) and loads the weights', async () => {
    const reference = keras1Reference();
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 9);
    const model = await loadKerasModel(await writeKeras1ModelFile(reference));
    expect(model.layers.map((l) => l.getClassName())).toEqual([
      'InputLayer', 'Conv2D', 'BatchNormalization', 'Activation', 'MaxPooling2D', 'SeparableConv2D', 'Add', 'Flatten', 'Dropout', 'Dense',
    ]);
    expect((model.getLayer('dropout_1').getConfig() as { rate: number }).rate).toBe(0.5);
    expect(maxAbsDiff(run(model, x), run(reference, x))).toBeLessThan(1e-6);
    [model, reference, x].forEach((t) => t.dispose());
  });

  it("refuses channels-first ('th') Keras 1 models, naming the layer", async () => {
    const config = JSON.parse(JSON.stringify(KERAS1_CONFIG));
    config.config.layers[1].config.dim_ordering = 'th';
    const reference = keras1Reference();
    const bytes = await writeKeras1ModelFile(reference, config);
    await expectRefused(() => loadKerasModel(bytes), XceptionModelFileError, /layer 'convolution2d_1' \(Convolution2D\): dim_ordering 'th' \(channels first, Theano\) is not supported/);
    reference.dispose();
  });
});

describe('loadKerasModel: Keras 3 files written from the documented format', () => {
  let reference: tf.LayersModel;
  let x: tf.Tensor;
  let expected: Float32Array;
  beforeAll(() => {
    reference = nestedXceptionModel();
    x = tf.randomNormal([2, 32, 32, 1], 0, 1, 'float32', 3);
    expected = run(reference, x);
  });

  it('.keras: a functional model with a nested Xception, a Sequential head and a Dropout', async () => {
    const model = await loadKerasModel(await writeKerasArchive(reference));
    expect(model.layers.map((l) => `${l.name}:${l.getClassName()}`)).toEqual(['image:InputLayer', 'xception:Model', 'head:Sequential']);
    const head = model.getLayer('head') as unknown as tf.Sequential;
    expect(head.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'GlobalAveragePooling2D', 'Dropout', 'Dense']);
    expect(model.countParams()).toBe(reference.countParams());
    expect(maxAbsDiff(run(model, x), expected)).toBeLessThan(1e-6);
    model.dispose();
  });

  it('.keras: a top-level Sequential model (InputLayer with batch_shape first)', async () => {
    const sequential = tf.sequential({
      name: 'mlp',
      layers: [tf.layers.dense({ units: 6, activation: 'relu', inputShape: [4], name: 'hidden' }), tf.layers.dropout({ rate: 0.2, name: 'drop' }), tf.layers.dense({ units: 2, name: 'out' })],
    });
    const input = tf.randomNormal([3, 4], 0, 1, 'float32', 4);
    const model = await loadKerasModel(await writeKerasArchive(sequential));
    expect(model.getClassName()).toBe('Sequential');
    expect(maxAbsDiff(run(model, input), run(sequential, input))).toBeLessThan(1e-6);
    // And back: saveKerasModel opens a Sequential config with an explicit InputLayer, as Keras 3 does.
    const again = await loadKerasModel(await saveKerasModel(model));
    expect(maxAbsDiff(run(again, input), run(sequential, input))).toBeLessThan(1e-6);
    [model, again, sequential, input].forEach((t) => t.dispose());
  });

  it('Keras 3 legacy .h5 (model.save("x.h5"): Keras 3 config, weight names without :0)', async () => {
    const model = await loadKerasModel(await writeKeras3LegacyH5(reference));
    expect(maxAbsDiff(run(model, x), expected)).toBeLessThan(1e-6);
    model.dispose();
  });

  it('inspect lists the nested layers of a .keras archive', async () => {
    const summary = await inspectKerasFile(await writeKerasArchive(reference));
    expect(summary).toMatchObject({ format: 'keras', kerasVersion: '3.8.0', modelClass: 'Functional', parameters: reference.countParams() });
    expect(summary.layers.find((l) => l.path === 'xception/block2_sepconv1')).toMatchObject({ className: 'SeparableConv2D', parameters: 9 * 5 + 5 * 8 });
    expect(summary.layers.find((l) => l.path === 'head/scores')).toMatchObject({ className: 'Dense', parameters: 64 * 3 + 3 });
  });

  it('refuses a layer TensorFlow.js cannot build, naming the layer and its class', async () => {
    const archive = await writeKerasArchive(reference);
    const config = JSON.parse(new TextDecoder().decode(unzipMember(archive, 'config.json')));
    config.config.layers[2].config.layers[2].class_name = 'RandomFlip';
    const broken = await writeKerasArchive(reference, { replace: { 'config.json': new TextEncoder().encode(JSON.stringify(config)) } });
    await expectRefused(() => loadKerasModel(broken), XceptionModelFileError, /layer 'head\/head_dropout' is a RandomFlip, which TensorFlow\.js cannot build/);
    const summary = await inspectKerasFile(broken);
    expect(summary.buildError).toMatch(/RandomFlip/);
    expect(summary.parameters).toBeNull();
  });

  it('refuses weights that do not fit the config, leaving nothing allocated', async () => {
    const other = nestedXceptionModel(1, 3); // the same graph for 3 input channels
    const otherWeights = unzipMember(await writeKerasArchive(other), 'model.weights.h5');
    other.dispose();
    const mixed = await writeKerasArchive(reference, { replace: { 'model.weights.h5': otherWeights } });
    await expectRefused(() => loadKerasModel(mixed), XceptionWeightsError, /\/layers\/functional\/layers\/conv2d\/vars\/0 has shape \[3,3,3,5\], layer 'block1_conv1' expects \[3,3,1,5\]/);
  });
});

function unzipMember(archive: Uint8Array, name: string): Uint8Array {
  return unzipSync(archive)[name]!;
}

describe('loadKerasModel: hostile and wrong files', () => {
  let reference: tf.LayersModel;
  beforeAll(() => {
    reference = nestedXceptionModel();
  });

  it('an archive without config.json, or without weights', async () => {
    await expectRefused(async () => loadKerasModel(await writeKerasArchive(reference, { omit: ['config.json'] })), XceptionModelFileError, /zip archive without config\.json/);
    await expectRefused(async () => loadKerasModel(await writeKerasArchive(reference, { omit: ['model.weights.h5'] })), XceptionModelFileError, /zip archive without model\.weights\.h5/);
  });

  it('config.json that is not JSON, or JSON that is not a model', async () => {
    const bad = await writeKerasArchive(reference, { replace: { 'config.json': new TextEncoder().encode('{"class_name": "Functional", ') } });
    await expectRefused(() => loadKerasModel(bad), XceptionModelFileError, /config\.json is not valid JSON/);
    const notModel = await writeKerasArchive(reference, { replace: { 'config.json': new TextEncoder().encode('{"class_name": "Dense", "config": {}}') } });
    await expectRefused(() => loadKerasModel(notModel), XceptionModelFileError, /describes a Dense; a model file holds a 'Functional', 'Model' or 'Sequential'/);
  });

  it('a zip bomb: a member that declares more than the limit is not inflated', async () => {
    const archive = await writeKerasArchive(reference);
    await expectRefused(() => loadKerasModel(archive, { maxUncompressedBytes: 1000 }), XceptionModelFileError, /model\.weights\.h5 declares \d+ bytes uncompressed .* above the limit of 1000 \(raise maxUncompressedBytes/);
    // 4 GB of zeros, declared honestly: refused from the header, before any inflation.
    const bomb = zipSync({ 'config.json': new Uint8Array(10), 'model.weights.h5': new Uint8Array(1 << 20) });
    setDeclaredSize(bomb, 'model.weights.h5', 0xfffffff0);
    await expectRefused(() => loadKerasModel(bomb), XceptionModelFileError, /declares 4294967280 bytes uncompressed/);
  });

  it('a member that lies about its size is cut there and fails to parse', async () => {
    const archive = await writeKerasArchive(reference);
    setDeclaredSize(archive, 'config.json', 20);
    await expectRefused(() => loadKerasModel(archive), XceptionModelFileError, /config\.json is not valid JSON/);
  });

  it('a damaged zip, a weights-only .h5, bytes that are neither', async () => {
    const archive = await writeKerasArchive(reference);
    await expectRefused(() => loadKerasModel(archive.slice(0, 200)), XceptionModelFileError, /starts like a zip archive \(\.keras\) but cannot be unpacked/);
    const plain = createXception({ preset: 'tiny', inputShape: [16, 16, 1], numClasses: 2 });
    const weightsOnly = await writeKerasWeights(plain, 'keras2');
    plain.dispose();
    await expectRefused(() => loadKerasModel(weightsOnly), XceptionModelFileError, /without a 'model_config' attribute: a weights-only file.*loadKerasWeights/);
    await expectRefused(() => loadKerasModel(new Uint8Array(100)), XceptionWeightsError, /is not an HDF5 file/);
  });

  it('bad options are typed config errors', async () => {
    await expect(loadKerasModel(new Uint8Array(1), { maxUncompressedBytes: -1 })).rejects.toThrow(XceptionConfigError);
    await expect(loadKerasModel(new Uint8Array(1), { maxUncompressedBytes: -1 })).rejects.toThrow(/maxUncompressedBytes must be a positive integer; got -1/);
    await expect(loadKerasModel(new Uint8Array(1), { byName: true } as never)).rejects.toThrow(/Unknown loadKerasModel option 'byName'/);
  });
});
