/**
 * Base class of every error that xception-ts throws on purpose.
 *
 * Catch this to tell xception-ts' own errors (bad options, bad input) apart
 * from failures of TensorFlow.js or of the runtime.
 *
 * @example
 * ```ts
 * import { createXception, XceptionError } from 'xception-ts';
 *
 * try {
 *   createXception({ numClasses: 0 });
 * } catch (error) {
 *   if (error instanceof XceptionError) console.error(error.message);
 * }
 * ```
 * @category Errors
 */
export class XceptionError extends Error {
  /** Always `'XceptionError'`. */
  override name = 'XceptionError';
}

/**
 * Thrown when options describe a model that cannot be built: a bad
 * `numClasses`, `inputShape`, `pooling`, an unknown preset, a block option
 * out of range. The message echoes the bad value and says what is allowed.
 * Nothing was built and no tensor was left behind.
 *
 * @example
 * ```ts
 * import { createXception, XceptionConfigError } from 'xception-ts';
 *
 * try {
 *   createXception({ inputShape: [20, 20, 3] });
 * } catch (error) {
 *   if (error instanceof XceptionConfigError) {
 *     // "inputShape [20,20,3]: spatial size 20 is below 32, the smallest input ..."
 *     console.error(error.message);
 *   }
 * }
 * ```
 * @category Errors
 */
export class XceptionConfigError extends XceptionError {
  /** Always `'XceptionConfigError'`. */
  override name = 'XceptionConfigError';
}

/**
 * Thrown when a weight file cannot be read or does not fit the model: not
 * HDF5, truncated or corrupt, a layout that is not Keras', a layer count or
 * weight shape that differs from the model's, non-finite values, a download
 * whose checksum is wrong. The message names the file's layer and dataset and
 * the model's layer and shapes where they apply. The model was left unchanged.
 *
 * @example
 * ```ts
 * import { loadKerasWeights, XceptionWeightsError } from 'xception-ts';
 *
 * try {
 *   await loadKerasWeights(model, './weights.h5');
 * } catch (error) {
 *   if (error instanceof XceptionWeightsError) console.error(error.message);
 * }
 * ```
 * @category Errors
 */
export class XceptionWeightsError extends XceptionError {
  /** Always `'XceptionWeightsError'`. */
  override name = 'XceptionWeightsError';
}

/**
 * Thrown when a download fails: the server cannot be reached, answers with
 * an HTTP error, does not answer within `timeoutMs`, stalls for longer than
 * `stallTimeoutMs`, sends more than `maxBytes` or fewer bytes than its
 * `Content-Length` declares, or the caller's `signal` aborts it. The message
 * starts with the URL and says which limit was hit; {@link url} holds the URL.
 * Nothing was cached and no model was built.
 *
 * @example
 * ```ts
 * import { createXception, XceptionDownloadError } from 'xception-ts';
 *
 * try {
 *   await createXception({ weights: 'imagenet', download: { timeoutMs: 10_000 } });
 * } catch (error) {
 *   if (error instanceof XceptionDownloadError) console.error(`${error.url}: ${error.message}`);
 * }
 * ```
 * @category Errors
 */
export class XceptionDownloadError extends XceptionError {
  /** Always `'XceptionDownloadError'`. */
  override name = 'XceptionDownloadError';

  /**
   * @param message - What failed, starting with the URL.
   * @param url - The URL that was requested.
   * @param options - `cause`: the underlying error, when there is one.
   */
  constructor(message: string, readonly url: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Thrown when a Keras model file (a full-model `.h5` or a `.keras` archive)
 * cannot be turned into a model: a damaged or hostile archive (a member
 * missing, larger than allowed, or not JSON), a config that is not Keras', or
 * a layer that TensorFlow.js cannot build (the message names the layer and
 * its class). A kind of {@link XceptionWeightsError}, so code that catches
 * weight-file errors catches these too. Nothing was left allocated.
 *
 * @example
 * ```ts
 * import { loadKerasModel, XceptionModelFileError } from 'xception-ts';
 *
 * try {
 *   await loadKerasModel('./model.keras');
 * } catch (error) {
 *   // e.g. "model.keras: layer 'random_flip' is a RandomFlip, which TensorFlow.js cannot build; ..."
 *   if (error instanceof XceptionModelFileError) console.error(error.message);
 * }
 * ```
 * @category Errors
 */
export class XceptionModelFileError extends XceptionWeightsError {
  /** Always `'XceptionModelFileError'`. */
  override name = 'XceptionModelFileError';
}

/**
 * Thrown when a model cannot be trained as asked. Building the training
 * graph: a layer the graph cannot differentiate (the message names the layer,
 * its class and what the graph supports), a model not built from xception-ts'
 * blocks (several inputs or outputs, an input of unknown size), an unknown
 * optimizer or loss, a setting out of range (nothing was built). Training: a
 * batch whose images or labels do not fit the model (shape, batch size,
 * non-finite values, class ids out of range), a loss that became non-finite,
 * a trainer used after `dispose()`; the weights, moving statistics and
 * optimizer state are as they were before the call. The message names the
 * layer or the value and says what is allowed.
 *
 * @example
 * ```ts
 * import { XceptionTrainingError } from 'xception-ts';
 * import { createOnnxTrainer } from 'xception-ts/onnx';
 *
 * try {
 *   const trainer = await createOnnxTrainer(model, { optimizer: { type: 'adam' } });
 *   await trainer.trainOnBatch(images, labels);
 * } catch (error) {
 *   // e.g. "trainOnBatch: labels: expected shape [8, 10] (one-hot, one row per image); got [8,5]."
 *   if (error instanceof XceptionTrainingError) console.error(error.message);
 * }
 * ```
 * @category Errors
 */
export class XceptionTrainingError extends XceptionError {
  /** Always `'XceptionTrainingError'`. */
  override name = 'XceptionTrainingError';
}

/**
 * Thrown when a dataset cannot be read: a missing or empty folder, a folder
 * with fewer than two classes, an empty class, an image that cannot be read
 * or decoded (unless bad files are skipped), more files than allowed, an IDX
 * file whose header is not IDX's or disagrees with its length, images and
 * labels that do not pair up. The message names the folder or file and says
 * what is allowed. Checked before the sizes a file declares are allocated.
 *
 * @example
 * ```ts
 * import { imageDatasetFromDirectory, XceptionDataError } from 'xception-ts';
 *
 * try {
 *   await imageDatasetFromDirectory('./photos', { imageSize: 64 });
 * } catch (error) {
 *   // e.g. "./photos/dogs: the class folder holds no .png, .jpg or .jpeg file; ..."
 *   if (error instanceof XceptionDataError) console.error(error.message);
 * }
 * ```
 * @category Errors
 */
export class XceptionDataError extends XceptionError {
  /** Always `'XceptionDataError'`. */
  override name = 'XceptionDataError';
}

/**
 * Thrown when the device asked for (`device: 'webgpu'` or `'cuda'` of `createOnnxTrainer` and
 * `createOnnxClassifier`) is not there: no WebGPU adapter, no CUDA provider library, or ONNX
 * Runtime failed to start it. The message names the device, the cause and what was found
 * (`found`); nothing was created.
 *
 * @example
 * ```ts
 * import { XceptionDeviceError } from 'xception-ts';
 * import { createOnnxTrainer } from 'xception-ts/onnx';
 *
 * try {
 *   await createOnnxTrainer(model, { device: 'cuda' });
 * } catch (error) {
 *   // "device 'cuda' is not available: onnxruntime-node's CUDA provider library is not installed …; found: cpu, webgpu (software: …)"
 *   if (error instanceof XceptionDeviceError) console.error(error.message, error.found);
 * }
 * ```
 * @category Errors
 */
export class XceptionDeviceError extends XceptionConfigError {
  /** Always `'XceptionDeviceError'`. */
  override name = 'XceptionDeviceError';

  /**
   * @param message - What was asked for, why it is not there, and what was found.
   * @param found - The devices that are there, e.g. `['cpu', 'webgpu (software: SwiftShader)']`.
   */
  constructor(message: string, readonly found: readonly string[]) {
    super(message);
  }
}

/**
 * Thrown when an image cannot be read: a file that is missing, not a regular
 * file or larger than `maxBytes`; bytes that are neither a PNG nor a JPEG, or
 * a truncated or corrupt one; a header that declares more pixels than
 * `maxPixels` (checked before anything is decoded); a source of a kind
 * {@link loadImage} does not take. The message names the image and, for a
 * limit, the limit and how to raise it. Nothing was decoded or allocated.
 *
 * @example
 * ```ts
 * import { loadImage, XceptionImageError } from 'xception-ts';
 *
 * try {
 *   await loadImage('./photo.png');
 * } catch (error) {
 *   // e.g. "./photo.png: a truncated PNG (the file ends after 900 bytes, before its IEND chunk)."
 *   if (error instanceof XceptionImageError) console.error(error.message);
 * }
 * ```
 * @category Errors
 */
export class XceptionImageError extends XceptionError {
  /** Always `'XceptionImageError'`. */
  override name = 'XceptionImageError';
}
