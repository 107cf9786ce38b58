// Checkpoints: model.json + weights.bin (with the optimizer's state) and state.json (epoch,
// history). With tfjs-node loaded they go through its file:// handler; otherwise through the
// io handlers below, which read and write the same two files in the same format.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerXceptionLayers } from 'xception-ts';

export interface TrainingState {
  /** Epochs completed. */
  epoch: number;
  history: Record<string, number[]>;
  classNames: string[];
  options: Record<string, unknown>;
}

/** An io handler that writes model.json and weights.bin into `dir`, as tfjs-node's file:// does. */
export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts) {
      await mkdir(dir, { recursive: true });
      const weightData = tf.io.concatenateArrayBuffers(
        Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData ?? new ArrayBuffer(0)],
      );
      await writeFile(join(dir, 'weights.bin'), new Uint8Array(weightData));
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        trainingConfig: artifacts.trainingConfig,
        weightsManifest: [{ paths: ['./weights.bin'], weights: artifacts.weightSpecs }],
      };
      await writeFile(join(dir, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

/** The matching load handler. */
export function fileLoadHandler(dir: string): tf.io.IOHandler {
  return {
    async load() {
      const modelJson = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
      const weights = await readFile(join(dir, 'weights.bin'));
      return {
        modelTopology: modelJson.modelTopology,
        trainingConfig: modelJson.trainingConfig,
        weightSpecs: modelJson.weightsManifest.flatMap((group) => group.weights),
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy,
      };
    },
  };
}

/** Saves the model (with its optimizer) and the training state, replacing the previous checkpoint. */
export async function saveCheckpoint(model: tf.LayersModel, dir: string, state: TrainingState, nativeFiles: boolean): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(nativeFiles ? `file://${dir}` : fileSaveHandler(dir), { includeOptimizer: true });
  await writeFile(join(dir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
}

/** Loads the last checkpoint: the compiled model (optimizer state included) and the training state. */
export async function loadCheckpoint(dir: string, nativeFiles: boolean): Promise<{ model: tf.LayersModel; state: TrainingState }> {
  if (!existsSync(join(dir, 'state.json'))) throw new Error(`--resume: no checkpoint in ${dir} (state.json is missing).`);
  registerXceptionLayers(); // the atrous layers, for models with an output stride below 32
  const model = await tf.loadLayersModel(nativeFiles ? `file://${join(dir, 'model.json')}` : fileLoadHandler(dir));
  const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as TrainingState;
  return { model, state };
}
