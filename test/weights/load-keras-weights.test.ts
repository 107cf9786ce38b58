import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception, loadKerasWeights, XceptionWeightsError, type XceptionOptions } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { KERAS_LAYOUTS, writeKerasWeights } from '../helpers/keras-fixtures.js';

beforeAll(() => useBackend('wasm'));

// Small but complete: every layer kind, one middle unit.
const SMALL: XceptionOptions = { inputShape: [71, 71, 3], numClasses: 10, middleFlowRepeats: 1 };

/** A model whose weights (BN statistics included) are random and not the initializer's. */
function randomModel(options: XceptionOptions, seed: number): tf.LayersModel {
  const model = createXception(options);
  model.setWeights(model.weights.map((w, i) =>
    w.originalName.endsWith('moving_variance')
      ? tf.randomUniform(w.shape as number[], 0.5, 1.5, 'float32', seed + i)
      : tf.randomNormal(w.shape as number[], 0, 0.2, 'float32', seed + i)));
  return model;
}

/** Every weight's bits (as uint32, so NaN and -0 compare exactly). */
const snapshot = (model: tf.LayersModel) => model.getWeights().map((w) => new Uint32Array((w.dataSync() as Float32Array).slice().buffer));

/** Bit-for-bit equality of two weight snapshots, reported as the first differing weight and index. */
function expectSameBits(actual: Uint32Array[], expected: Uint32Array[]): void {
  expect(actual.length).toBe(expected.length);
  const diffs: string[] = [];
  actual.forEach((a, w) => {
    const e = expected[w]!;
    if (a.length !== e.length) diffs.push(`weight ${w}: length ${a.length} vs ${e.length}`);
    else for (let i = 0; i < a.length; i++) if (a[i] !== e[i]) { diffs.push(`weight ${w}, index ${i}`); break; }
  });
  expect(diffs).toEqual([]);
}

describe('loadKerasWeights: every Keras layout', () => {
  let source: tf.LayersModel;
  beforeAll(() => {
    source = randomModel(SMALL, 1);
  });

  it.each(KERAS_LAYOUTS)('%s: every weight equals the file bit for bit, and predictions match', async (layout) => {
    const bytes = await writeKerasWeights(source, layout);
    const model = createXception(SMALL);
    const result = await loadKerasWeights(model, bytes);
    expect(result).toEqual({ layout: layout === 'keras3' ? 'keras3' : 'keras2', layersLoaded: 39, valuesLoaded: source.countParams() });
    expectSameBits(snapshot(model), snapshot(source));
    tf.tidy(() => {
      const x = tf.randomUniform([2, 71, 71, 3], -1, 1, 'float32', 9);
      expect((model.predict(x) as tf.Tensor).dataSync()).toEqual((source.predict(x) as tf.Tensor).dataSync());
    });
    model.dispose();
  });

  it('loads from a Node Buffer view, a Blob and a file path too', async () => {
    const bytes = await writeKerasWeights(source, 'keras1');
    const { writeFileSync, rmSync } = await import('node:fs');
    const path = `${(await import('node:os')).tmpdir()}/xception-ts-load-${process.pid}.h5`;
    writeFileSync(path, bytes);
    const pooled = Buffer.concat([Buffer.from('padding!'), Buffer.from(bytes)]).subarray(8);
    for (const input of [pooled, new Blob([bytes as Uint8Array<ArrayBuffer>]), path]) {
      const model = createXception(SMALL);
      await loadKerasWeights(model, input);
      expectSameBits(snapshot(model), snapshot(source));
      model.dispose();
    }
    rmSync(path);
  });

  it('matches by name as an option (Keras 2 names), leaving unmatched model layers alone', async () => {
    const withTop = await writeKerasWeights(source, 'keras2');
    const noTop = createXception({ ...SMALL, includeTop: false, pooling: 'avg' });
    const before = noTop.getLayer('block1_conv1').getWeights()[0]!.dataSync().slice();
    await loadKerasWeights(noTop, withTop, { byName: true });
    expect(noTop.getLayer('block1_conv1').getWeights()[0]!.dataSync()).toEqual(source.getLayer('block1_conv1').getWeights()[0]!.dataSync());
    expect(noTop.getLayer('block1_conv1').getWeights()[0]!.dataSync()).not.toEqual(before);
    noTop.dispose();
    const official = await writeKerasWeights(source, 'keras1');
    await expect(loadKerasWeights(createXception(SMALL), official, { byName: true })).rejects.toThrow(
      /no layer name matches the model's \(file: 'convolution2d_1', .*The official Keras files use Keras 1 names: load them by order\./,
    );
  });
});

describe('loadKerasWeights refuses what does not fit, and changes nothing', () => {
  it('a file with the top into a model without it: the layer counts, with a hint', async () => {
    const bytes = await writeKerasWeights(randomModel(SMALL, 2), 'keras2');
    const model = createXception({ ...SMALL, includeTop: false });
    const before = snapshot(model);
    const tensors = tf.memory().numTensors;
    await expect(loadKerasWeights(model, bytes)).rejects.toThrow(
      "the weight file has 39 layers with weights but the model 'xception' has 38 (one more: a file with the top, loaded into a model with includeTop: false?); loading by order needs the same architecture.",
    );
    expectSameBits(snapshot(model), before);
    expect(tf.memory().numTensors).toBe(tensors);
    model.dispose();
  });

  it('a shape mismatch deep in the file leaves even the earlier layers unchanged', async () => {
    const bytes = await writeKerasWeights(randomModel({ ...SMALL, numClasses: 7 }, 3), 'keras1');
    const model = createXception(SMALL);
    const before = snapshot(model);
    const error = await loadKerasWeights(model, bytes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XceptionWeightsError);
    expect((error as Error).message).toBe(
      "the weight file: file layer 'dense_1' (/dense_1) does not fit model layer 'predictions' (Dense): " +
        "weight 0 ('kernel') has shape [2048,10] in the model and [2048,7] in the file (dataset /dense_1/dense_1_W:0).",
    );
    expectSameBits(snapshot(model), before);
    model.dispose();
  });

  it('NaN or Infinity is refused by default, naming the dataset, and accepted on request', async () => {
    const source = randomModel(SMALL, 4);
    const bn = source.getLayer('block2_sepconv1_bn');
    const [gamma, ...rest] = bn.getWeights();
    const poisoned = gamma!.dataSync().slice();
    poisoned[3] = Number.NaN;
    bn.setWeights([tf.tensor(poisoned), ...rest]);
    const bytes = await writeKerasWeights(source, 'keras2');
    const model = createXception(SMALL);
    const before = snapshot(model);
    await expect(loadKerasWeights(model, bytes)).rejects.toThrow(
      'the weight file: dataset /block2_sepconv1_bn/block2_sepconv1_bn/gamma:0 holds NaN at index 3; pass allowNonFinite: true to load it anyway.',
    );
    expectSameBits(snapshot(model), before);
    await loadKerasWeights(model, bytes, { allowNonFinite: true });
    expect(Number.isNaN(model.getLayer('block2_sepconv1_bn').getWeights()[0]!.dataSync()[3])).toBe(true);
    model.dispose();
  });
});
