import { cast, div, sub, tensor, tidy, type Tensor, type Tensor3D, type Tensor4D } from '@tensorflow/tfjs-core';
import { requireTensor } from '../argument-checks.js';
import { XceptionConfigError } from '../errors.js';
import { getPreset, type XceptionPresetName } from '../model/presets.js';
import { requireKnownOptions } from '../model/xception-options.js';
import { PRETRAINED_CONFIGS } from '../weights/pretrained-configs.js';
import { writeEvalTransformedRgb } from './eval-transform.js';

/**
 * The {@link preprocessInput} function options.
 *
 * @example
 * ```ts
 * const options: PreprocessInputOptions = { preset: 'xception65' }; // resize 318, crop 299, bicubic
 * ```
 * @category ImageNet
 */
export interface PreprocessInputOptions {
  /**
   * Also apply the eval transform of this preset's ImageNet weights
   * ({@link PRETRAINED_CONFIGS}: timm's resize of the shorter side to
   * `inputSize / cropPct`, bicubic as Pillow computes it, then a center crop
   * of `inputSize`), so that images of any size come out as the weights were
   * evaluated. @defaultValue none: only the scaling, the size is kept
   */
  preset?: XceptionPresetName;
}

/**
 * Scales pixels from [0, 255] to [-1, 1] (`x / 127.5 - 1`), the input the
 * ImageNet Xception weights expect (Keras' `preprocess_input`, 'tf' mode; no
 * channel swap; timm's mean = std = 0.5, the same for every preset). Accepts
 * int32/uint8-range or float tensors, one image (`[h, w, c]`) or a batch
 * (`[n, h, w, c]`), and returns a new float32 tensor; the input is not
 * disposed. With `preset`, images (RGB or RGBA) are first resized and
 * center-cropped by that preset's eval transform, to its input size.
 *
 * @param images - Pixels in [0, 255].
 * @param options - See {@link PreprocessInputOptions}.
 * @returns The scaled float32 tensor: the same shape, or `inputSize` with `preset`.
 * @throws {@link XceptionConfigError} for something that is not a live tensor, a tensor that
 * is not 3D or 4D, one of dtype string or complex64, or a preset without ImageNet weights.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { preprocessInput } from 'xception-ts';
 *
 * const pixels = tf.browser.fromPixels(imageElement);          // int32 [h, w, 3]
 * const input = preprocessInput(tf.image.resizeBilinear(pixels, [299, 299]).expandDims(0));
 * const timmInput = preprocessInput(pixels.expandDims(0), { preset: 'xception65' }); // [1, 299, 299, 3]
 * ```
 * @category ImageNet
 */
export function preprocessInput<T extends Tensor3D | Tensor4D>(images: T, options: PreprocessInputOptions = {}): T {
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
  requireKnownOptions('preprocessInput', options, ['preset']);
  if (options.preset === undefined) return tidy(() => sub(div(cast(images as Tensor, 'float32'), 127.5), 1)) as T;

  const preset = getPreset(options.preset).name;
  const config = PRETRAINED_CONFIGS[preset];
  if (!config) {
    throw new XceptionConfigError(`preprocessInput: '${preset}' has no ImageNet weights, so no eval transform; presets with one: ${Object.keys(PRETRAINED_CONFIGS).map((n) => `'${n}'`).join(', ')}.`);
  }
  const [n, h, w, c] = images.rank === 4 ? images.shape : [1, ...images.shape];
  if (c !== 3 && c !== 4) {
    throw new XceptionConfigError(`preprocessInput with a preset takes RGB or RGBA images; got ${c} channels (shape [${images.shape.join(',')}]).`);
  }
  const [outH, outW] = config.inputSize;
  // (x / 255 - mean) / std; every preset's mean and std are 0.5 on all three channels.
  const scale = 1 / (255 * config.std[0]);
  const shift = -config.mean[0] / config.std[0];
  const data = images.dataSync();
  const out = new Float32Array(n! * outH * outW * 3);
  const perImage = h! * w! * c!;
  for (let i = 0; i < n!; i++) {
    const image = { data: data.subarray(i * perImage, (i + 1) * perImage), width: w!, height: h! };
    writeEvalTransformedRgb(image, { size: [outH, outW], cropPct: config.cropPct }, out, i * outH * outW * 3, scale, shift);
  }
  return tensor(out, images.rank === 4 ? [n!, outH, outW, 3] : [outH, outW, 3], 'float32') as T;
}
