import { input, model, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { buildScope } from './build-scope.js';
import { dense, dropout, globalPool } from './layers.js';
import { XceptionConfigError } from '../errors.js';
import { downloadVerified, type ChecksummedWeights } from '../weights/download-verified.js';
import { IMAGENET_MAX_BYTES, imagenetWeights } from '../weights/imagenet-weights.js';
import { loadKerasWeights, loadKerasWeightsFromBuffer } from '../weights/load-keras-weights.js';
import { requireCacheDirOption } from '../weights/weights-cache.js';
import { resolveDownloadOptions } from '../platform/fetch-bytes.js';
import { downloadTimmCheckpoint } from '../weights/download-timm-checkpoint.js';
import { loadTimmWeights, loadTimmWeightsFromBuffer } from '../weights/load-timm-weights.js';
import { PRETRAINED_CONFIGS, timmCheckpointUrl } from '../weights/pretrained-configs.js';
import { readWeightsSource, type WeightsSource } from '../weights/weights-source.js';
import { miniXceptionTop } from './mini-xception.js';
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
 * DeepLab's aligned Xceptions, `'xception41p'` and `'xception65p'` timm's
 * pre-activation ones (trainable parameters equal to timm's). With
 * `outputStride` 16 or 8 the last units keep their resolution and dilate
 * instead. Options are checked before anything is built:
 * bad options throw {@link XceptionConfigError} and allocate nothing.
 *
 * With `weights` it returns a Promise and loads them: `'imagenet'` (each
 * preset's ImageNet weights, see {@link PRETRAINED_CONFIGS}: Keras' official
 * files, MD5-checked, for `'keras'`; timm's Hugging Face checkpoints, checked
 * by size and header, for the aligned presets; cached in Node), a checksummed
 * URL, or any Keras HDF5 weight file (see {@link loadKerasWeights}); the
 * aligned presets also take a timm safetensors checkpoint (see {@link loadTimmWeights}).
 * Downloads have timeouts and a size cap (`download`, see {@link DownloadOptions})
 * and fail with {@link XceptionDownloadError}.
 *
 * The library never picks a TensorFlow.js backend; set one first (see the README).
 *
 * @param options - See {@link XceptionOptions} and {@link PretrainedXceptionOptions}.
 * @returns An uncompiled model (a Promise of it with `weights`): `[batch, h, w, c]` in; `[batch, numClasses]`
 *   (top), `[batch, 2048]` (pooling) or `[batch, h/32, w/32, 2048]` out.
 * @throws {@link XceptionConfigError} for bad options.
 * @throws {@link XceptionDownloadError} (with `weights`) when a download fails or hits a limit.
 * @throws {@link XceptionWeightsError} (with `weights`) when the file is corrupt, has the wrong MD5 or does not fit.
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
 * const best = await createXception({ preset: 'xception65', weights: 'imagenet' }); // timm's ra3_in1k, 83.2 % top-1
 * ```
 * @category Model
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
  const cacheDir = requireCacheDirOption(options.weightsCacheDir);
  const warn = options.onWarning ?? ((message: string) => console.warn(message));
  if (typeof warn !== 'function') {
    throw new XceptionConfigError(`onWarning must be a function; got ${typeof warn}.`);
  }
  if (options.weightsBaseUrl !== undefined && (typeof options.weightsBaseUrl !== 'string' || options.weightsBaseUrl === '')) {
    throw new XceptionConfigError(`weightsBaseUrl must be a non-empty URL string; got ${JSON.stringify(options.weightsBaseUrl) ?? typeof options.weightsBaseUrl}.`);
  }
  resolveDownloadOptions(options.download); // checked up front, whatever the source
  const given: unknown = weights;
  if (typeof given === 'object' && given !== null && 'url' in given && !(given instanceof URL) && !isChecksummed(weights)) {
    throw new XceptionConfigError(
      `weights { url, md5 } needs a url string and an md5 string (32 hex digits, the file's published MD5); ` +
        `got url ${typeof (weights as { url?: unknown }).url} and md5 ${typeof (weights as { md5?: unknown }).md5}. ` +
        'To load a URL unchecked, pass the URL itself as weights.',
    );
  }
  const config = PRETRAINED_CONFIGS[resolved.preset.name];
  if (weights === 'imagenet' && config?.format === 'timm-safetensors') {
    const model = build(resolved);
    try {
      const bytes = await downloadTimmCheckpoint(
        { url: timmCheckpointUrl(config.tag, options.weightsBaseUrl), tag: config.tag, sha256: config.sha256, dataBytes: timmCheckpointBytes(model) },
        { cacheDir, download: options.download, defaultMaxBytes: TIMM_CHECKPOINT_MAX_BYTES, warn },
      );
      await loadTimmWeights(model, bytes);
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  }
  const source: WeightsSource =
    weights === 'imagenet'
      ? await downloadVerified(imagenetWeights(resolved.includeTop, options.weightsBaseUrl), {
          cacheDir, download: options.download, defaultMaxBytes: IMAGENET_MAX_BYTES, warn,
        })
      : isChecksummed(weights)
        ? await downloadVerified(weights, { cacheDir, download: options.download, warn })
        : weights;
  const model = build(resolved);
  try {
    if (resolved.preset.family === 'aligned') {
      // An aligned model takes a Keras HDF5 file (e.g. saved from one) or a timm safetensors checkpoint.
      const { bytes, label } = await readWeightsSource(source, options.download);
      if (isHdf5(bytes)) loadKerasWeightsFromBuffer(model, bytes, label);
      else loadTimmWeightsFromBuffer(model, bytes, label);
    } else {
      await loadKerasWeights(model, source, options.download === undefined ? {} : { download: options.download });
    }
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/**
 * Bytes of tensor data in timm's float32 state dict for this model's
 * architecture: every weight (with timm's 1000-class head, whether or not the
 * model has a top) as float32, plus an int64 `num_batches_tracked` per BN
 * (or, in a state dict saved without them, not).
 */
/** The size cap of a timm checkpoint download: the largest (xception71, float32) is 170 MB. */
const TIMM_CHECKPOINT_MAX_BYTES = 256 * 1024 * 1024;

function timmCheckpointBytes(model: LayersModel): number[] {
  let floats = 2048 * 1000 + 1000;
  let batchNorms = 0;
  for (const layer of model.layers) {
    if (layer.name === 'predictions') continue;
    if (layer.getClassName() === 'BatchNormalization') batchNorms++;
    for (const w of layer.weights) floats += w.shape.reduce<number>((n, d) => n * (d ?? 1), 1);
  }
  return [4 * floats + 8 * batchNorms, 4 * floats];
}

/** HDF5's signature, at offset 0 (the only place Keras' files put the superblock). */
function isHdf5(bytes: ArrayBuffer): boolean {
  const head = new Uint8Array(bytes, 0, Math.min(8, bytes.byteLength));
  return [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => head[i] === b);
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
