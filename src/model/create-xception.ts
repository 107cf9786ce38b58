import { input, model, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { buildScope } from './build-scope.js';
import { dense, dropout, globalPool } from './layers.js';
import { downloadVerified, type ChecksummedWeights } from '../weights/download-verified.js';
import { imagenetWeights } from '../weights/imagenet-weights.js';
import { loadKerasWeights } from '../weights/load-keras-weights.js';
import { miniXceptionTop } from './mini-xception.js';
import type { WeightsSource } from '../weights/weights-source.js';
import {
  resolveXceptionOptions,
  type PretrainedXceptionOptions,
  type ResolvedXceptionOptions,
  type XceptionOptions,
  type XceptionWeights,
} from './xception-options.js';
import { buildTrunk } from './xception-trunk.js';

/**
 * Builds an Xception model (Chollet 2017) as a `tf.LayersModel`.
 *
 * With the default `'keras'` preset the model is Keras Applications'
 * `Xception` layer for layer: the same graph, layer order, layer names and
 * weight shapes, 22,910,480 parameters with the 1000-class top (20,861,480
 * without). The `'postact'` preset builds the course material's
 * post-activation variant, `'xception41'`, `'xception65'` and `'xception71'`
 * DeepLab's aligned Xceptions (trainable parameters equal to timm's). With
 * `outputStride` 16 or 8 the last units keep their resolution and dilate
 * instead. Options are checked before anything is built:
 * bad options throw {@link XceptionConfigError} and allocate nothing.
 *
 * With `weights` it returns a Promise and loads them: `'imagenet'` (Keras'
 * official files, MD5-checked, cached in Node), a checksummed URL, or any
 * Keras HDF5 weight file (see {@link loadKerasWeights}).
 *
 * The library never picks a TensorFlow.js backend; set one first (see the README).
 *
 * @param options - See {@link XceptionOptions} and {@link PretrainedXceptionOptions}.
 * @returns An uncompiled model (a Promise of it with `weights`): `[batch, h, w, c]` in; `[batch, numClasses]`
 *   (top), `[batch, 2048]` (pooling) or `[batch, h/32, w/32, 2048]` out.
 * @throws {@link XceptionConfigError} for bad options.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { createXception } from 'xception-ts';
 *
 * const model = createXception();                 // Keras Applications' Xception
 * model.countParams();                             // 22910480
 * const course = createXception({ preset: 'postact', numClasses: 100 }); // 21066380 params
 * const backbone = createXception({ includeTop: false, pooling: 'avg', inputShape: [224, 224, 3] });
 * const pretrained = await createXception({ weights: 'imagenet' }); // Keras' ImageNet weights
 * ```
 */
export function createXception(options: PretrainedXceptionOptions): Promise<LayersModel>;
export function createXception(options?: XceptionOptions): LayersModel;
export function createXception(options?: XceptionOptions | PretrainedXceptionOptions): LayersModel | Promise<LayersModel> {
  if (options !== null && typeof options === 'object' && 'weights' in options && options.weights != null) {
    return createWithWeights(options);
  }
  return build(resolveXceptionOptions(options));
}

/** Checks the options, fetches the weights, builds, loads; a failure disposes the model. */
async function createWithWeights(options: PretrainedXceptionOptions): Promise<LayersModel> {
  const resolved = resolveXceptionOptions(options);
  const weights = options.weights;
  const source: WeightsSource =
    weights === 'imagenet'
      ? await downloadVerified(imagenetWeights(resolved.includeTop, options.weightsBaseUrl), options.weightsCacheDir)
      : isChecksummed(weights)
        ? await downloadVerified(weights, options.weightsCacheDir)
        : weights;
  const model = build(resolved);
  try {
    await loadKerasWeights(model, source);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

function isChecksummed(weights: XceptionWeights): weights is ChecksummedWeights {
  return typeof weights === 'object' && weights !== null && typeof (weights as ChecksummedWeights).url === 'string' &&
    typeof (weights as ChecksummedWeights).md5 === 'string';
}

function build(resolved: ResolvedXceptionOptions): LayersModel {
  return buildScope(() => {
    const image = input({ shape: resolved.inputShape, name: 'input' });
    let x: SymbolicTensor = buildTrunk(image, resolved).output;
    if (resolved.includeTop && resolved.preset.family === 'mini') {
      if (resolved.dropout > 0) x = dropout(x, resolved.dropout, 'top_dropout');
      x = miniXceptionTop(x, resolved.numClasses, resolved.classifierActivation);
    } else if (resolved.includeTop) {
      x = globalPool(x, 'avg', 'avg_pool');
      if (resolved.dropout > 0) x = dropout(x, resolved.dropout, 'top_dropout');
      x = dense(x, { units: resolved.numClasses, activation: resolved.classifierActivation, name: 'predictions' });
    } else if (resolved.pooling !== undefined) {
      x = globalPool(x, resolved.pooling, `${resolved.pooling}_pool`);
    }
    return model({ inputs: image, outputs: x, name: resolved.name });
  });
}
