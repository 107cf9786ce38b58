import type { LayersModel } from '@tensorflow/tfjs-layers';
import { requireLayersModel } from '../argument-checks.js';
import { XceptionConfigError } from '../errors.js';
import { writeKerasArchive } from './keras-archive.js';
import { toKeras3Config } from './keras3-config.js';
import { saveKerasWeights } from './save-keras-weights.js';

/** The Keras 3 version whose `.keras` format the archive follows (`vars` groups carry a `name` attribute since 3.10). */
const KERAS3_VERSION = '3.10.0';

/**
 * Writes a model as a Keras 3 `.keras` archive: `config.json` (the config
 * translated back to Keras 3's form: `Functional`, `batch_shape`,
 * `DTypePolicy`, `__keras_tensor__` inbound nodes), `model.weights.h5`
 * (written with h5wasm, see {@link saveKerasWeights}) and `metadata.json`.
 * Load it in Keras 3 with `keras.saving.load_model('model.keras')`, or back
 * here with {@link loadKerasModel}. No optimizer state is written.
 *
 * @param model - Any tfjs layers model.
 * @returns The archive's bytes.
 * @throws {@link XceptionConfigError} when `model` is not a layers model, or h5wasm is not installed.
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * import * as tf from '@tensorflow/tfjs';
 * import { createXception, saveKerasModel } from 'xception-ts';
 *
 * await tf.ready();
 * const model = createXception({ preset: 'mini', inputShape: [64, 64, 1], numClasses: 7 });
 * await writeFile('mini.keras', await saveKerasModel(model));
 * ```
 * @category Keras files
 */
export async function saveKerasModel(model: LayersModel): Promise<Uint8Array> {
  if (model === null || typeof model !== 'object' || typeof (model as { toJSON?: unknown }).toJSON !== 'function') {
    throw new XceptionConfigError('saveKerasModel: model must be a tf.LayersModel (from createXception, loadKerasModel, tf.model, ...).');
  }
  requireLayersModel('saveKerasModel: model', model);
  const config = toKeras3Config(model);
  const weights = await saveKerasWeights(model, { format: 'keras3' });
  const now = new Date().toISOString();
  // keras_version is the format followed; saved_by says it was not Keras (inspectKerasFile reports it).
  const metadata = { keras_version: KERAS3_VERSION, date_saved: `${now.slice(0, 10)}@${now.slice(11, 19)}`, saved_by: 'xception-ts' };
  return writeKerasArchive({ config, metadata, weights });
}
