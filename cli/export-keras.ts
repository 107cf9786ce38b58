import { writeFile } from 'node:fs/promises';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { countParameters, loadKerasWeights, saveKerasModel, saveKerasWeights, XceptionError } from '../src/index.js';
import { importOptional } from '../src/platform/node-import.js';
import { UsageError } from './cli-errors.js';
import type { CliIo } from './run-cli.js';

/** What export-keras writes, by the output's suffix (any case). */
export type KerasOutputKind = 'keras' | 'keras3' | 'keras2';

/**
 * The kind of Keras file an output name asks for: `.keras`, `.weights.h5`,
 * other `.h5`, in any case (`OUT.KERAS` is a `.keras`); any other name is a
 * usage error, before anything is loaded or written.
 */
export function kerasOutputKind(outPath: string): KerasOutputKind {
  const name = outPath.toLowerCase();
  if (name.endsWith('.keras')) return 'keras';
  if (name.endsWith('.weights.h5')) return 'keras3';
  if (name.endsWith('.h5')) return 'keras2';
  throw new UsageError(
    `export-keras writes a .keras archive, .weights.h5 (Keras 3 weights) or .h5 (Keras 2 weights), chosen by the output name; ` +
      `got ${JSON.stringify(outPath)}.`,
    'export-keras',
  );
}

/** export-keras writes HDF5 with h5wasm, an optional dependency: a missing one is an environment problem (exit 1), found before any work. */
export async function requireH5wasm(): Promise<void> {
  try {
    await importOptional('h5wasm');
  } catch {
    throw new XceptionError('export-keras writes HDF5 with h5wasm, an optional dependency that is not installed: npm install h5wasm.');
  }
}

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
  const kind = kerasOutputKind(outPath);
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
