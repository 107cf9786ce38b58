import { tensor, tidy } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { XceptionWeightsError } from '../errors.js';
import { Hdf5Reader } from '../weights/hdf5-reader.js';
import { keras3LayerPaths } from './keras3-weight-paths.js';

/**
 * Loads a Keras 3 `.weights.h5` (the weights of a `.keras` archive) into a
 * model built from the same config, nested models included, atomically:
 * every group, count, shape and value is checked before any weight is set.
 * The optimizer's variables (`/optimizer`) are ignored; gzip chunks inflate
 * to at most `maxInflatedBytes` together. Returns the number of scalars
 * assigned. @internal
 */
export function loadKeras3Weights(model: LayersModel, bytes: ArrayBuffer, label: string, allowNonFinite: boolean, maxInflatedBytes: number): number {
  const reader = new Hdf5Reader(bytes, label, maxInflatedBytes);
  const planned = keras3LayerPaths(model)
    .filter(({ layer, nested }) => !nested && layer.weights.length > 0)
    .map(({ layer, path }) => {
      const vars = `${path}/vars`;
      if (!reader.hasGroup(vars)) {
        throw new XceptionWeightsError(`${label}: no ${vars} group for layer '${layer.name}' (${layer.getClassName()}).`);
      }
      const indices = reader.keys(vars).filter((key) => /^\d+$/.test(key));
      if (indices.length !== layer.weights.length) {
        throw new XceptionWeightsError(
          `${label}: ${vars} holds ${indices.length} variables, layer '${layer.name}' (${layer.getClassName()}) has ${layer.weights.length}.`,
        );
      }
      const datasets = layer.weights.map((weight, i) => {
        const dataset = reader.dataset(`${vars}/${i}`);
        const expected = weight.shape as number[];
        if (dataset.shape.length !== expected.length || dataset.shape.some((d, k) => d !== expected[k])) {
          throw new XceptionWeightsError(
            `${label}: ${vars}/${i} has shape [${dataset.shape.join(',')}], layer '${layer.name}' expects [${expected.join(',')}] ` +
              `for '${weight.originalName}'.`,
          );
        }
        return dataset;
      });
      return { layer, datasets };
    });
  const values = planned.map(({ datasets }) =>
    datasets.map((dataset) => {
      const data = dataset.readFloat32();
      if (!allowNonFinite) {
        const bad = data.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) {
          throw new XceptionWeightsError(
            `${label}: dataset ${dataset.path} holds ${data[bad]} at index ${bad}; pass allowNonFinite: true to load it anyway.`,
          );
        }
      }
      return data;
    }),
  );
  let assigned = 0;
  planned.forEach(({ layer }, p) => {
    tidy(() => layer.setWeights(values[p]!.map((data, w) => tensor(data, layer.weights[w]!.shape as number[], 'float32'))));
    assigned += values[p]!.reduce((n, data) => n + data.length, 0);
  });
  return assigned;
}
