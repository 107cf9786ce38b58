/*
 * `train`'s model: a preset with a new classifier for the data's classes,
 * random or (--weights) pretrained with keras.io's transfer-learning head; or
 * the checkpoint's model on --resume.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { createXception, createXceptionClassifier, freezeBackbone, loadKerasModel } from '../src/index.js';
import type { TrainSettings } from './train-options.js';

/** A new model for `classes` classes, as the settings describe, with BatchNormalization's `momentum`. */
export async function buildTrainModel(settings: TrainSettings, classes: number, momentum: number): Promise<LayersModel> {
  const inputShape: [number, number, number] = [settings.inputSize, settings.inputSize, settings.channels];
  const allowSmallInput = settings.inputSize < 71;
  const batchNormMomentum = momentum;
  if (settings.weights === undefined) return createXception({ preset: settings.preset, inputShape, numClasses: classes, allowSmallInput, batchNormMomentum });
  return createXceptionClassifier({
    preset: settings.preset,
    inputShape,
    numClasses: classes,
    weights: settings.weights,
    freezeBackbone: settings.freezeBackbone,
    allowSmallInput,
    batchNormMomentum,
  });
}

/** The checkpoint's model, its backbone frozen again while the head is still training. */
export async function loadCheckpointModel(path: string, settings: TrainSettings, epochsDone: number): Promise<LayersModel> {
  const model = await loadKerasModel(path);
  if (settings.freezeBackbone && epochsDone < settings.epochs) freezeBackbone(model);
  return model;
}
