import { cast, div, sub, tidy, type Tensor, type Tensor3D, type Tensor4D } from '@tensorflow/tfjs-core';
import { requireTensor } from '../argument-checks.js';
import { XceptionConfigError } from '../errors.js';

/**
 * Scales pixels from [0, 255] to [-1, 1] (`x / 127.5 - 1`), the input the
 * ImageNet Xception weights expect (Keras' `preprocess_input`, 'tf' mode; no
 * channel swap). Accepts int32/uint8-range or float tensors, one image
 * (`[h, w, c]`) or a batch (`[n, h, w, c]`), and returns a new float32 tensor
 * of the same shape; the input is not disposed.
 *
 * @param images - Pixels in [0, 255].
 * @returns The scaled float32 tensor.
 * @throws {@link XceptionConfigError} for something that is not a live tensor, a tensor that
 * is not 3D or 4D, or one of dtype string or complex64.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { preprocessInput } from 'xception-ts';
 *
 * const pixels = tf.browser.fromPixels(imageElement);          // int32 [h, w, 3]
 * const input = preprocessInput(tf.image.resizeBilinear(pixels, [299, 299]).expandDims(0));
 * ```
 */
export function preprocessInput<T extends Tensor3D | Tensor4D>(images: T): T {
  requireTensor('preprocessInput: images', images);
  if (images.dtype !== 'float32' && images.dtype !== 'int32' && images.dtype !== 'bool') {
    throw new XceptionConfigError(`preprocessInput takes a float32 or int32 tensor of pixels; got dtype '${images.dtype}'.`);
  }
  if (images.rank !== 3 && images.rank !== 4) {
    throw new XceptionConfigError(
      `preprocessInput takes an image [height, width, channels] or a batch [n, height, width, channels]; ` +
        `got a tensor of shape [${images.shape.join(',')}].`,
    );
  }
  return tidy(() => sub(div(cast(images as Tensor, 'float32'), 127.5), 1)) as T;
}
