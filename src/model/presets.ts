import { XceptionConfigError } from '../errors.js';

/**
 * Where the ReLU of a separable block sits.
 *
 * - `'pre'`: ReLU → SeparableConv2D → BatchNormalization (Keras Applications' order).
 * - `'post'`: SeparableConv2D → BatchNormalization → ReLU (the course material's `block()`).
 * - `'none'`: SeparableConv2D → BatchNormalization, no activation.
 *
 * @example
 * ```ts
 * const activation: BlockActivation = 'pre';
 * separableBlock(x, { filters: 128, activation, name: 'block3_sepconv1' });
 * ```
 * @category Model
 */
export type BlockActivation = 'pre' | 'post' | 'none';

/**
 * Padding of a convolution, as in Keras and TensorFlow.js.
 *
 * @example
 * ```ts
 * const stemPadding: Padding = 'same';
 * entryFlow(input, { stemPadding });
 * ```
 * @category Model
 */
export type Padding = 'valid' | 'same';

/** What every preset has, whichever family it belongs to. */
interface PresetCommon {
  /** The name users pass as `preset`. */
  readonly name: XceptionPresetName;
  /** One line on what the variant is and where it comes from. */
  readonly description: string;
  /** Filters of the two 3×3 stem convolutions (block 1); the first has stride 2. */
  readonly stemFilters: readonly [number, number];
  /** Input shape used when `inputShape` is not given. */
  readonly defaultInputShape: readonly [number, number, number];
  /** The smallest spatial size the graph can be built for (the last feature map is then 1×1). */
  readonly minInputSize: number;
  /**
   * The smallest spatial size accepted without `allowSmallInput: true`
   * (Keras Applications refuses inputs below 71×71).
   */
  readonly recommendedMinInputSize: number;
}

/**
 * A variant of Chollet's Xception (Keras Applications' layout): entry units
 * that downsample with max pooling, a middle flow of identical units, an exit
 * unit and two final separable convolutions.
 *
 * @example
 * ```ts
 * const preset = getPreset('keras') as ClassicXceptionPreset;
 * preset.middleRepeats; // 8
 * ```
 * @category Model
 */
export interface ClassicXceptionPreset extends PresetCommon {
  /** Tells the classic layout from the aligned one. */
  readonly family: 'classic';
  /** Padding of the two 3×3 stem convolutions: Keras uses `'valid'` (299 → 149 → 147). */
  readonly stemPadding: Padding;
  /** Activation placement of the separable blocks of the entry, middle and block-13 exit units. */
  readonly blockActivation: 'pre' | 'post';
  /** Output filters of the entry-flow units (blocks 2, 3, 4). */
  readonly entryFilters: readonly number[];
  /** Filters of every middle-flow separable convolution. */
  readonly middleFilters: number;
  /** Number of middle-flow units. */
  readonly middleRepeats: number;
  /** Filters of the two separable convolutions of the first exit unit (block 13). */
  readonly exitFilters: readonly [number, number];
  /** Filters of the two final separable convolutions (block 14). */
  readonly exitConvFilters: readonly [number, number];
}

/**
 * One unit of an aligned Xception (DeepLab; timm's `XceptionModule`): three
 * separable convolutions, each depthwise → BN → pointwise → BN, the stride on
 * the third, and a shortcut (a strided 1×1 convolution + BN where the shape
 * changes) added to the output.
 *
 * @example
 * ```ts
 * const exitUnit: AlignedUnit = { filters: [728, 1024, 1024], stride: 2, skip: true, startWithRelu: true };
 * ```
 * @category Model
 */
export interface AlignedUnit {
  /** Output channels of the three separable convolutions. */
  readonly filters: readonly [number, number, number];
  /** Nominal stride of the third separable convolution (and of the shortcut). */
  readonly stride: 1 | 2;
  /** Whether the unit adds its shortcut (the last unit of the exit flow does not). */
  readonly skip: boolean;
  /**
   * `true`: a ReLU before each separable convolution. `false`: a ReLU after
   * both the depthwise and the pointwise BN instead (the last unit).
   */
  readonly startWithRelu: boolean;
}

/**
 * A variant of the aligned Xception of DeepLab (Xception-41/65/71, as timm's
 * `xception_aligned.py` defines them, and timm's pre-activation 41p/65p): a
 * 3×3 stem and a list of units, every downsampling done by strided separable
 * convolutions. Every stride-2 3×3 convolution is padded symmetrically by one
 * pixel (a `ZeroPadding2D` named `<conv>_pad`, then 'valid'), as DeepLab's
 * `fixed_padding` and timm do, so that their pretrained weights give their
 * outputs at every input size; the other convolutions are 'same', which is
 * already symmetric at stride 1 (also dilated).
 *
 * @example
 * ```ts
 * const preset = getPreset('xception65') as AlignedXceptionPreset;
 * preset.units.length; // 21
 * ```
 * @category Model
 */
export interface AlignedXceptionPreset extends PresetCommon {
  /** Tells the aligned layout from the classic one. */
  readonly family: 'aligned';
  /** The units after the stem, in order; they are named block2, block3, …. */
  readonly units: readonly AlignedUnit[];
  /**
   * `false`: timm's `XceptionModule` (ReLU → dw → BN → pw → BN, BN shortcut).
   * `true`: timm's `PreXceptionModule` (xception41p/65p): a BN + ReLU before
   * each unit (`block{n}_preact_bn`) and before its 2nd and 3rd separable
   * convolutions (`block{n}_sepconv{k}_bn`), no BN between depthwise and
   * pointwise, a bare 1×1 shortcut, a bare stem conv 2 and a final ReLU (`final_act`).
   */
  readonly preactivation: boolean;
  /** Epsilon of every BatchNormalization: timm's 1e-3, or PyTorch's default 1e-5 (xception41p). */
  readonly batchNormEpsilon: number;
}

/**
 * One named Xception variant: every number and switch that tells the variants
 * apart. The builders read these fields and nothing else, so a new variant is a
 * new row in {@link XCEPTION_PRESETS}, not a new branch in the code.
 *
 * @example
 * ```ts
 * const preset: XceptionPreset = getPreset('keras');
 * if (preset.family === 'classic') console.log(preset.middleRepeats); // 8
 * ```
 * @category Model
 */
export type XceptionPreset = ClassicXceptionPreset | AlignedXceptionPreset | MiniXceptionPreset;

/**
 * A member of oarriaga's mini-Xception family (face_classification,
 * `src/models/cnn.py`: `tiny_XCEPTION`, `mini_XCEPTION`, `big_XCEPTION`): a
 * 'valid' 3×3 stem, then modules of [1×1/2 convolution + BN shortcut;
 * SeparableConv → BN → ReLU → SeparableConv → BN → 3×3/2 max pooling; add],
 * and a convolutional classifier (3×3 'same' Conv2D with bias → global
 * average pooling → softmax).
 *
 * @example
 * ```ts
 * const preset = getPreset('mini') as MiniXceptionPreset;
 * preset.moduleFilters; // [16, 32, 64, 128]
 * ```
 * @category Model
 */
export interface MiniXceptionPreset extends PresetCommon {
  /** Tells the mini-Xception family from the other layouts. */
  readonly family: 'mini';
  /** Strides of the two 'valid' 3×3 stem convolutions: `[1, 1]` (tiny, mini) or `[2, 1]` (big). */
  readonly stemStrides: readonly [number, number];
  /** Output filters of the modules (blocks 2, 3, …), each halving the resolution. */
  readonly moduleFilters: readonly number[];
  /** Whether every module after the first starts with a ReLU on its main path (`big_XCEPTION`). */
  readonly moduleLeadingRelu: boolean;
}

/**
 * Names of the built-in presets.
 *
 * @example
 * ```ts
 * const name: XceptionPresetName = 'postact';
 * createXception({ preset: name, numClasses: 100 });
 * ```
 * @category Model
 */
export type XceptionPresetName =
  | 'keras'
  | 'postact'
  | 'xception41'
  | 'xception65'
  | 'xception71'
  | 'xception41p'
  | 'xception65p'
  | MiniXceptionPresetName;

/**
 * Names of the mini-Xception presets (oarriaga's face_classification models).
 *
 * @example
 * ```ts
 * const name: MiniXceptionPresetName = 'mini';
 * createXception({ preset: name, inputShape: [64, 64, 1], numClasses: 7 }); // 58,423 params
 * ```
 * @category Model
 */
export type MiniXceptionPresetName = 'mini' | 'tiny' | 'big';

/** Freezes a preset and its lists, so that the table cannot be changed by accident. */
function definePreset<P extends XceptionPreset>(preset: P): P {
  for (const value of Object.values(preset)) if (Array.isArray(value)) Object.freeze(value);
  return Object.freeze(preset);
}

/** An aligned unit with a shortcut and a ReLU before each separable convolution. */
function unit(filters: [number, number, number], stride: 1 | 2): AlignedUnit {
  return Object.freeze({ filters: Object.freeze(filters), stride, skip: true, startWithRelu: true });
}

function miniPreset(
  name: MiniXceptionPresetName,
  description: string,
  stemFilters: [number, number],
  stemStrides: [number, number],
  moduleFilters: number[],
  moduleLeadingRelu: boolean,
): MiniXceptionPreset {
  // Two 'valid' 3×3 convolutions must leave at least one pixel: s → floor((s - 3) / s0) + 1 → that - 2.
  const minInputSize = 3 + 2 * stemStrides[0];
  return definePreset({
    name,
    family: 'mini',
    description,
    stemFilters,
    stemStrides,
    moduleFilters,
    moduleLeadingRelu,
    defaultInputShape: [64, 64, 1],
    minInputSize,
    recommendedMinInputSize: minInputSize,
  });
}

function repeat<T>(value: T, times: number): T[] {
  return Array.from({ length: times }, () => value);
}

const ALIGNED_ENTRY = [unit([128, 128, 128], 2), unit([256, 256, 256], 2), unit([728, 728, 728], 2)];
const MIDDLE_UNIT = unit([728, 728, 728], 1);
const ALIGNED_EXIT: AlignedUnit[] = [
  unit([728, 1024, 1024], 2),
  Object.freeze({ filters: Object.freeze([1536, 1536, 2048] as [number, number, number]), stride: 1, skip: false, startWithRelu: false }),
];

/** The last unit of a pre-activation variant: no shortcut (its `startWithRelu` is not used). */
const PREACT_EXIT: AlignedUnit[] = [
  ALIGNED_EXIT[0]!,
  Object.freeze({ filters: Object.freeze([1536, 1536, 2048] as [number, number, number]), stride: 1, skip: false, startWithRelu: true }),
];

function alignedPreset(
  name: XceptionPresetName,
  description: string,
  units: AlignedUnit[],
  { preactivation = false, batchNormEpsilon = 1e-3 } = {},
): AlignedXceptionPreset {
  return definePreset({
    name,
    family: 'aligned',
    description,
    stemFilters: [32, 64],
    units,
    preactivation,
    batchNormEpsilon,
    defaultInputShape: [299, 299, 3],
    minInputSize: 32,
    recommendedMinInputSize: 32,
  });
}

/**
 * The built-in Xception variants, as data.
 *
 * | preset | family | stem padding | blocks | params (1000 classes) | trainable |
 * | --- | --- | --- | --- | ---: | ---: |
 * | `keras` | classic | valid | pre-activation | 22,910,480 | 22,855,952 |
 * | `postact` | classic | same | post-activation | 22,910,480 | 22,855,952 |
 * | `xception41` | aligned | same | ReLU → (dw → BN → pw → BN) | 27,084,872 | 26,969,560 |
 * | `xception65` | aligned | same | ReLU → (dw → BN → pw → BN) | 40,101,512 | 39,916,312 |
 * | `xception71` | aligned | same | ReLU → (dw → BN → pw → BN) | 42,537,712 | 42,338,736 |
 * | `xception41p` | aligned | same | (BN → ReLU →) dw → pw | 26,961,256 | 26,907,752 |
 * | `xception65p` | aligned | same | (BN → ReLU →) dw → pw | 39,908,008 | 39,819,560 |
 *
 * The mini-Xception family (oarriaga's face_classification), counted at 64×64×1 with 7 classes:
 *
 * | preset | stem | modules | params | trainable |
 * | --- | --- | --- | ---: | ---: |
 * | `tiny` | 5, 5 (stride 1) | 8 / 16 / 32 / 64 | 18,314 | 17,574 |
 * | `mini` | 8, 8 (stride 1) | 16 / 32 / 64 / 128 | 58,423 | 56,951 |
 * | `big` | 32 (stride 2), 64 | 128 / 256 | 208,871 | 206,375 |
 *
 * @example
 * ```ts
 * import { XCEPTION_PRESETS } from 'xception-ts';
 *
 * console.log(XCEPTION_PRESETS.keras.entryFilters); // [128, 256, 728]
 * ```
 * @category Model
 */
export const XCEPTION_PRESETS: Readonly<{
  /** Keras Applications' Xception (the default). */
  keras: ClassicXceptionPreset;
  /** The course material's post-activation variant. */
  postact: ClassicXceptionPreset;
  /** DeepLab's aligned Xception-41. */
  xception41: AlignedXceptionPreset;
  /** DeepLab's aligned Xception-65. */
  xception65: AlignedXceptionPreset;
  /** DeepLab's aligned Xception-71. */
  xception71: AlignedXceptionPreset;
  /** timm's pre-activation aligned Xception-41. */
  xception41p: AlignedXceptionPreset;
  /** timm's pre-activation aligned Xception-65. */
  xception65p: AlignedXceptionPreset;
  /** oarriaga's `mini_XCEPTION` (face emotion and gender models). */
  mini: MiniXceptionPreset;
  /** oarriaga's `tiny_XCEPTION`. */
  tiny: MiniXceptionPreset;
  /** oarriaga's `big_XCEPTION`. */
  big: MiniXceptionPreset;
}> = Object.freeze({
  keras: definePreset({
    name: 'keras',
    family: 'classic',
    description:
      "Keras Applications' Xception exactly: 'valid' stem, pre-activation separable blocks (Chollet 2017).",
    stemFilters: [32, 64],
    stemPadding: 'valid',
    blockActivation: 'pre',
    entryFilters: [128, 256, 728],
    middleFilters: 728,
    middleRepeats: 8,
    exitFilters: [728, 1024],
    exitConvFilters: [1536, 2048],
    defaultInputShape: [299, 299, 3],
    minInputSize: 32,
    recommendedMinInputSize: 71,
  }),
  postact: definePreset({
    name: 'postact',
    family: 'classic',
    description:
      "The course material's variant: 'same' stem, post-activation blocks (SeparableConv2D → BN → ReLU).",
    stemFilters: [32, 64],
    stemPadding: 'same',
    blockActivation: 'post',
    entryFilters: [128, 256, 728],
    middleFilters: 728,
    middleRepeats: 8,
    exitFilters: [728, 1024],
    exitConvFilters: [1536, 2048],
    defaultInputShape: [299, 299, 3],
    minInputSize: 32,
    recommendedMinInputSize: 71,
  }),
  xception41: alignedPreset('xception41', 'Aligned Xception-41 (DeepLab; timm xception41): 8 middle units.', [
    ...ALIGNED_ENTRY,
    ...repeat(MIDDLE_UNIT, 8),
    ...ALIGNED_EXIT,
  ]),
  xception65: alignedPreset('xception65', 'Aligned Xception-65 (DeepLab; timm xception65): 16 middle units.', [
    ...ALIGNED_ENTRY,
    ...repeat(MIDDLE_UNIT, 16),
    ...ALIGNED_EXIT,
  ]),
  xception71: alignedPreset(
    'xception71',
    'Aligned Xception-71 (DeepLab; timm xception71): five entry units, 16 middle units.',
    [unit([128, 128, 128], 2), unit([256, 256, 256], 1), unit([256, 256, 256], 2), unit([728, 728, 728], 1), unit([728, 728, 728], 2), ...repeat(MIDDLE_UNIT, 16), ...ALIGNED_EXIT],
  ),
  xception41p: alignedPreset(
    'xception41p',
    'Pre-activation aligned Xception-41 (timm xception41p): 8 middle units, BN epsilon 1e-5.',
    [...ALIGNED_ENTRY, ...repeat(MIDDLE_UNIT, 8), ...PREACT_EXIT],
    { preactivation: true, batchNormEpsilon: 1e-5 },
  ),
  xception65p: alignedPreset(
    'xception65p',
    'Pre-activation aligned Xception-65 (timm xception65p): 16 middle units, BN epsilon 1e-3.',
    [...ALIGNED_ENTRY, ...repeat(MIDDLE_UNIT, 16), ...PREACT_EXIT],
    { preactivation: true },
  ),
  mini: miniPreset('mini', "oarriaga's mini_XCEPTION (face_classification): 8-filter stride-1 stem, four modules.", [8, 8], [1, 1], [16, 32, 64, 128], false),
  tiny: miniPreset('tiny', "oarriaga's tiny_XCEPTION (face_classification): 5-filter stride-1 stem, four modules.", [5, 5], [1, 1], [8, 16, 32, 64], false),
  big: miniPreset('big', "oarriaga's big_XCEPTION (face_classification): Xception's stem, two modules.", [32, 64], [2, 1], [128, 256], true),
});


/**
 * Lists the names of the built-in presets, in table order.
 *
 * @returns The preset names, e.g. `['keras', 'postact']`.
 *
 * @example
 * ```ts
 * import { listPresets } from 'xception-ts';
 *
 * for (const name of listPresets()) console.log(name);
 * ```
 * @category Model
 */
export function listPresets(): XceptionPresetName[] {
  return Object.keys(XCEPTION_PRESETS) as XceptionPresetName[];
}

/**
 * Looks a preset up by name.
 *
 * @param name - A preset name; `undefined` gives the default, `'keras'`.
 * @returns The preset.
 * @throws {@link XceptionConfigError} for a name that is not in {@link XCEPTION_PRESETS}.
 *
 * @example
 * ```ts
 * import { getPreset } from 'xception-ts';
 *
 * getPreset('postact').stemPadding; // 'same'
 * ```
 * @category Model
 */
export function getPreset(name: string = 'keras'): XceptionPreset {
  if (!Object.prototype.hasOwnProperty.call(XCEPTION_PRESETS, name)) {
    throw new XceptionConfigError(
      `Unknown preset ${JSON.stringify(name)}: valid presets are ${listPresets()
        .map((n) => `'${n}'`)
        .join(', ')}.`,
    );
  }
  return XCEPTION_PRESETS[name as XceptionPresetName];
}
