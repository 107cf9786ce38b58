import { XceptionConfigError } from '../errors.js';
import type { OutputStride } from './atrous.js';
import type { ChecksummedWeights } from '../weights/download-verified.js';
import type { DownloadOptions } from '../platform/fetch-bytes.js';
import type { WeightsSource } from '../weights/weights-source.js';
import { OUTPUT_STRIDES, requireMomentum } from './flow-options.js';
import { DEFAULT_BATCH_NORM_MOMENTUM } from './layers.js';
import { requireWithinLimit } from './limits.js';
import { PRETRAINED_CONFIGS } from '../weights/pretrained-configs.js';
import { getPreset, type XceptionPreset, type XceptionPresetName } from './presets.js';
import { requireInteger, requireName, requireOneOf, show } from './validation.js';

/**
 * Global pooling applied to the last feature map when `includeTop` is false.
 *
 * @example
 * ```ts
 * const pooling: XceptionPooling = 'avg';
 * createXception({ includeTop: false, pooling }); // output [batch, 2048]
 * ```
 * @category Model
 */
export type XceptionPooling = 'avg' | 'max';

/**
 * The {@link createXception} function options. Every field is optional.
 *
 * @example
 * ```ts
 * const options: XceptionOptions = {
 *   preset: 'keras',
 *   inputShape: [224, 224, 3],
 *   numClasses: 5,
 *   dropout: 0.3,
 * };
 * const model = createXception(options);
 * ```
 * @category Model
 */
export interface XceptionOptions {
  /**
   * The variant to build: `'keras'` (Keras Applications exactly), `'postact'`
   * (the course material's post-activation variant), the aligned
   * `'xception41'`, `'xception65'`, `'xception71'` (DeepLab, timm) or timm's
   * pre-activation `'xception41p'`, `'xception65p'`. See
   * {@link XCEPTION_PRESETS}. @defaultValue `'keras'`
   */
  preset?: XceptionPresetName;
  /**
   * `[height, width, channels]`, channels last. Height and width may be
   * `null` (any size) only without the top. @defaultValue the preset's, `[299, 299, 3]`
   */
  inputShape?: [number | null, number | null, number];
  /** Whether to add global average pooling and the dense classifier. @defaultValue `true` */
  includeTop?: boolean;
  /** Classifier units; used only with the top. @defaultValue `1000` */
  numClasses?: number;
  /** Global pooling without the top: `'avg'`, `'max'`, or none (a 4D output). @defaultValue none */
  pooling?: XceptionPooling;
  /** Activation of the classifier: `'softmax'` or `'linear'` (logits). @defaultValue `'softmax'` */
  classifierActivation?: 'softmax' | 'linear';
  /** Dropout rate in [0, 1) before the classifier; used only with the top. @defaultValue `0` (no layer) */
  dropout?: number;
  /** Number of middle-flow units (classic presets only). @defaultValue the preset's, `8` */
  middleFlowRepeats?: number;
  /**
   * The largest reduction of the input the network reaches: 32 (Xception as
   * published), or 16 / 8 for dense prediction, where later units keep their
   * resolution and dilate their convolutions instead (DeepLab). @defaultValue `32`
   */
  outputStride?: OutputStride;
  /**
   * Accept spatial sizes from the graph's minimum (32) up to 70, which Keras
   * Applications refuses. @defaultValue `false`
   */
  allowSmallInput?: boolean;
  /**
   * Momentum of every BatchNormalization's moving statistics
   * (`moving = momentum · moving + (1 - momentum) · batch`), in [0, 1).
   * Lower values (e.g. 0.9) let the statistics follow a new dataset faster
   * when fine-tuning. @defaultValue `0.99` (Keras')
   */
  batchNormMomentum?: number;
  /** The model's name. @defaultValue `'xception'` */
  name?: string;
}

/**
 * {@link XceptionOptions} plus the weights to load: with these,
 * {@link createXception} returns a Promise of the model.
 *
 * @example
 * ```ts
 * const options: PretrainedXceptionOptions = { weights: 'imagenet', includeTop: false, pooling: 'avg' };
 * const model = await createXception(options);
 * ```
 * @category Model
 */
export interface PretrainedXceptionOptions extends XceptionOptions {
  /**
   * `'imagenet'`: the preset's ImageNet weights (see {@link PRETRAINED_CONFIGS}),
   * downloaded, checked and, in Node, cached: Keras' official files (MD5) for
   * `'keras'`, timm's Hugging Face checkpoints (safetensors, see
   * {@link loadTimmWeights}) for the aligned presets; `'postact'` has none.
   * Or a {@link ChecksummedWeights} download, or any {@link WeightsSource} in a
   * Keras HDF5 layout or, for the aligned presets, a timm safetensors checkpoint.
   */
  weights: XceptionWeights;
  /**
   * Where `'imagenet'` files are downloaded from: for `'keras'` the folder of
   * the `.h5` files, for the aligned presets the hub root
   * (`<base><tag>/resolve/main/model.safetensors`).
   * @defaultValue Keras Applications' storage bucket; `https://huggingface.co/timm/`
   */
  weightsBaseUrl?: string;
  /**
   * Node: the folder that keeps verified downloads, or `false` for none. A
   * cache that cannot be read or written (permissions, a file in the way, a
   * bad path) does not fail the load: the verified download is used without
   * caching and {@link onWarning} says why, once.
   * @defaultValue `$XCEPTION_TS_CACHE_DIR` (when not empty), else `~/.cache/xception-ts`
   */
  weightsCacheDir?: string | false;
  /**
   * Limits of the download (`'imagenet'`, `{ url, md5 }` or a URL): timeouts,
   * size cap, abort signal. See {@link DownloadOptions}.
   * @defaultValue timeouts of 30 s; `maxBytes` for `'imagenet'` 128 MiB (`keras`) or 256 MiB (timm checkpoints), else 1 GiB
   */
  download?: DownloadOptions;
  /** Receives warnings, e.g. that the weights cache cannot be used. @defaultValue `console.warn` */
  onWarning?: (message: string) => void;
}

/**
 * What `weights` may be: `'imagenet'`, a checksummed download, or a Keras HDF5 file.
 *
 * @example
 * ```ts
 * const weights: XceptionWeights = 'imagenet';
 * const model = await createXception({ weights });
 * ```
 * @category Model
 */
export type XceptionWeights = 'imagenet' | ChecksummedWeights | WeightsSource;

/** The options that shape the feature extractor, shared by createXception and createXceptionBackbone. @internal */
export interface TrunkOptions {
  preset?: XceptionPresetName;
  inputShape?: [number | null, number | null, number];
  middleFlowRepeats?: number;
  outputStride?: OutputStride;
  allowSmallInput?: boolean;
  batchNormMomentum?: number;
}

/** {@link TrunkOptions} resolved and checked. @internal */
export interface ResolvedTrunkOptions {
  preset: XceptionPreset;
  inputShape: [number | null, number | null, number];
  /** Middle units of a classic preset (aligned presets fix theirs). */
  middleFlowRepeats: number;
  outputStride: OutputStride;
  batchNormMomentum: number;
}

/** {@link XceptionOptions} with every default filled in and every value checked. @internal */
export interface ResolvedXceptionOptions extends ResolvedTrunkOptions {
  includeTop: boolean;
  numClasses: number;
  pooling: XceptionPooling | undefined;
  classifierActivation: 'softmax' | 'linear';
  dropout: number;
  name: string;
}

const KNOWN_OPTIONS = [
  'preset', 'inputShape', 'includeTop', 'numClasses', 'pooling', 'classifierActivation',
  'dropout', 'middleFlowRepeats', 'outputStride', 'allowSmallInput', 'batchNormMomentum', 'name',
  'weights', 'weightsBaseUrl', 'weightsCacheDir', 'download', 'onWarning',
];

/** Refuses a non-object and names any unknown (e.g. misspelt) option. @internal */
export function requireKnownOptions(what: string, options: unknown, known: readonly string[]): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new XceptionConfigError(`${what} options must be an object; got ${show(options)}.`);
  }
  const unknown = Object.keys(options).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new XceptionConfigError(
      `Unknown ${what} option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; ` +
        `valid options are ${known.map((k) => `'${k}'`).join(', ')}.`,
    );
  }
}

/**
 * Resolves the options that shape the feature extractor. `fixedSize` says
 * whether height and width must be numbers (a model with a top). @internal
 */
export function resolveTrunkOptions(
  options: TrunkOptions,
  defaults: { inputShape?: [number | null, number | null, number]; fixedSize: boolean },
): ResolvedTrunkOptions {
  const preset = getPreset(options.preset);
  const allowSmallInput = requireBoolean('allowSmallInput', options.allowSmallInput ?? false);
  const inputShape = resolveInputShape(
    options.inputShape ?? defaults.inputShape ?? preset.defaultInputShape,
    preset,
    defaults.fixedSize,
    allowSmallInput,
  );
  let middleFlowRepeats = 0;
  if (preset.family === 'classic') {
    middleFlowRepeats = requireWithinLimit(
      'middleFlowRepeats',
      requireInteger('middleFlowRepeats', options.middleFlowRepeats ?? preset.middleRepeats, 0),
      'maxMiddleFlowRepeats',
    );
  } else if (options.middleFlowRepeats !== undefined) {
    throw new XceptionConfigError(
      `middleFlowRepeats applies to the classic presets ('keras', 'postact'); '${preset.name}' fixes its units ` +
        `(${preset.family === 'aligned' ? preset.units.length : preset.moduleFilters.length} after the stem).`,
    );
  }
  if (preset.family === 'mini' && options.outputStride !== undefined && options.outputStride !== 32) {
    throw new XceptionConfigError(
      `outputStride ${show(options.outputStride)}: the mini-Xception preset '${preset.name}' has no dilated variant; ` +
        'leave outputStride out (or 32).',
    );
  }
  return {
    preset,
    inputShape,
    middleFlowRepeats,
    outputStride: requireOneOf('outputStride', options.outputStride ?? 32, OUTPUT_STRIDES),
    batchNormMomentum: requireMomentum('batchNormMomentum', options.batchNormMomentum ?? DEFAULT_BATCH_NORM_MOMENTUM),
  };
}

/**
 * Checks every option and fills in the defaults, in one place, before any
 * layer or tensor exists. @internal
 */
export function resolveXceptionOptions(options: XceptionOptions | PretrainedXceptionOptions = {}): ResolvedXceptionOptions {
  requireKnownOptions('createXception', options, KNOWN_OPTIONS);
  const includeTop = requireBoolean('includeTop', options.includeTop ?? true);
  const trunk = resolveTrunkOptions(options, { fixedSize: includeTop });
  const numClasses = requireWithinLimit('numClasses', requireInteger('numClasses', options.numClasses ?? 1000, 1), 'maxNumClasses');
  const classifierActivation = requireOneOf(
    'classifierActivation',
    options.classifierActivation ?? 'softmax',
    ['softmax', 'linear'] as const,
  );
  const pooling =
    options.pooling == null ? undefined : requireOneOf('pooling', options.pooling, ['avg', 'max'] as const);
  if (includeTop && pooling !== undefined) {
    throw new XceptionConfigError(
      `pooling '${pooling}' applies only with includeTop: false; the top always uses global average pooling.`,
    );
  }
  const dropout = options.dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) {
    throw new XceptionConfigError(`dropout must be a number in [0, 1); got ${show(dropout)}.`);
  }
  if (!includeTop && dropout > 0) {
    throw new XceptionConfigError(`dropout ${dropout} applies to the classifier and needs includeTop: true.`);
  }
  if ('weights' in options && options.weights === 'imagenet') {
    checkImagenetFit(trunk, includeTop, numClasses);
  }
  return {
    ...trunk,
    includeTop,
    numClasses,
    pooling,
    classifierActivation,
    dropout,
    name: requireName('name', options.name ?? 'xception', false),
  };
}

/**
 * Whether the preset's ImageNet weights fit: Keras' rules for Keras' files
 * (its own architecture at 299×299 with the top); timm's checkpoints need 3
 * channels and, with the top, 1000 classes (any input size: the head pools).
 */
function checkImagenetFit(trunk: ResolvedTrunkOptions, includeTop: boolean, numClasses: number): void {
  const config = PRETRAINED_CONFIGS[trunk.preset.name];
  if (config?.format === 'timm-safetensors') {
    const problem =
      trunk.inputShape[2] !== 3
        ? `they need 3 input channels, not ${trunk.inputShape[2]}`
        : includeTop && numClasses !== 1000
          ? `with the top they need numClasses 1000, not ${numClasses} (or set includeTop: false, or load them with loadTimmWeights(model, source, { skipMismatch: true }))`
          : null;
    if (problem !== null) throw new XceptionConfigError(`weights: 'imagenet' (${config.tag}) does not fit: ${problem}.`);
    return;
  }
  const problem =
    config === undefined
      ? `'${trunk.preset.name}' has no ImageNet weights; presets with weights: ${Object.keys(PRETRAINED_CONFIGS).map((n) => `'${n}'`).join(', ')}`
      : trunk.middleFlowRepeats !== 8
        ? `they need the 8 middle units of Keras' Xception, not ${trunk.middleFlowRepeats}`
        : trunk.inputShape[2] !== 3
          ? `they need 3 input channels, not ${trunk.inputShape[2]}`
          : includeTop && (trunk.inputShape[0] !== 299 || trunk.inputShape[1] !== 299)
            ? `with the top they need inputShape [299, 299, 3], not [${trunk.inputShape.join(', ')}] (or set includeTop: false)`
            : includeTop && numClasses !== 1000
              ? `with the top they need numClasses 1000, not ${numClasses} (or set includeTop: false and add your own head)`
              : null;
  if (problem !== null) throw new XceptionConfigError(`weights: 'imagenet' does not fit: ${problem}.`);
}

/** Requires `true` or `false`. @internal */
export function requireBoolean(what: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new XceptionConfigError(`${what} must be true or false; got ${show(value)}.`);
  }
  return value;
}

function resolveInputShape(
  shape: unknown,
  preset: XceptionPreset,
  fixedSize: boolean,
  allowSmallInput: boolean,
): [number | null, number | null, number] {
  const where = `inputShape ${show(shape)}`;
  if (!Array.isArray(shape) || shape.length !== 3) {
    const rank = Array.isArray(shape) ? `rank ${shape.length}` : 'not an array';
    throw new XceptionConfigError(
      `${where} must be [height, width, channels] (rank 3, channels last, no batch dimension); it is ${rank}.`,
    );
  }
  const [height, width, channels] = shape as unknown[];
  if (typeof channels !== 'number' || !Number.isInteger(channels) || channels < 1) {
    throw new XceptionConfigError(`${where}: channels must be an integer >= 1; got ${show(channels)}.`);
  }
  requireWithinLimit(`${where}: channels`, channels, 'maxInputChannels');
  for (const [label, size] of [['height', height], ['width', width]] as const) {
    if (size === null || size === undefined) {
      if (fixedSize) {
        throw new XceptionConfigError(
          `${where}: ${label} is undefined, but a model with includeTop: true needs a fixed input size ` +
            '(give numbers, or set includeTop: false).',
        );
      }
      continue;
    }
    if (typeof size !== 'number' || !Number.isInteger(size)) {
      throw new XceptionConfigError(`${where}: ${label} must be an integer or null; got ${show(size)}.`);
    }
    requireWithinLimit(`${where}: ${label}`, size, 'maxInputSize');
    if (size < preset.minInputSize) {
      throw new XceptionConfigError(
        `${where}: ${label} ${size} is below ${preset.minInputSize}, the smallest input the Xception graph ` +
          `supports (its exit flow is then 1×1).`,
      );
    }
    if (size < preset.recommendedMinInputSize && !allowSmallInput) {
      throw new XceptionConfigError(
        `${where}: ${label} ${size} is below ${preset.recommendedMinInputSize}, the smallest size Keras ` +
          `Applications accepts; pass allowSmallInput: true to build it anyway (down to ${preset.minInputSize}).`,
      );
    }
  }
  return [height as number | null, width as number | null, channels];
}
