import { model as functionalModel, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { buildScope } from '../model/build-scope.js';
import { createXception } from '../model/create-xception.js';
import { dense, dropout, globalPool } from '../model/layers.js';
import type { XceptionPresetName } from '../model/presets.js';
import { requireInteger } from '../model/validation.js';
import {
  requireBoolean,
  requireKnownOptions,
  resolveXceptionOptions,
  type XceptionWeights,
} from '../model/xception-options.js';
import { freezeBackbone } from './freeze-backbone.js';

/**
 * The {@link createXceptionClassifier} function options.
 *
 * @example
 * ```ts
 * const options: XceptionClassifierOptions = { weights: 'imagenet', numClasses: 2, inputShape: [150, 150, 3] };
 * const model = await createXceptionClassifier(options);
 * ```
 * @category Transfer learning
 */
export interface XceptionClassifierOptions {
  /** Classes of the new head. */
  numClasses: number;
  /** The backbone's variant (see {@link XCEPTION_PRESETS}). @defaultValue `'keras'` */
  preset?: XceptionPresetName;
  /**
   * The backbone's weights, as {@link PretrainedXceptionOptions.weights}
   * (`'imagenet'` loads Keras' no-top file). @defaultValue none (random weights)
   */
  weights?: XceptionWeights;
  /** Where `'imagenet'` files are downloaded from. @defaultValue Keras Applications' storage bucket */
  weightsBaseUrl?: string;
  /** Node: the folder that keeps verified downloads, or `false`. @defaultValue `~/.cache/xception-ts` */
  weightsCacheDir?: string | false;
  /** `[height, width, channels]`. @defaultValue `[150, 150, 3]` (keras.io's transfer-learning size) */
  inputShape?: [number, number, number];
  /** Dropout rate before the classifier, in [0, 1). @defaultValue `0.2` (keras.io's) */
  dropout?: number;
  /** `'softmax'` (probabilities) or `'linear'` (logits, for `fromLogits` losses). @defaultValue `'softmax'` */
  classifierActivation?: 'softmax' | 'linear';
  /** Momentum of the backbone's BatchNormalization statistics. @defaultValue `0.99` */
  batchNormMomentum?: number;
  /** Freeze the backbone ({@link freezeBackbone}) so that only the head trains. @defaultValue `true` */
  freezeBackbone?: boolean;
  /** Accept spatial sizes from 32 up to 70. @defaultValue `false` */
  allowSmallInput?: boolean;
  /** The model's name. @defaultValue `'xception_classifier'` */
  name?: string;
}

const KNOWN_OPTIONS = [
  'numClasses', 'preset', 'weights', 'weightsBaseUrl', 'weightsCacheDir', 'inputShape', 'dropout',
  'classifierActivation', 'batchNormMomentum', 'freezeBackbone', 'allowSmallInput', 'name',
];

/**
 * Builds keras.io's transfer-learning model: an Xception backbone without
 * its top (optionally with ImageNet weights) → global average pooling →
 * dropout → a new dense classifier. The backbone comes frozen, its
 * BatchNormalizations in inference mode even inside `fit` (Keras' rule, see
 * {@link freezeBackbone}); {@link unfreeze} it for the fine-tuning step. The
 * model is one flat graph (the backbone's layers keep their Keras names,
 * then `avg_pool`, `top_dropout`, `predictions`), so {@link gradCam} and
 * {@link freezeBackbone}'s `upTo` see every layer. Compile it before `fit`.
 *
 * @param options - See {@link XceptionClassifierOptions}.
 * @returns The uncompiled model.
 * @throws {@link XceptionConfigError} for bad options (before anything is
 *   downloaded or built); {@link XceptionWeightsError} for weights that do not fit.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { createXceptionClassifier, unfreeze } from 'xception-ts';
 *
 * const model = await createXceptionClassifier({ weights: 'imagenet', numClasses: 2 });
 * model.compile({ optimizer: tf.train.adam(), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
 * await model.fit(images, labels, { epochs: 20 });         // trains the head only
 * unfreeze(model);
 * model.compile({ optimizer: tf.train.adam(1e-5), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
 * await model.fit(images, labels, { epochs: 10 });         // fine-tunes all but BatchNormalization
 * ```
 * @category Transfer learning
 */
export async function createXceptionClassifier(options: XceptionClassifierOptions): Promise<LayersModel> {
  requireKnownOptions('createXceptionClassifier', options, KNOWN_OPTIONS);
  requireInteger('numClasses', options.numClasses, 1);
  const freeze = requireBoolean('freezeBackbone', options.freezeBackbone ?? true);
  const shared = {
    inputShape: options.inputShape ?? [150, 150, 3],
    allowSmallInput: options.allowSmallInput,
    batchNormMomentum: options.batchNormMomentum,
    ...(options.preset === undefined ? {} : { preset: options.preset }),
  };
  // Checks the head's options (and the backbone's) before any download.
  const head = resolveXceptionOptions({
    ...shared,
    numClasses: options.numClasses,
    dropout: options.dropout ?? 0.2,
    classifierActivation: options.classifierActivation,
    name: options.name ?? 'xception_classifier',
  });
  const backboneOptions = { ...shared, includeTop: false };
  const backbone =
    options.weights == null
      ? createXception(backboneOptions)
      : await createXception({
          ...backboneOptions,
          weights: options.weights,
          ...(options.weightsBaseUrl === undefined ? {} : { weightsBaseUrl: options.weightsBaseUrl }),
          ...(options.weightsCacheDir === undefined ? {} : { weightsCacheDir: options.weightsCacheDir }),
        });
  let classifier: LayersModel;
  try {
    classifier = buildScope(() => {
      let x: SymbolicTensor = globalPool(backbone.outputs[0]!, 'avg', 'avg_pool');
      if (head.dropout > 0) x = dropout(x, head.dropout, 'top_dropout');
      x = dense(x, { units: head.numClasses, activation: head.classifierActivation, name: 'predictions' });
      return functionalModel({ inputs: backbone.inputs, outputs: x, name: head.name });
    });
  } catch (error) {
    backbone.dispose();
    throw error;
  }
  if (freeze) freezeBackbone(classifier);
  return classifier;
}
