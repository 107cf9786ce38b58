import { writeFile } from 'node:fs/promises';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { countParameters, loadKerasWeights, saveKerasModel, saveKerasWeights } from '../src/index.js';
import type { CliIo } from './run-cli.js';

/**
 * `xception-ts export-keras <source> <out>`: writes a model as a Keras file,
 * the kind chosen by the output name: `.keras` (Keras 3 archive, config and
 * weights), `.weights.h5` (Keras 3 weights), any other `.h5` (Keras 2
 * `save_weights` layout). `model` is either built from the options with
 * weights from `source` ('random' keeps the initial ones) or loaded whole
 * from a Keras model file.
 */
export async function exportKerasCommand(model: LayersModel, source: string, outPath: string, loadWeights: boolean, io: CliIo): Promise<void> {
  if (loadWeights) {
    const { layout, layersLoaded } = await loadKerasWeights(model, source);
    io.out(`Loaded ${layersLoaded} layers (${layout} layout) from ${source}.`);
  } else if (source === 'random') {
    io.out(`Exporting '${model.name}' with random (untrained) weights.`);
  } else {
    io.out(`Loaded the Keras model '${model.name}' from ${source}.`);
  }
  const kind = outPath.endsWith('.keras') ? 'keras' : outPath.endsWith('.weights.h5') ? 'keras3' : 'keras2';
  const bytes = kind === 'keras' ? await saveKerasModel(model) : await saveKerasWeights(model, { format: kind });
  await writeFile(outPath, bytes);
  const what =
    kind === 'keras'
      ? "a Keras 3 archive: keras.saving.load_model(path)"
      : kind === 'keras3'
        ? 'Keras 3 weights: model.load_weights(path) on the same architecture'
        : 'Keras 2 save_weights layout: model.load_weights(path) on the same architecture';
  io.out(`Wrote ${outPath}: ${(bytes.length / 1e6).toFixed(1)} MB, ${countParameters(model).total.toLocaleString('en-US')} params, ${what}.`);
}
