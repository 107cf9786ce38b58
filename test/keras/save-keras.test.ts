import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import h5wasm from 'h5wasm';
import * as tf from '@tensorflow/tfjs';
import {
  createXception,
  getPreset,
  listPresets,
  loadKerasModel,
  loadKerasWeights,
  saveKerasModel,
  saveKerasWeights,
  XceptionConfigError,
  type XceptionOptions,
} from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { nestedXceptionModel } from '../helpers/keras3-fixtures.js';
import { randomize } from '../helpers/randomize.js';

beforeAll(() => useBackend('cpu'));

/** Small options for every preset: 32×32 inputs, one middle unit where the preset allows it. */
function smallOptions(preset: string): XceptionOptions {
  const options = { preset, inputShape: [32, 32, 3], numClasses: 5, allowSmallInput: true } as XceptionOptions;
  if (preset === 'keras' || preset === 'postact') options.middleFlowRepeats = 1;
  return options;
}

/** Every weight's bits, so that -0 and NaN compare exactly. */
const bits = (model: tf.LayersModel) => model.getWeights().map((w) => new Uint32Array(Float32Array.from(w.dataSync()).buffer));
/** The first weight and index where two snapshots differ, or null (vitest's toEqual is far too slow on millions of values). */
function firstDifference(actual: Uint32Array[], expected: Uint32Array[]): string | null {
  if (actual.length !== expected.length) return `${actual.length} weights vs ${expected.length}`;
  for (let w = 0; w < actual.length; w++) {
    const a = actual[w]!;
    const e = expected[w]!;
    if (a.length !== e.length) return `weight ${w}: ${a.length} values vs ${e.length}`;
    for (let i = 0; i < a.length; i++) if (a[i] !== e[i]) return `weight ${w}, index ${i}`;
  }
  return null;
}
const predict = (model: tf.LayersModel, x: tf.Tensor) => tf.tidy(() => Float32Array.from((model.predict(x) as tf.Tensor).dataSync()));
const zeroWeights = (model: tf.LayersModel) => tf.tidy(() => model.setWeights(model.weights.map((w) => tf.zeros(w.shape as number[]))));

/** Opens HDF5 bytes with h5wasm (an independent reader: the HDF5 C library). */
async function openH5(bytes: Uint8Array): Promise<{ file: InstanceType<typeof h5wasm.File>; close(): void }> {
  const { FS } = await h5wasm.ready;
  const path = `/readback-${Math.random().toString(36).slice(2)}.h5`;
  FS.writeFile(path, bytes);
  const file = new h5wasm.File(path, 'r');
  return { file, close: () => { file.close(); FS.unlink(path); } };
}

type H5Node = ReturnType<InstanceType<typeof h5wasm.File>['get']>;
const attr = (node: H5Node, name: string) => (node as unknown as { attrs: Record<string, { value: unknown }> }).attrs[name]?.value;
const keysOf = (node: H5Node) => (node as unknown as { keys(): string[] }).keys();
const shapeOf = (node: H5Node) => (node as unknown as { shape: number[] }).shape;

describe('every preset round-trips through both Keras weight formats', () => {
  let x: tf.Tensor;
  beforeAll(() => {
    x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 5);
  });
  afterAll(() => x.dispose());

  it.each(listPresets())('%s: keras2 and keras3 files load back bit for bit', async (preset) => {
    // One model (building the large presets twice costs seconds): save, zero its weights, load the file back.
    const model = createXception(smallOptions(preset));
    randomize(model);
    const expected = bits(model);
    const prediction = predict(model, x);
    const files = { keras2: await saveKerasWeights(model, { format: 'keras2' }), keras3: await saveKerasWeights(model, { format: 'keras3' }) };
    for (const format of ['keras2', 'keras3'] as const) {
      zeroWeights(model);
      const result = await loadKerasWeights(model, files[format]);
      expect(result.layout).toBe(format);
      expect(result.layersLoaded).toBe(model.layers.filter((l) => l.weights.length > 0).length);
      expect(firstDifference(bits(model), expected)).toBeNull();
      expect(predict(model, x)).toEqual(prediction);
    }
    model.dispose();
  }, 120_000);
});

describe('saveKerasModel → loadKerasModel', () => {
  let x: tf.Tensor;
  beforeAll(() => {
    x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 6);
  });
  afterAll(() => x.dispose());

  const cases: [string, XceptionOptions][] = [
    ...listPresets().filter((p) => getPreset(p).family !== 'aligned').map((p): [string, XceptionOptions] => [p, smallOptions(p)]),
    ['xception41', smallOptions('xception41')],
    ['keras, outputStride 16 (dilated layers as SeparableConv2D)', { ...smallOptions('keras'), outputStride: 16 }],
  ];
  it.each(cases)('%s: same weights and predictions', async (_label, options) => {
    const source = createXception(options);
    randomize(source);
    const before = tf.memory().numTensors;
    const loaded = await loadKerasModel(await saveKerasModel(source));
    expect(loaded.layers.map((l) => l.name)).toEqual(source.layers.map((l) => l.name));
    expect(firstDifference(bits(loaded), bits(source))).toBeNull();
    const expected = predict(source, x);
    const diff = predict(loaded, x).map((v, i) => Math.abs(v - expected[i]!));
    expect(Math.max(...diff)).toBeLessThan(1e-6);
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
    source.dispose();
  }, 120_000);

  it('a nested Xception with a Sequential head round-trips too', async () => {
    const source = nestedXceptionModel(11);
    const input = tf.randomNormal([2, 32, 32, 1], 0, 1, 'float32', 8);
    const loaded = await loadKerasModel(await saveKerasModel(source));
    expect(firstDifference(bits(loaded), bits(source))).toBeNull();
    expect(predict(loaded, input)).toEqual(predict(source, input));
    // Keras 2 weights of a nested model: one group per top-level layer, by order.
    const target = nestedXceptionModel(12);
    await loadKerasWeights(target, await saveKerasWeights(source, { format: 'keras2' }));
    expect(firstDifference(bits(target), bits(source))).toBeNull();
    [source, loaded, target, input].forEach((t) => t.dispose());
  });
});

describe('the written files follow the Keras layouts (read back with h5wasm)', () => {
  let model: tf.LayersModel;
  beforeAll(() => {
    model = createXception({ preset: 'mini', inputShape: [32, 32, 1], numClasses: 3 });
  });
  afterAll(() => model.dispose());

  it("keras2: save_weights' layer_names, weight_names and nested datasets", async () => {
    const { file, close } = await openH5(await saveKerasWeights(model, { format: 'keras2' }));
    try {
      expect(attr(file as unknown as H5Node, 'layer_names')).toEqual(model.layers.map((l) => l.name));
      expect(attr(file as unknown as H5Node, 'backend')).toBe('tensorflow');
      expect(attr(file as unknown as H5Node, 'keras_version')).toBe('2.15.0');
      expect(keysOf(file as unknown as H5Node).sort()).toEqual(model.layers.map((l) => l.name).sort());
      expect(attr(file.get('block1_conv1'), 'weight_names')).toEqual(['block1_conv1/kernel:0']);
      expect(shapeOf(file.get('block1_conv1/block1_conv1/kernel:0'))).toEqual([3, 3, 1, 8]);
      expect(attr(file.get('block2_sepconv1'), 'weight_names')).toEqual(['block2_sepconv1/depthwise_kernel:0', 'block2_sepconv1/pointwise_kernel:0']);
      expect(attr(file.get('block1_conv1_bn'), 'weight_names')).toEqual(
        ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((w) => `block1_conv1_bn/${w}:0`),
      );
      expect(attr(file.get('top_conv'), 'weight_names')).toEqual(['top_conv/kernel:0', 'top_conv/bias:0']);
      // No weights: an empty float64 array, as Keras writes it.
      expect(Array.from(attr(file.get('input'), 'weight_names') as ArrayLike<number>)).toEqual([]);
    } finally {
      close();
    }
  });

  it('keras3: /layers/<snake_case class>[_n]/vars/<i> with a name attribute, /vars for the model', async () => {
    const { file, close } = await openH5(await saveKerasWeights(model, { format: 'keras3' }));
    try {
      expect(keysOf(file as unknown as H5Node).sort()).toEqual(['layers', 'vars']);
      const groups = keysOf(file.get('layers'));
      expect(groups).toContain('input_layer');
      expect(groups).toContain('conv2d');
      expect(groups).toContain('conv2d_1');
      expect(groups).toContain('separable_conv2d_7');
      expect(groups).not.toContain('separable_conv2d_8'); // 8 separable convs: _n counts from 1
      expect(attr(file.get('layers/conv2d/vars'), 'name')).toBe('block1_conv1');
      expect(attr(file.get('layers/conv2d_1/vars'), 'name')).toBe('block1_conv2');
      expect(shapeOf(file.get('layers/conv2d/vars/0'))).toEqual([3, 3, 1, 8]);
      expect(keysOf(file.get('layers/batch_normalization/vars'))).toEqual(['0', '1', '2', '3']);
      expect(keysOf(file.get('layers/input_layer/vars'))).toEqual([]);
      expect(keysOf(file.get('vars'))).toEqual([]);
    } finally {
      close();
    }
  });

  it('.keras: metadata.json, config.json in the Keras 3 form, model.weights.h5', async () => {
    const members = unzipSync(await saveKerasModel(model));
    expect(Object.keys(members).sort()).toEqual(['config.json', 'metadata.json', 'model.weights.h5']);
    const metadata = JSON.parse(new TextDecoder().decode(members['metadata.json']));
    expect(metadata.keras_version).toBe('3.10.0');
    expect(metadata.date_saved).toMatch(/^\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d$/);
    const config = JSON.parse(new TextDecoder().decode(members['config.json']));
    expect(config).toMatchObject({ module: 'keras', class_name: 'Functional', registered_name: 'Functional' });
    const [input, conv] = config.config.layers;
    expect(input).toMatchObject({ class_name: 'InputLayer', config: { batch_shape: [null, 32, 32, 1], dtype: 'float32' } });
    expect(conv.config.dtype).toEqual({ module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null });
    expect(conv.inbound_nodes).toEqual([
      { args: [{ class_name: '__keras_tensor__', config: { shape: [null, 32, 32, 1], dtype: 'float32', keras_history: ['input', 0, 0] } }], kwargs: {} },
    ]);
    const add = config.config.layers.find((l: { class_name: string }) => l.class_name === 'Add');
    expect(add.inbound_nodes[0].args[0]).toHaveLength(2);
    const { file, close } = await openH5(members['model.weights.h5']!);
    try {
      expect(shapeOf(file.get('layers/conv2d/vars/0'))).toEqual([3, 3, 1, 8]);
    } finally {
      close();
    }
  });

  it('bad options are typed errors', async () => {
    await expect(saveKerasWeights(model, { format: 'keras4' as never })).rejects.toThrow(XceptionConfigError);
    await expect(saveKerasWeights(model, { format: 'keras4' as never })).rejects.toThrow(/format must be 'keras2' or 'keras3'; got "keras4"/);
    await expect(saveKerasWeights({} as never)).rejects.toThrow(/model must be a tf\.LayersModel/);
    await expect(saveKerasModel(null as never)).rejects.toThrow(/model must be a tf\.LayersModel/);
  });
});
