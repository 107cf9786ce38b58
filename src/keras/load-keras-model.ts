import { engine, serialization } from '@tensorflow/tfjs-core';
import { models, type LayersModel } from '@tensorflow/tfjs-layers';
import { XceptionConfigError, XceptionModelFileError } from '../errors.js';
import { registerXceptionLayers } from '../model/atrous-layers.js';
import { requireKnownOptions } from '../model/xception-options.js';
import { loadKerasWeightsFromBuffer } from '../weights/load-keras-weights.js';
import { readWeightsSource, type WeightsSource } from '../weights/weights-source.js';
import { listConfigLayers, translateModelConfig, type KerasJson } from './keras-config.js';
import { openKerasModelFile } from './keras-model-file.js';
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
   * The largest `model.weights.h5` a `.keras` archive may declare, in bytes;
   * a larger one is refused before it is inflated (zip bombs).
   * @defaultValue `1073741824` (1 GiB)
   */
  maxUncompressedBytes?: number;
}

const KNOWN_OPTIONS = ['allowNonFinite', 'maxUncompressedBytes'];
const DEFAULT_MAX_UNCOMPRESSED = 1024 * 1024 * 1024;

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
 * @throws {@link XceptionModelFileError} for a damaged archive or config, or a layer TensorFlow.js cannot
 *   build (named with its class); {@link XceptionWeightsError} when the weights do not fit; nothing is left allocated.
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
  const maxBytes = options.maxUncompressedBytes ?? DEFAULT_MAX_UNCOMPRESSED;
  if (!(Number.isSafeInteger(maxBytes) && maxBytes > 0)) {
    throw new XceptionConfigError(`loadKerasModel: maxUncompressedBytes must be a positive integer; got ${JSON.stringify(maxBytes)}.`);
  }
  const { bytes, label } = await readWeightsSource(source);
  const file = openKerasModelFile(bytes, label, maxBytes);
  const model = await buildModel(file.config, label);
  try {
    if (file.format === 'keras') loadKeras3Weights(model, file.weights, label, allowNonFinite);
    else loadKerasWeightsFromBuffer(model, file.weights, label, { allowNonFinite });
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/** Translates a config and builds the model; on failure, disposes every variable the attempt created. @internal */
export async function buildModel(config: KerasJson, label: string): Promise<LayersModel> {
  const translated = translateModelConfig(config, label);
  registerXceptionLayers();
  refuseUnknownClasses(translated, label);
  const before = new Set(Object.keys(engine().registeredVariables));
  try {
    // Without a weights manifest modelFromJSON only deserializes the config.
    return await models.modelFromJSON({ modelTopology: translated } as never);
  } catch (error) {
    for (const [name, variable] of Object.entries(engine().registeredVariables)) {
      if (!before.has(name)) variable.dispose();
    }
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
