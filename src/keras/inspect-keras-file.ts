import type { LayersModel } from '@tensorflow/tfjs-layers';
import { XceptionWeightsError } from '../errors.js';
import { Hdf5Reader } from '../weights/hdf5-reader.js';
import { readKerasWeightFile } from '../weights/keras-weight-file.js';
import { readWeightsSource, type WeightsSource } from '../weights/weights-source.js';
import { isZip } from './keras-archive.js';
import { listConfigLayers } from './keras-config.js';
import { openKerasModelFile } from './keras-model-file.js';
import { buildModel } from './load-keras-model.js';
import { requireKnownOptions } from '../model/xception-options.js';
import { resolveDownloadOptions, type DownloadOptions } from '../platform/fetch-bytes.js';
import { resolveKerasFileLimits } from './keras-file-limits.js';

/**
 * One layer of a Keras file, as {@link inspectKerasFile} lists it.
 *
 * @example
 * ```ts
 * const row: KerasFileLayer = { name: 'conv2d_1', className: 'Conv2D', path: 'conv2d_1', parameters: 72 };
 * ```
 * @category Keras files
 */
export interface KerasFileLayer {
  /** The layer's name. */
  name: string;
  /** Its Keras class (`null` in a weights-only file, which records none). */
  className: string | null;
  /** Its place in nested models, e.g. `'xception/block1_conv1'`. */
  path: string;
  /** Scalars in its weights (`null` when the model cannot be built, see {@link KerasFileSummary.buildError}). */
  parameters: number | null;
}

/**
 * What {@link inspectKerasFile} found.
 *
 * @example
 * ```ts
 * const { format, kerasVersion, parameters }: KerasFileSummary = await inspectKerasFile('./model.keras');
 * ```
 * @category Keras files
 */
export interface KerasFileSummary {
  /** `'keras'` (Keras 3 archive), `'h5-model'` (full model) or `'h5-weights'` (weights only: no config). */
  format: 'keras' | 'h5-model' | 'h5-weights';
  /** `keras_version` as recorded (`null` for Keras 1.1-era weight files, which record none). */
  kerasVersion: string | null;
  /**
   * The program that wrote the file, when it is not Keras and says so: `'xception-ts'` for
   * {@link saveKerasModel}'s archives (whose `kerasVersion` is the Keras format they follow). `null` otherwise.
   */
  savedBy: string | null;
  /** The model's class (`'Functional'`, `'Model'`, `'Sequential'`), or `null` for weights-only files. */
  modelClass: string | null;
  /** The layers, nested models' layers after their model. */
  layers: KerasFileLayer[];
  /** Scalars in all weights, optimizer state excluded (`null` when the model cannot be built). */
  parameters: number | null;
  /** Why TensorFlow.js cannot build the model, when it cannot; `null` otherwise. */
  buildError: string | null;
}

/**
 * The {@link inspectKerasFile} function options.
 *
 * @example
 * ```ts
 * const options: InspectKerasFileOptions = { maxParameters: 2 ** 30, download: { timeoutMs: 10_000 } };
 * ```
 * @category Keras files
 */
export interface InspectKerasFileOptions {
  /**
   * The most bytes the file may inflate to (a `.keras` archive's
   * `model.weights.h5` as declared, HDF5 gzip chunks as they inflate).
   * @defaultValue `1073741824` (1 GiB, {@link KERAS_FILE_LIMITS})
   */
  maxUncompressedBytes?: number;
  /**
   * The most scalars the model may hold; a larger model is listed with the
   * reason in `buildError`, without being allocated.
   * @defaultValue `268435456` (2^28, {@link KERAS_FILE_LIMITS})
   */
  maxParameters?: number;
  /** Timeouts, size cap and abort signal when `source` is a URL; see {@link DownloadOptions}. @defaultValue `{}` */
  download?: DownloadOptions;
}

/**
 * Describes a Keras file without loading its weights into anything: format,
 * Keras version, layer table and parameter count. Model files are built (to
 * count parameters exactly as loaded) and disposed; a model TensorFlow.js
 * cannot build is still listed, with the reason in `buildError`.
 *
 * @param source - A `.keras` archive, a full-model `.h5` or a weights-only `.h5`. See {@link WeightsSource}.
 * @param options - See {@link InspectKerasFileOptions}.
 * @returns The summary.
 * @throws {@link XceptionWeightsError} when the file is neither HDF5 nor a zip archive, or is damaged;
 *   {@link XceptionModelFileError} when its config is nested deeper than {@link KERAS_FILE_LIMITS} or its
 *   archive inflates past `maxUncompressedBytes` (a graph with missing layers or cycles, or a model above
 *   `maxParameters`, is listed with the reason in `buildError`).
 * @throws {@link XceptionDownloadError} when a URL cannot be downloaded within `options.download`'s limits.
 * @throws {@link XceptionConfigError} for an unknown or invalid option.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inspectKerasFile } from 'xception-ts';
 *
 * await tf.ready();
 * const summary = await inspectKerasFile('./fer2013_mini_XCEPTION.102-0.66.hdf5');
 * console.log(summary.format, summary.kerasVersion, summary.parameters); // h5-model 2.0.5 58423
 * ```
 * @category Keras files
 */
export async function inspectKerasFile(source: WeightsSource, options: InspectKerasFileOptions = {}): Promise<KerasFileSummary> {
  requireKnownOptions('inspectKerasFile', options, ['maxUncompressedBytes', 'maxParameters', 'download']);
  const limits = resolveKerasFileLimits('inspectKerasFile', options);
  resolveDownloadOptions(options.download);
  const { bytes, label } = await readWeightsSource(source, options.download);
  if (!isZip(bytes)) {
    const reader = new Hdf5Reader(bytes, label, limits.maxUncompressedBytes);
    if (!('model_config' in reader.attrs('/'))) return inspectWeightsOnly(reader, label);
  }
  const file = openKerasModelFile(bytes, label, limits.maxUncompressedBytes);
  const configLayers = listConfigLayers(file.config);
  let model: LayersModel | null = null;
  let buildError: string | null = null;
  try {
    model = await buildModel(file.config, label, limits.maxParameters);
  } catch (error) {
    // A damaged graph or a model above maxParameters is listed, with the reason.
    if (!(error instanceof XceptionWeightsError)) throw error;
    buildError = error.message;
  }
  try {
    const layers = configLayers.map(({ name, className, parents }) => ({
      name,
      className,
      path: [...parents, name].join('/'),
      parameters: model ? (findLayer(model, [...parents, name])?.countParams() ?? null) : null,
    }));
    return {
      format: file.format === 'keras' ? 'keras' : 'h5-model',
      kerasVersion: file.kerasVersion,
      savedBy: file.savedBy,
      modelClass: typeof file.config['class_name'] === 'string' ? file.config['class_name'] : null,
      layers,
      parameters: model ? model.countParams() : null,
      buildError,
    };
  } finally {
    model?.dispose();
  }
}

function inspectWeightsOnly(reader: Hdf5Reader, label: string): KerasFileSummary {
  const file = readKerasWeightFile(reader, label);
  const attrs = reader.attrs('/');
  const layers = file.layers.map((layer) => ({
    name: layer.name,
    className: null,
    path: layer.path,
    parameters: layer.weights.reduce((n, w) => n + w.shape.reduce((m, d) => m * d, 1), 0),
  }));
  const version = attrs['keras_version'];
  return {
    format: 'h5-weights',
    kerasVersion: typeof version === 'string' ? version : null,
    savedBy: null,
    modelClass: null,
    layers,
    parameters: layers.reduce((n, l) => n + l.parameters, 0),
    buildError: null,
  };
}

function findLayer(model: LayersModel, path: string[]): LayersModel['layers'][number] | undefined {
  let container: LayersModel = model;
  let layer: LayersModel['layers'][number] | undefined;
  for (const name of path) {
    layer = container.layers.find((l) => l.name === name);
    if (!layer) return undefined;
    container = layer as unknown as LayersModel;
  }
  return layer;
}
