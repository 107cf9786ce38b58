import type { LayersModel } from '@tensorflow/tfjs-layers';
import { requireLayersModel } from '../argument-checks.js';
import { XceptionConfigError } from '../errors.js';
import { requireKnownOptions } from '../model/xception-options.js';
import { ensureGroup, writeHdf5, type Hdf5WritableGroup } from './hdf5-writer.js';
import { isModel, keras3LayerPaths } from './keras3-weight-paths.js';

type Layer = LayersModel['layers'][number];

/**
 * The {@link saveKerasWeights} function options.
 *
 * @example
 * ```ts
 * const options: SaveKerasWeightsOptions = { format: 'keras3' };
 * ```
 * @category Keras files
 */
export interface SaveKerasWeightsOptions {
  /**
   * `'keras2'`: the `save_weights('x.h5')` layout of Keras 2 and tf.keras
   * (`layer_names`, `weight_names`, datasets nested by name,
   * `/block1_conv1/block1_conv1/kernel:0`), which Keras 2 reads with
   * `model.load_weights` and Keras 3 with its legacy H5 loader.
   * `'keras3'`: Keras 3's `.weights.h5` (`/layers/<snake_case_class>[_n]/vars/<i>`).
   * @defaultValue `'keras3'`
   */
  format?: 'keras2' | 'keras3';
}

/** The Keras 2 version whose `save_weights` layout the 'keras2' format follows. */
const KERAS2_VERSION = '2.15.0';

/**
 * Writes a model's weights as a Keras HDF5 weight file, so that a model
 * trained in JavaScript continues in Keras (`model.load_weights(path)` on the
 * same architecture; Keras pairs layers by order). Needs the optional peer
 * dependency `h5wasm` (`npm install h5wasm`), which writes real HDF5.
 *
 * @param model - Any tfjs layers model, e.g. from {@link createXception} or {@link loadKerasModel}.
 * @param options - See {@link SaveKerasWeightsOptions}.
 * @returns The file's bytes: write them to `model.weights.h5` (Keras 3) or `weights.h5` (Keras 2).
 * @throws {@link XceptionConfigError} for a bad option, or when h5wasm is not installed.
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * import * as tf from '@tensorflow/tfjs';
 * import { createXception, saveKerasWeights } from 'xception-ts';
 *
 * await tf.ready();
 * const model = createXception({ preset: 'mini', inputShape: [64, 64, 1], numClasses: 7 });
 * await writeFile('mini.weights.h5', await saveKerasWeights(model, { format: 'keras3' }));
 * ```
 * @category Keras files
 */
export async function saveKerasWeights(model: LayersModel, options: SaveKerasWeightsOptions = {}): Promise<Uint8Array> {
  requireKnownOptions('saveKerasWeights', options, ['format']);
  const format = options.format ?? 'keras3';
  if (format !== 'keras2' && format !== 'keras3') {
    throw new XceptionConfigError(`saveKerasWeights: format must be 'keras2' or 'keras3'; got ${JSON.stringify(format)}.`);
  }
  if (model === null || typeof model !== 'object' || !Array.isArray((model as { layers?: unknown }).layers)) {
    throw new XceptionConfigError('saveKerasWeights: model must be a tf.LayersModel (from createXception, loadKerasModel, tf.model, ...).');
  }
  requireLayersModel('saveKerasWeights: model', model);
  const values = readValues(model);
  return writeHdf5('saveKerasWeights', (file) => (format === 'keras2' ? writeKeras2(file, model, values) : writeKeras3(file, model, values)));
}

/** Every layer's weight values, read before the file is opened. */
function readValues(model: LayersModel): Map<Layer, { data: Float32Array; shape: number[] }[]> {
  const layers = [model, ...keras3LayerPaths(model).map((p) => p.layer)] as Layer[];
  return new Map(
    layers.map((layer) => [
      layer,
      layer.weights.map((weight) => {
        const value = weight.read();
        return { data: value.dataSync() as Float32Array, shape: weight.shape as number[] };
      }),
    ]),
  );
}

function writeKeras2(file: Hdf5WritableGroup, model: LayersModel, values: Map<Layer, { data: Float32Array; shape: number[] }[]>): void {
  file.create_attribute('layer_names', model.layers.map((layer) => layer.name));
  file.create_attribute('backend', 'tensorflow');
  file.create_attribute('keras_version', KERAS2_VERSION);
  for (const layer of model.layers) {
    const group = file.create_group(layer.name);
    const weights = values.get(layer)!;
    if (weights.length === 0) {
      // How Keras 2 writes "no weights": an empty float64 array.
      group.create_attribute('weight_names', new Float64Array(0), [0], '<d');
      continue;
    }
    const names = layer.weights.map((weight) => `${keras2WeightName(layer, weight.originalName)}:0`);
    const repeated = names.find((name, i) => names.indexOf(name) !== i);
    if (repeated !== undefined) {
      // h5wasm would skip the second dataset without an error and leave the file incomplete.
      throw new XceptionConfigError(
        `saveKerasWeights: layer '${layer.name}' has two weights named '${repeated}'; the Keras 2 layout needs distinct names ` +
          "(use format: 'keras3', which addresses weights by position).",
      );
    }
    group.create_attribute('weight_names', names);
    names.forEach((name, i) => {
      const parts = name.split('/');
      const parent = ensureGroup(group, parts.slice(0, -1).join('/'));
      parent.create_dataset({ name: parts.at(-1)!, data: weights[i]!.data, shape: weights[i]!.shape, dtype: '<f4' });
    });
  }
}

/** `<layer>/<weight>` for a layer; a nested model's weights keep their inner layer's name. */
function keras2WeightName(layer: Layer, originalName: string): string {
  const short = originalName.slice(originalName.lastIndexOf('/') + 1);
  if (!isModel(layer)) return `${layer.name}/${short}`;
  return originalName.includes('/') ? originalName : `${layer.name}/${short}`;
}

function writeKeras3(file: Hdf5WritableGroup, model: LayersModel, values: Map<Layer, { data: Float32Array; shape: number[] }[]>): void {
  file.create_group('vars');
  for (const { layer, path, nested } of keras3LayerPaths(model)) {
    const vars = ensureGroup(file, `${path}/vars`);
    vars.create_attribute('name', layer.name);
    if (nested) continue;
    values.get(layer)!.forEach((value, i) => {
      vars.create_dataset({ name: String(i), data: value.data, shape: value.shape, dtype: '<f4' });
    });
  }
}
