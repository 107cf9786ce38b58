import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';

beforeAll(() => useBackend('wasm'));

/** Saves a model into memory and loads it back with plain tf.loadLayersModel. */
async function roundTrip(model: tf.LayersModel): Promise<tf.LayersModel> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return tf.loadLayersModel(tf.io.fromMemory(artifacts!));
}

describe('save → tf.loadLayersModel round trip (no custom classes registered)', () => {
  it.each([
    ['keras, 1000-class top at 299', { inputShape: [299, 299, 3] as [number, number, number] }],
    ['postact, 100 classes, dropout', { preset: 'postact' as const, numClasses: 100, dropout: 0.2 }],
    ['keras, no top, max pooling, 71', { includeTop: false, pooling: 'max' as const, inputShape: [71, 71, 3] as [number, number, number] }],
  ])('%s: identical layers, weights and predictions', async (_label, options) => {
    const model = createXception(options);
    // Non-trivial BN statistics, so that inference-mode BN is exercised too.
    for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
      const [gamma, beta, mean, variance] = layer.getWeights();
      layer.setWeights([
        gamma!, beta!,
        tf.randomNormal(mean!.shape, 0, 0.1, 'float32', 1),
        tf.randomUniform(variance!.shape, 0.5, 1.5, 'float32', 2),
      ]);
    }
    const loaded = await roundTrip(model);
    try {
      expect(loaded.layers.map((l) => [l.name, l.getClassName()])).toEqual(model.layers.map((l) => [l.name, l.getClassName()]));
      expect(loaded.countParams()).toBe(model.countParams());
      const [height, width] = model.inputs[0]!.shape.slice(1, 3) as number[];
      const x = tf.randomUniform([2, height!, width!, 3], -1, 1, 'float32', 3);
      const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
      expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
      tf.dispose([x, a, b]);
    } finally {
      model.dispose();
      loaded.dispose();
    }
  });
});
