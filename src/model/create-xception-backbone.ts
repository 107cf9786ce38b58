import { input, model, type LayersModel } from '@tensorflow/tfjs-layers';
import type { OutputStride } from './atrous.js';
import { buildScope } from './build-scope.js';
import { XceptionConfigError } from '../errors.js';
import type { XceptionPresetName } from './presets.js';
import { requireName, show } from './validation.js';
import { requireKnownOptions, resolveTrunkOptions } from './xception-options.js';
import { buildTrunk } from './xception-trunk.js';

/** The {@link createXceptionBackbone} function options. Every field is optional.
 *
 * @example
 * ```ts
 * const options: XceptionBackboneOptions = { preset: 'xception65', outputStride: 16, outIndices: [1, 4] };
 * ```
 * @category Backbone
 */
export interface XceptionBackboneOptions {
  /** Any preset, classic or aligned. @defaultValue `'keras'` */
  preset?: XceptionPresetName;
  /** `[height, width, channels]`; height and width may be `null`. @defaultValue `[null, null, 3]` */
  inputShape?: [number | null, number | null, number];
  /** 8, 16 or 32: the largest reduction; later units dilate instead. @defaultValue `32` */
  outputStride?: OutputStride;
  /**
   * Which feature maps to output, by index into the five taps (reductions
   * 2, 4, 8, 16, 32 before the output-stride cap), in the order given, like
   * timm's `out_indices`. @defaultValue `[0, 1, 2, 3, 4]`
   */
  outIndices?: number[];
  /** Middle units of a classic preset. @defaultValue the preset's, `8` */
  middleFlowRepeats?: number;
  /** Accept spatial sizes from 32 up to the preset's recommended minimum. @defaultValue `false` */
  allowSmallInput?: boolean;
  /** Momentum of every BatchNormalization's moving statistics, in [0, 1). @defaultValue `0.99` (Keras') */
  batchNormMomentum?: number;
  /** The model's name. @defaultValue `'xception_backbone'` */
  name?: string;
}

/**
 * One output of a backbone: where it comes from, how much smaller than the
 * input it is, and how many channels it has.
 *
 * @example
 * ```ts
 * const info: FeatureInfo = { name: 'block4_sepconv1_act', reduction: 8, channels: 256 };
 * ```
 * @category Backbone
 */
export interface FeatureInfo {
  /** The layer whose output this is, e.g. `'block13_sepconv1_act'`. */
  name: string;
  /** Input size ÷ feature-map size (for sizes divisible by it): 2, 4, 8, 16 or 32. */
  reduction: number;
  /** Channels of the feature map. */
  channels: number;
}

/**
 * A multi-output feature extractor and the description of its outputs.
 *
 * @example
 * ```ts
 * const { model, featureInfo }: XceptionBackbone = createXceptionBackbone();
 * ```
 * @category Backbone
 */
export interface XceptionBackbone {
  /** A model with one output per requested feature map, in `outIndices` order. */
  model: LayersModel;
  /** One entry per model output, in the same order. */
  featureInfo: FeatureInfo[];
}

const KNOWN_OPTIONS = [
  'preset', 'inputShape', 'outputStride', 'outIndices', 'middleFlowRepeats', 'allowSmallInput', 'batchNormMomentum', 'name',
];
const TAP_COUNT = 5;

/**
 * Builds Xception as a multi-scale backbone for dense prediction (DeepLab,
 * FPN, U-Net-style decoders): a model whose outputs are the feature maps at
 * reductions 2, 4, 8, 16 and 32 (timm's `features_only`), with
 * `outputStride` 16 or 8 to keep the last stages at a higher resolution
 * through dilation. The layers are those of {@link createXception} without
 * the top, with the same names, so weights carry over.
 *
 * | preset | channels at 2 / 4 / 8 / 16 / 32 |
 * | --- | --- |
 * | `keras`, `postact` | 64 / 128 / 256 / 728 / 2048 |
 * | `xception41`, `xception65`, `xception71`, `xception41p`, `xception65p` | 128 / 256 / 728 / 1024 / 2048 |
 *
 * With `outputStride` 16 the last two outputs are both at reduction 16; with
 * 8 the last three are at 8.
 *
 * @param options - See {@link XceptionBackboneOptions}.
 * @returns The model and its {@link FeatureInfo} list.
 * @throws {@link XceptionConfigError} for bad options (an `outputStride` or `outIndices` out of range, …).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { createXceptionBackbone } from 'xception-ts';
 *
 * const { model, featureInfo } = createXceptionBackbone({ outputStride: 16, outIndices: [1, 4] });
 * // featureInfo: [{ name: 'block3_sepconv1_act', reduction: 4, channels: 128 },
 * //               { name: 'block14_sepconv2_act', reduction: 16, channels: 2048 }]
 * const [lowLevel, high] = model.predict(tf.zeros([1, 512, 512, 3])) as tf.Tensor[];
 * // lowLevel: [1, 128, 128, 128]; high: [1, 32, 32, 2048]
 * ```
 * @category Backbone
 */
export function createXceptionBackbone(options: XceptionBackboneOptions = {}): XceptionBackbone {
  requireKnownOptions('createXceptionBackbone', options, KNOWN_OPTIONS);
  const trunk = resolveTrunkOptions(options, { inputShape: [null, null, 3], fixedSize: false });
  if (trunk.preset.family === 'mini') {
    throw new XceptionConfigError(
      `createXceptionBackbone: preset '${trunk.preset.name}' (mini-Xception) has no five-level feature pyramid; ` +
        "use createXception({ preset: '" + trunk.preset.name + "', includeTop: false }) or a classic or aligned preset.",
    );
  }
  const outIndices = resolveOutIndices(options.outIndices);
  const name = requireName('name', options.name ?? 'xception_backbone', false);

  return buildScope(() => {
    const image = input({ shape: trunk.inputShape, name: 'input' });
    const { output, taps } = buildTrunk(image, trunk);
    const trunkModel = model({ inputs: image, outputs: output, name: `${name}_trunk` });
    const selected = outIndices.map((index) => taps[index]!);
    const outputs = selected.map((tap) => trunkModel.getLayer(tap.name).output as typeof output);
    return {
      model: model({ inputs: image, outputs, name }),
      featureInfo: selected.map(({ name: layer, reduction, channels }) => ({ name: layer, reduction, channels })),
    };
  });
}

function resolveOutIndices(value: unknown): number[] {
  const indices = value ?? [0, 1, 2, 3, 4];
  const ok =
    Array.isArray(indices) &&
    indices.length > 0 &&
    indices.every((i) => Number.isInteger(i) && i >= 0 && i < TAP_COUNT) &&
    new Set(indices).size === indices.length;
  if (!ok) {
    throw new XceptionConfigError(
      `outIndices must be a non-empty list of distinct integers from 0 to ${TAP_COUNT - 1} ` +
        `(reductions 2, 4, 8, 16, 32); got ${show(value)}.`,
    );
  }
  return indices as number[];
}
