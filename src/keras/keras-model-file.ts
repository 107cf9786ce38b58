import { XceptionModelFileError } from '../errors.js';
import { Hdf5Reader } from '../weights/hdf5-reader.js';
import { isZip, readKerasArchive } from './keras-archive.js';
import type { KerasJson } from './keras-config.js';
import { requireBoundedDepth } from './keras-file-limits.js';

/**
 * A Keras model file, opened: what it is, its config as written, and where
 * its weights are. @internal
 */
export interface KerasModelFile {
  /** `'h5'`: a full-model HDF5 file (`model.save('x.h5')`, Keras 1, 2, tf.keras or Keras 3 legacy); `'keras'`: a Keras 3 archive. */
  format: 'h5' | 'keras';
  /** `keras_version` as the file records it, or `null` when it records none. */
  kerasVersion: string | null;
  /** The program that saved it when it says so (`saved_by` in a `.keras` archive's metadata), or `null` (Keras). */
  savedBy: string | null;
  /** The backend that saved it (`'tensorflow'`, `'jax'`, …), or `null`. */
  backend: string | null;
  /** The model config (`{class_name, config}`), untranslated. */
  config: KerasJson;
  /** The HDF5 bytes holding the weights: the file itself (`'h5'`) or the archive's `model.weights.h5` (`'keras'`). */
  weights: ArrayBuffer;
}

/** Opens a full-model `.h5` or a `.keras` archive, whichever the bytes are. @internal */
export function openKerasModelFile(bytes: ArrayBuffer, label: string, maxUncompressedBytes: number): KerasModelFile {
  if (isZip(bytes)) {
    const archive = readKerasArchive(bytes, label, maxUncompressedBytes);
    requireBoundedDepth(archive.config, `${label}: config.json`);
    return {
      format: 'keras',
      kerasVersion: typeof archive.metadata['keras_version'] === 'string' ? archive.metadata['keras_version'] : null,
      savedBy: typeof archive.metadata['saved_by'] === 'string' ? archive.metadata['saved_by'] : null,
      backend: null,
      config: archive.config,
      weights: archive.weights,
    };
  }
  const reader = new Hdf5Reader(bytes, label);
  const attrs = reader.attrs('/');
  const raw = text(attrs['model_config']);
  if (raw === null) {
    throw new XceptionModelFileError(
      `${label} is an HDF5 file without a 'model_config' attribute: a weights-only file (save_weights). ` +
        'Build the model (e.g. createXception) and load it with loadKerasWeights, or save the whole model with model.save().',
    );
  }
  let config: unknown;
  try {
    config = JSON.parse(raw);
  } catch (error) {
    throw new XceptionModelFileError(`${label}: the 'model_config' attribute is not valid JSON (${(error as Error).message.slice(0, 120)}).`);
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new XceptionModelFileError(`${label}: the 'model_config' attribute is JSON but not an object.`);
  }
  requireBoundedDepth(config, `${label}: the 'model_config' attribute`);
  if (!reader.hasGroup('/model_weights')) {
    throw new XceptionModelFileError(`${label} has a model config but no /model_weights group: it holds no weights.`);
  }
  return { format: 'h5', kerasVersion: text(attrs['keras_version']), savedBy: null, backend: text(attrs['backend']), config: config as KerasJson, weights: bytes };
}

/** An HDF5 string attribute (variable- or fixed-length, possibly bytes), or null. */
function text(value: unknown): string | null {
  if (typeof value === 'string') return value.replace(/\0+$/, '');
  if (value instanceof Uint8Array) return new TextDecoder().decode(value).replace(/\0+$/, '');
  if (Array.isArray(value) && value.length === 1) return text(value[0]);
  return null;
}
