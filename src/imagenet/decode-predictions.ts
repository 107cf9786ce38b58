import type { Tensor } from '@tensorflow/tfjs-core';
import { requireTensor } from '../argument-checks.js';
import { XceptionConfigError } from '../errors.js';
import { IMAGENET_LABELS } from './imagenet-labels.js';

/**
 * One of the top classes of an image, as {@link decodePredictions} returns them.
 *
 * @example
 * ```ts
 * const best: ImagenetPrediction = decodePredictions(probabilities)[0][0];
 * console.log(`${best.label}: ${(best.probability * 100).toFixed(1)}%`);
 * ```
 * @category ImageNet
 */
export interface ImagenetPrediction {
  /** The class index, 0–999. */
  classIndex: number;
  /** Its ImageNet name, e.g. `'tabby, tabby cat'`. */
  label: string;
  /** The model's output for the class (a probability with the softmax top). */
  probability: number;
}

/**
 * Turns a batch of 1000-class outputs into the top-k classes of each image,
 * best first, with their ImageNet names (Keras' `decode_predictions`).
 *
 * @param probabilities - `[batch, 1000]` (or `[1000]` for one image); not disposed.
 * @param topK - How many classes per image. @defaultValue `5`
 * @returns One list per image.
 * @throws {@link XceptionConfigError} for something that is not a live tensor, when the last
 * axis is not 1000, the dtype is not float32, a value is NaN (its order is undefined), or `topK`
 * is out of range.
 *
 * @example
 * ```ts
 * import { decodePredictions } from 'xception-ts';
 *
 * const [top5] = decodePredictions(model.predict(input) as tf.Tensor);
 * // [{ classIndex: 281, label: 'tabby, tabby cat', probability: 0.62 }, …]
 * ```
 * @category ImageNet
 */
export function decodePredictions(probabilities: Tensor, topK = 5): ImagenetPrediction[][] {
  requireTensor('decodePredictions: probabilities', probabilities);
  const { shape } = probabilities;
  const classes = shape[shape.length - 1];
  if ((shape.length !== 1 && shape.length !== 2) || classes !== IMAGENET_LABELS.length) {
    throw new XceptionConfigError(
      `decodePredictions expects ImageNet outputs of shape [batch, 1000] or [1000]; got [${shape.join(',')}].`,
    );
  }
  if (!Number.isInteger(topK) || topK < 1 || topK > classes) {
    throw new XceptionConfigError(`topK must be an integer from 1 to ${classes}; got ${topK}.`);
  }
  if (probabilities.dtype !== 'float32') {
    throw new XceptionConfigError(`decodePredictions expects float32 outputs; got dtype '${probabilities.dtype}'.`);
  }
  const values = probabilities.dataSync();
  const nan = values.findIndex((v) => Number.isNaN(v));
  if (nan >= 0) {
    throw new XceptionConfigError(
      `decodePredictions: probabilities hold NaN (first at image ${Math.floor(nan / classes)}, class ${nan % classes}); ` +
        'the model produced no valid output for that image (check its input for NaN or Infinity).',
    );
  }
  const rows = shape.length === 1 ? 1 : shape[0]!;
  return Array.from({ length: rows }, (_, row) => {
    const offset = row * classes;
    return Array.from({ length: classes }, (_, i) => i)
      .sort((a, b) => values[offset + b]! - values[offset + a]! || a - b)
      .slice(0, topK)
      .map((classIndex) => ({ classIndex, label: IMAGENET_LABELS[classIndex]!, probability: values[offset + classIndex]! }));
  });
}
