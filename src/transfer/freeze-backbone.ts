import type { LayersModel } from '@tensorflow/tfjs-layers';
import { requireLayersModel } from '../argument-checks.js';
import { XceptionConfigError } from '../errors.js';
import { requireKnownOptions } from '../model/xception-options.js';
import { show } from '../model/validation.js';
import { followKerasFreezeRule, isBatchNorm } from './frozen-batch-norm.js';

/**
 * The {@link freezeBackbone} function options.
 *
 * @example
 * ```ts
 * const options: FreezeBackboneOptions = { upTo: 'block13_add', keepBatchNormFrozen: true };
 * freezeBackbone(model, options);
 * ```
 * @category Transfer learning
 */
export interface FreezeBackboneOptions {
  /**
   * The last layer to freeze, by name; it and every layer before it (in
   * `model.layers` order) stop training. @defaultValue the last layer with a
   * 4D output (the whole feature extractor: `'block14_sepconv2_act'` for Xception)
   */
  upTo?: string;
  /**
   * Also freeze every BatchNormalization after `upTo`, so that all of them
   * keep running in inference mode (Keras' advice for fine-tuning). @defaultValue `true`
   */
  keepBatchNormFrozen?: boolean;
}

/**
 * The {@link unfreeze} function options.
 *
 * @example
 * ```ts
 * unfreeze(model, { keepBatchNormFrozen: true } satisfies UnfreezeOptions);
 * ```
 * @category Transfer learning
 */
export interface UnfreezeOptions {
  /**
   * Leave every BatchNormalization frozen, in inference mode, as keras.io's
   * fine-tuning step does (its base model is called with `training=False`). @defaultValue `true`
   */
  keepBatchNormFrozen?: boolean;
}

/**
 * What {@link freezeBackbone} and {@link unfreeze} left trainable.
 *
 * @example
 * ```ts
 * const { frozenLayers, trainableParams } = freezeBackbone(model);
 * console.log(`${frozenLayers} layers frozen, ${trainableParams} parameters train`);
 * ```
 * @category Transfer learning
 */
export interface FreezeSummary {
  /** Layers with `trainable === false` now. */
  frozenLayers: number;
  /** Parameters that `fit` updates now (after the next `compile`). */
  trainableParams: number;
}

/**
 * Freezes the feature extractor for transfer learning, with Keras' rule for
 * BatchNormalization: a frozen BatchNormalization runs in inference mode
 * (its moving statistics, unchanged) also inside `fit`, which tfjs does not
 * do by itself. Layers up to `upTo` get `trainable = false`; with
 * `keepBatchNormFrozen` every BatchNormalization does.
 *
 * As in Keras, call `model.compile(...)` after freezing or unfreezing: tfjs
 * collects the trainable weights when compiling.
 *
 * @param model - A model built by {@link createXception}, {@link createXceptionClassifier} or your own.
 * @param options - See {@link FreezeBackboneOptions}.
 * @returns What is left trainable.
 * @throws {@link XceptionConfigError} for an unknown `upTo` layer or bad options; nothing changed.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { createXception, freezeBackbone } from 'xception-ts';
 *
 * const model = createXception({ numClasses: 2, inputShape: [150, 150, 3] });
 * freezeBackbone(model); // only 'predictions' trains
 * model.compile({ optimizer: tf.train.adam(), loss: 'categoricalCrossentropy' });
 * ```
 * @category Transfer learning
 */
export function freezeBackbone(model: LayersModel, options: FreezeBackboneOptions = {}): FreezeSummary {
  requireModel('freezeBackbone', model);
  const keepBatchNormFrozen = requireFlag('freezeBackbone', options, 'keepBatchNormFrozen');
  requireKnownOptions('freezeBackbone', options, ['upTo', 'keepBatchNormFrozen']);
  const layers = model.layers;
  let last: number;
  if (options.upTo === undefined) {
    last = layers.map((layer) => outputRank(layer)).lastIndexOf(4);
    if (last < 0) throw new XceptionConfigError(`freezeBackbone: '${model.name}' has no layer with a 4D output; pass upTo.`);
  } else {
    last = layers.findIndex((layer) => layer.name === options.upTo);
    if (last < 0) {
      throw new XceptionConfigError(
        `freezeBackbone: upTo ${show(options.upTo)} is not a layer of '${model.name}' ` +
          `(its layers run from '${layers[0]?.name}' to '${layers[layers.length - 1]?.name}').`,
      );
    }
  }
  layers.forEach((layer, index) => {
    if (isBatchNorm(layer)) followKerasFreezeRule(layer);
    if (index <= last || (keepBatchNormFrozen && isBatchNorm(layer))) layer.trainable = false;
  });
  return summarize(model);
}

/**
 * Makes every layer trainable again for fine-tuning, leaving the
 * BatchNormalizations frozen in inference mode unless told otherwise (the
 * keras.io recipe). Compile again afterwards, with a low learning rate
 * (keras.io: Adam at 1e-5).
 *
 * @param model - A model.
 * @param options - See {@link UnfreezeOptions}.
 * @returns What is trainable now.
 * @throws {@link XceptionConfigError} for bad options; nothing changed.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { unfreeze } from 'xception-ts';
 *
 * unfreeze(model); // every layer but BatchNormalization trains
 * model.compile({ optimizer: tf.train.adam(1e-5), loss: 'categoricalCrossentropy' });
 * ```
 * @category Transfer learning
 */
export function unfreeze(model: LayersModel, options: UnfreezeOptions = {}): FreezeSummary {
  requireModel('unfreeze', model);
  const keepBatchNormFrozen = requireFlag('unfreeze', options, 'keepBatchNormFrozen');
  requireKnownOptions('unfreeze', options, ['keepBatchNormFrozen']);
  for (const layer of model.layers) {
    const batchNorm = isBatchNorm(layer);
    if (batchNorm) followKerasFreezeRule(layer);
    layer.trainable = !(batchNorm && keepBatchNormFrozen);
  }
  return summarize(model);
}

function summarize(model: LayersModel): FreezeSummary {
  const size = (shape: number[]) => shape.reduce((n, d) => n * d, 1);
  return {
    frozenLayers: model.layers.filter((layer) => !layer.trainable).length,
    trainableParams: model.trainableWeights.reduce((n, w) => n + size(w.shape as number[]), 0),
  };
}

function outputRank(layer: LayersModel['layers'][number]): number {
  const shape = layer.outputShape;
  return Array.isArray(shape) && !Array.isArray(shape[0]) ? shape.length : -1;
}

function requireModel(what: string, model: unknown): void {
  if (model === null || typeof model !== 'object' || !Array.isArray((model as LayersModel).layers)) {
    throw new XceptionConfigError(`${what} needs a tf.LayersModel; got ${show(model)}.`);
  }
  requireLayersModel(`${what}: model`, model);
}

function requireFlag(what: string, options: unknown, key: 'keepBatchNormFrozen'): boolean {
  if (options === null || typeof options !== 'object') {
    throw new XceptionConfigError(`${what} options must be an object or undefined; got ${show(options)}.`);
  }
  const value = (options as Record<string, unknown>)[key] ?? true;
  if (typeof value !== 'boolean') throw new XceptionConfigError(`${what}: ${key} must be true or false; got ${show(value)}.`);
  return value;
}
