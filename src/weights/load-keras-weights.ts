import { tensor, tidy } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { kerasClassName } from '../model/atrous-layers.js';
import { XceptionConfigError, XceptionWeightsError } from '../errors.js';
import { resolveDownloadOptions, type DownloadOptions } from '../platform/fetch-bytes.js';
import { requireInteger } from '../model/validation.js';
import { DEFAULT_MAX_INFLATED_BYTES, Hdf5Reader } from './hdf5-reader.js';
import { readKerasWeightFile, type FileLayer, type KerasWeightFile } from './keras-weight-file.js';
import { readWeightsSource, type WeightsSource } from './weights-source.js';

type Layer = LayersModel['layers'][number];

/**
 * The {@link loadKerasWeights} function options.
 *
 * @example
 * ```ts
 * const options: LoadKerasWeightsOptions = { byName: true };
 * ```
 * @category Weights
 */
export interface LoadKerasWeightsOptions {
  /**
   * Pair the file's layers with the model's by name instead of by order.
   * By name, model layers missing from the file keep their weights and file
   * layers missing from the model are ignored (Keras' `by_name=True`); at
   * least one layer must match. @defaultValue `false` (by order, as Keras' default)
   */
  byName?: boolean;
  /** Accept NaN and ±Infinity in the file (refused by default, naming the dataset). @defaultValue `false` */
  allowNonFinite?: boolean;
  /**
   * Timeouts, size cap and abort signal when `source` is a URL; see
   * {@link DownloadOptions} (default cap 1 GiB, timeouts 30 s).
   * @defaultValue `{}`
   */
  download?: DownloadOptions;
  /**
   * The most bytes the file's HDF5 gzip chunks may inflate to together,
   * counted as they inflate (each chunk also stops at its declared size), so
   * a small compressed file cannot expand to gigabytes.
   * @defaultValue `1073741824` (1 GiB)
   */
  maxUncompressedBytes?: number;
}

const KNOWN_OPTIONS = ['byName', 'allowNonFinite', 'download', 'maxUncompressedBytes'];

/**
 * What {@link loadKerasWeights} did.
 *
 * @example
 * ```ts
 * const { layout, layersLoaded }: LoadKerasWeightsResult = await loadKerasWeights(model, bytes);
 * ```
 * @category Weights
 */
export interface LoadKerasWeightsResult {
  /** `'keras2'` (Keras 1.1, Keras 2, tf.keras files) or `'keras3'` (`.weights.h5`). */
  layout: 'keras2' | 'keras3';
  /** Model layers whose weights were set. */
  layersLoaded: number;
  /** Scalars assigned. */
  valuesLoaded: number;
}

/**
 * Loads Keras HDF5 weights into a model, atomically: every layer's weight
 * count and shape (and, by default, every value's finiteness) is checked
 * first, and the model is changed only when all fit. Reads the official Keras
 * Applications Xception files (Keras 1.1 layout), Keras 2 and tf.keras
 * `save_weights`/`save` files (also chunked `layer_names`, fixed- and
 * variable-length strings) and Keras 3 `.weights.h5`, without Python.
 *
 * By default layers pair up by order, as Keras' `load_weights` does: the
 * model's layers that have weights, in `model.layers` order, with the file's
 * layers that have weights.
 *
 * @param model - The model to fill, e.g. from {@link createXception}.
 * @param source - The file: bytes, a `Blob`, a URL, or a path in Node. See {@link WeightsSource}.
 * @param options - See {@link LoadKerasWeightsOptions}.
 * @returns The layout found and what was loaded.
 * @throws {@link XceptionWeightsError} when the file cannot be read or does not fit; the model is unchanged.
 * @throws {@link XceptionConfigError} when `model` is not a `tf.LayersModel` or an option is not what it should be.
 * @throws {@link XceptionDownloadError} when a URL cannot be downloaded within `options.download`'s limits.
 *
 * @example
 * ```ts
 * import { createXception, loadKerasWeights } from 'xception-ts';
 *
 * const model = createXception();
 * await loadKerasWeights(model, './xception_weights_tf_dim_ordering_tf_kernels.h5');
 * ```
 * @category Weights
 */
export async function loadKerasWeights(
  model: LayersModel,
  source: WeightsSource,
  options: LoadKerasWeightsOptions = {},
): Promise<LoadKerasWeightsResult> {
  checkArguments(model, options);
  const { bytes, label } = await readWeightsSource(source, options.download);
  return loadKerasWeightsFromBuffer(model, bytes, label, options);
}

/** The model and the options, before the source is read: a bad argument is not the file's fault. */
function checkArguments(model: unknown, options: unknown): void {
  const layers = (model as { layers?: unknown } | null)?.layers;
  if (model === null || typeof model !== 'object' || !Array.isArray(layers)) {
    throw new XceptionConfigError(
      `loadKerasWeights needs a tf.LayersModel (e.g. from createXception()) as its first argument; got ${
        model === null ? 'null' : typeof model === 'object' ? 'an object without layers' : typeof model
      }.`,
    );
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new XceptionConfigError(`loadKerasWeights options must be an object; got ${options === null ? 'null' : typeof options}.`);
  }
  const unknown = Object.keys(options).filter((key) => !KNOWN_OPTIONS.includes(key));
  if (unknown.length > 0) {
    throw new XceptionConfigError(
      `Unknown loadKerasWeights option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; ` +
        `valid options are ${KNOWN_OPTIONS.map((k) => `'${k}'`).join(', ')}.`,
    );
  }
  resolveDownloadOptions((options as LoadKerasWeightsOptions).download);
  const maxUncompressedBytes = (options as LoadKerasWeightsOptions).maxUncompressedBytes;
  if (maxUncompressedBytes !== undefined) requireInteger('loadKerasWeights: maxUncompressedBytes', maxUncompressedBytes, 1);
  for (const key of ['byName', 'allowNonFinite'] as const) {
    const value = (options as LoadKerasWeightsOptions)[key];
    if (value !== undefined && typeof value !== 'boolean') {
      throw new XceptionConfigError(`${key} must be true or false; got ${JSON.stringify(value) ?? typeof value}.`);
    }
  }
}

/** The synchronous core of {@link loadKerasWeights}. @internal */
export function loadKerasWeightsFromBuffer(
  model: LayersModel,
  bytes: ArrayBuffer,
  label: string,
  options: LoadKerasWeightsOptions = {},
): LoadKerasWeightsResult {
  const { file, pairs, values } = readAndCheck(model, bytes, label, options);

  // 3. Assign layer by layer (model.setWeights would order all trainable weights before all others).
  let valuesLoaded = 0;
  pairs.forEach(([layer], p) => {
    tidy(() => layer.setWeights(values[p]!.map((data, w) => tensor(data, layer.weights[w]!.shape as number[], 'float32'))));
    valuesLoaded += values[p]!.reduce((n, data) => n + data.length, 0);
  });
  return { layout: file.layout, layersLoaded: pairs.length, valuesLoaded };
}

/** Everything that can fail, before the model is touched. */
function readAndCheck(model: LayersModel, bytes: ArrayBuffer, label: string, options: LoadKerasWeightsOptions) {
  try {
    const file = readKerasWeightFile(new Hdf5Reader(bytes, label, options.maxUncompressedBytes ?? DEFAULT_MAX_INFLATED_BYTES), label);
    const pairs = options.byName ? pairByName(model, file, label) : pairByOrder(model, file, label);
    // 1. Every weight count and shape, before reading any data.
    for (const [layer, fileLayer] of pairs) checkShapes(layer, fileLayer, label);
    // 2. Every value.
    const values = readValues(pairs, label, options);
    return { file, pairs, values };
  } catch (error) {
    if (error instanceof XceptionWeightsError) throw error;
    // A corrupt file can trip the parser anywhere; it is still the file's fault.
    throw new XceptionWeightsError(`${label} cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function readValues(pairs: [Layer, FileLayer][], label: string, options: LoadKerasWeightsOptions): Float32Array[][] {
  return pairs.map(([, fileLayer]) =>
    fileLayer.weights.map((dataset) => {
      const data = dataset.readFloat32();
      if (!options.allowNonFinite) {
        for (let i = 0; i < data.length; i++) {
          if (!Number.isFinite(data[i]!)) {
            throw new XceptionWeightsError(
              `${label}: dataset ${dataset.path} holds ${data[i]} at index ${i}; pass allowNonFinite: true to load it anyway.`,
            );
          }
        }
      }
      return data;
    }),
  );
}

function pairByOrder(model: LayersModel, file: KerasWeightFile, label: string): [Layer, FileLayer][] {
  const modelLayers = model.layers.filter((layer) => layer.weights.length > 0);
  if (file.layout === 'keras3') {
    const byPath = new Map(file.layers.map((l) => [l.path, l]));
    const counters = new Map<string, number>();
    const pathOf = new Map<Layer, string>();
    for (const layer of model.layers) {
      const base = snakeCase(kerasClassName(layer.getClassName()));
      const n = counters.get(base);
      counters.set(base, n === undefined ? 0 : n + 1);
      pathOf.set(layer, n === undefined ? base : `${base}_${n + 1}`);
    }
    return modelLayers.map((layer) => {
      const fileLayer = byPath.get(pathOf.get(layer)!);
      if (!fileLayer) {
        throw new XceptionWeightsError(
          `${label}: no /layers/${pathOf.get(layer)} group for model layer '${layer.name}' (${layer.getClassName()}); ` +
            `the file has ${file.layers.length} layer groups and the model ${modelLayers.length} layers with weights.`,
        );
      }
      return [layer, fileLayer];
    });
  }
  if (file.layers.length !== modelLayers.length) {
    const hint =
      file.layers.length === modelLayers.length - 1
        ? ' (one fewer: a file without the top, loaded into a model with includeTop: true?)'
        : file.layers.length === modelLayers.length + 1
          ? ' (one more: a file with the top, loaded into a model with includeTop: false?)'
          : '';
    throw new XceptionWeightsError(
      `${label} has ${file.layers.length} layers with weights but the model '${model.name}' has ` +
        `${modelLayers.length}${hint}; loading by order needs the same architecture.`,
    );
  }
  return modelLayers.map((layer, i) => [layer, file.layers[i]!]);
}

function pairByName(model: LayersModel, file: KerasWeightFile, label: string): [Layer, FileLayer][] {
  const byName = new Map(file.layers.map((l) => [l.name, l]));
  const pairs = model.layers
    .filter((layer) => layer.weights.length > 0 && byName.has(layer.name))
    .map((layer): [Layer, FileLayer] => [layer, byName.get(layer.name)!]);
  if (pairs.length === 0) {
    throw new XceptionWeightsError(
      `${label}: no layer name matches the model's (file: ${file.layers.slice(0, 3).map((l) => `'${l.name}'`).join(', ')}…; ` +
        `model: ${model.layers.slice(1, 4).map((l) => `'${l.name}'`).join(', ')}…). The official Keras files use Keras 1 ` +
        'names: load them by order.',
    );
  }
  return pairs;
}

function checkShapes(layer: Layer, fileLayer: FileLayer, label: string): void {
  const where = `${label}: file layer '${fileLayer.name}' (${fileLayer.path}) does not fit model layer '${layer.name}' (${layer.getClassName()})`;
  if (fileLayer.weights.length !== layer.weights.length) {
    throw new XceptionWeightsError(
      `${where}: it has ${fileLayer.weights.length} weights, the model layer ${layer.weights.length} ` +
        `(${layer.weights.map((w) => shortName(w.originalName)).join(', ')}).`,
    );
  }
  layer.weights.forEach((weight, i) => {
    const dataset = fileLayer.weights[i]!;
    const expected = weight.shape as number[];
    if (dataset.shape.length !== expected.length || dataset.shape.some((d, k) => d !== expected[k])) {
      throw new XceptionWeightsError(
        `${where}: weight ${i} ('${shortName(weight.originalName)}') has shape [${expected.join(',')}] in the model ` +
          `and [${dataset.shape.join(',')}] in the file (dataset ${dataset.path}).`,
      );
    }
  });
}

/** Keras' `to_snake_case`: 'SeparableConv2D' → 'separable_conv2d'. */
function snakeCase(name: string): string {
  return name
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

function shortName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}
