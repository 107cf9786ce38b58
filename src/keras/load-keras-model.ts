import { engine, serialization } from '@tensorflow/tfjs-core';
import { models, type LayersModel } from '@tensorflow/tfjs-layers';
import { XceptionConfigError, XceptionModelFileError } from '../errors.js';
import { registerXceptionLayers } from '../model/atrous-layers.js';
import { requireKnownOptions } from '../model/xception-options.js';
import { loadKerasWeightsFromBuffer } from '../weights/load-keras-weights.js';
import { resolveDownloadOptions, type DownloadOptions } from '../platform/fetch-bytes.js';
import { readWeightsSource, type WeightsSource } from '../weights/weights-source.js';
import { listConfigLayers, translateModelConfig, type KerasJson } from './keras-config.js';
import { checkModelGraph } from './keras-graph.js';
import { KERAS_FILE_LIMITS, resolveKerasFileLimits } from './keras-file-limits.js';
import { openKerasModelFile } from './keras-model-file.js';
import { withParameterBudget } from './parameter-budget.js';
import { loadKeras3Weights } from './load-keras3-weights.js';

/**
 * The {@link loadKerasModel} function options.
 *
 * @example
 * ```ts
 * const options: LoadKerasModelOptions = { maxUncompressedBytes: 256 * 1024 * 1024 };
 * ```
 * @category Keras files
 */
export interface LoadKerasModelOptions {
  /** Accept NaN and ±Infinity among the weights (refused by default, naming the dataset). @defaultValue `false` */
  allowNonFinite?: boolean;
  /**
   * The most bytes the file may inflate to: the `model.weights.h5` member a
   * `.keras` archive declares (a larger one is refused before it is
   * inflated), and all HDF5 gzip chunks of the weights together (counted as
   * they inflate; each chunk also stops at its declared size).
   * @defaultValue `1073741824` (1 GiB, {@link KERAS_FILE_LIMITS})
   */
  maxUncompressedBytes?: number;
  /**
   * The most scalars the model's weights may hold; counted as the config's
   * layers declare their weights, before any is allocated.
   * @defaultValue `268435456` (2^28, 1 GiB of float32, {@link KERAS_FILE_LIMITS})
   */
  maxParameters?: number;
  /**
   * Timeouts, size cap and abort signal when `source` is a URL; see
   * {@link DownloadOptions} (default cap 1 GiB, timeouts 30 s).
   * @defaultValue `{}`
   */
  download?: DownloadOptions;
}

const KNOWN_OPTIONS = ['allowNonFinite', 'maxUncompressedBytes', 'maxParameters', 'download'];

/**
 * Loads any Keras model file as a `tf.LayersModel`, without Python: a
 * full-model `.h5` from Keras 1.x, 2.x or tf.keras (`model_config` +
 * `model_weights`), a Keras 3 `.keras` archive (`config.json`,
 * `model.weights.h5`, `metadata.json`) or a Keras 3 legacy `.h5`. The config
 * is translated to what TensorFlow.js' layers accept (Keras 1 argument names,
 * Keras 3 `batch_shape`, `DTypePolicy` dicts, `inbound_nodes` in the
 * `args`/`__keras_tensor__` form, nested functional and sequential models),
 * this library's layers are registered, the weights are loaded and checked
 * (shapes, finiteness) and optimizer state is ignored.
 *
 * @param source - The file: bytes, a `Blob`, a URL, or a path in Node. See {@link WeightsSource}.
 * @param options - See {@link LoadKerasModelOptions}.
 * @returns The model, uncompiled, with the file's weights.
 * @throws {@link XceptionDownloadError} when a URL cannot be downloaded within `options.download`'s limits.
 * @throws {@link XceptionModelFileError} for a damaged archive or config (a layer that takes its input
 *   from a missing layer or a missing node, layers that feed each other, a config nested deeper than
 *   {@link KERAS_FILE_LIMITS}), a model above `maxParameters`, a file that inflates past
 *   `maxUncompressedBytes`, or a layer TensorFlow.js cannot build (named with its class); {@link XceptionWeightsError} when the weights do not fit; nothing is left allocated.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { loadKerasModel } from 'xception-ts';
 *
 * await tf.ready();
 * const model = await loadKerasModel('./fer2013_mini_XCEPTION.102-0.66.hdf5');
 * const emotions = model.predict(tf.zeros([1, 64, 64, 1])) as tf.Tensor; // [1, 7]
 * ```
 * @category Keras files
 */
export async function loadKerasModel(source: WeightsSource, options: LoadKerasModelOptions = {}): Promise<LayersModel> {
  requireKnownOptions('loadKerasModel', options, KNOWN_OPTIONS);
  const allowNonFinite = options.allowNonFinite ?? false;
  if (typeof allowNonFinite !== 'boolean') {
    throw new XceptionConfigError(`loadKerasModel: allowNonFinite must be true or false; got ${JSON.stringify(allowNonFinite)}.`);
  }
  const limits = resolveKerasFileLimits('loadKerasModel', options);
  resolveDownloadOptions(options.download);
  const { bytes, label } = await readWeightsSource(source, options.download);
  const file = openKerasModelFile(bytes, label, limits.maxUncompressedBytes);
  const model = await buildModel(file.config, label, limits.maxParameters);
  try {
    if (file.format === 'keras') loadKeras3Weights(model, file.weights, label, allowNonFinite, limits.maxUncompressedBytes);
    else loadKerasWeightsFromBuffer(model, file.weights, label, { allowNonFinite, maxUncompressedBytes: limits.maxUncompressedBytes });
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/**
 * Translates a config and builds the model: the graph is checked first
 * (missing layers, cycles), and the weights are counted against
 * `maxParameters` as they are declared. On failure, disposes every variable
 * the attempt created. @internal
 */
export async function buildModel(config: KerasJson, label: string, maxParameters: number = KERAS_FILE_LIMITS.maxParameters): Promise<LayersModel> {
  const translated = translateModelConfig(config, label);
  registerXceptionLayers();
  refuseUnknownClasses(translated, label);
  checkModelGraph(translated, label);
  const before = new Set(Object.keys(engine().registeredVariables));
  try {
    // Without a weights manifest modelFromJSON only deserializes the config, synchronously, before its first await.
    return await withParameterBudget(maxParameters, label, () => models.modelFromJSON({ modelTopology: translated } as never));
  } catch (error) {
    for (const [name, variable] of Object.entries(engine().registeredVariables)) {
      if (!before.has(name)) variable.dispose();
    }
    if (error instanceof XceptionModelFileError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new XceptionModelFileError(`${label}: TensorFlow.js cannot build the model from its config: ${reason.slice(0, 300)}`);
  }
}

/** A layer class that TensorFlow.js has not registered: a typed error naming the layer and the class. */
function refuseUnknownClasses(translated: KerasJson, label: string): void {
  const known = serialization.SerializationMap.getMap().classNameMap;
  for (const layer of listConfigLayers(translated)) {
    if (layer.className in known) continue;
    const where = [...layer.parents, layer.name].join('/');
    throw new XceptionModelFileError(
      `${label}: layer '${where}' is a ${layer.className}, which TensorFlow.js cannot build (it has no such layer class). ` +
        'Remove it before saving (preprocessing and augmentation layers belong in the input pipeline), or register ' +
        'an implementation with tf.serialization.registerClass before loading.',
    );
  }
}
