import { XceptionConfigError } from '../errors.js';

/**
 * The largest sizes xception-ts accepts, checked before anything is
 * allocated (by {@link createXception}, {@link createXceptionBackbone} and
 * `createOnnxClassifier`), so that a mistyped or hostile size fails at once
 * with {@link XceptionConfigError} instead of allocating gigabytes. Each is
 * far above real use:
 *
 * - `maxNumClasses` 100,000: the classifier's kernel is then 2048 × 100,000
 *   float32, 819 MB (ImageNet-21k has 21,841 classes).
 * - `maxMiddleFlowRepeats` 64: 1.6 M parameters each, 104 M (414 MB) in all;
 *   Keras uses 8, DeepLab's Xception-65/71 16.
 * - `maxInputSize` 4096 pixels of height or width: the input of one image is
 *   then 201 MB of float32 and the first activations several GB.
 * - `maxInputChannels` 4096: hyperspectral images have a few hundred bands.
 *
 * @example
 * ```ts
 * import { XCEPTION_LIMITS } from 'xception-ts';
 *
 * XCEPTION_LIMITS.maxNumClasses; // 100000
 * createXception({ numClasses: 1e6 }); // XceptionConfigError: numClasses 1000000 is above 100000, ...
 * ```
 * @category Model
 */
export const XCEPTION_LIMITS = Object.freeze({
  /** Largest `numClasses` (and ONNX classifier output). */
  maxNumClasses: 100_000,
  /** Largest `middleFlowRepeats`. */
  maxMiddleFlowRepeats: 64,
  /** Largest input height or width, in pixels. */
  maxInputSize: 4096,
  /** Largest number of input channels. */
  maxInputChannels: 4096,
});

const REASONS: Record<keyof typeof XCEPTION_LIMITS, string> = {
  maxNumClasses: 'a 2048 × 100000 float32 classifier already takes 819 MB',
  maxMiddleFlowRepeats: '64 middle units already hold 104 M parameters',
  maxInputSize: 'a 4096 × 4096 image already takes 201 MB as float32 input',
  maxInputChannels: 'far more bands than any real image has',
};

/**
 * Requires `value` ≤ the limit `limit` of {@link XCEPTION_LIMITS}; the
 * message names the value, the limit and why it exists. @internal
 */
export function requireWithinLimit(what: string, value: number, limit: keyof typeof XCEPTION_LIMITS): number {
  const max = XCEPTION_LIMITS[limit];
  if (value > max) {
    throw new XceptionConfigError(
      `${what} ${value} is above ${max}, the largest xception-ts accepts (XCEPTION_LIMITS.${limit}: ${REASONS[limit]}).`,
    );
  }
  return value;
}
