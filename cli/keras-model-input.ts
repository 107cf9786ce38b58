import { countParameters, loadKerasModel } from '../src/index.js';
import { isZip } from '../src/keras/keras-archive.js';
import { Hdf5Reader } from '../src/weights/hdf5-reader.js';
import { readWeightsSource } from '../src/weights/weights-source.js';
import { writeLayersModel } from './convert.js';
import type { Quantization } from './quantize.js';
import type { CliIo } from './run-cli.js';

/**
 * Whether a file is a whole Keras model (a `.keras` archive, or an HDF5 file
 * with a `model_config`) rather than weights only; such files need no preset.
 */
export async function isKerasModelFile(path: string): Promise<boolean> {
  // Read as the loaders read it: only a regular file (not /dev/zero or a pipe).
  const { bytes: buffer } = await readWeightsSource(path);
  if (isZip(buffer)) return true;
  return 'model_config' in new Hdf5Reader(buffer, path).attrs('/');
}

/** `xception-ts convert <model.keras|model.h5> <outDir>`: the model comes from the file, no preset needed. */
export async function convertKerasModelFile(path: string, outDir: string, quantization: Quantization | undefined, io: CliIo): Promise<void> {
  const started = performance.now();
  const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  const model = await loadKerasModel(path);
  try {
    io.out(`Loaded the Keras model '${model.name}' from ${path} (${countParameters(model).total.toLocaleString('en-US')} params) in ${seconds()}; writing ${outDir} …`);
    const { files, bytes } = await writeLayersModel(model, outDir, quantization);
    io.out(`Wrote ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB (${quantization ?? 'float32'} weights) in ${seconds()}.`);
    io.out(`Load it with tf.loadLayersModel('<url of ${outDir}>/model.json').`);
  } finally {
    model.dispose();
  }
}
