import { XceptionConfigError } from './errors.js';

/**
 * Where the ReLU of a separable block sits.
 *
 * @example
 * ```ts
 * const activation: BlockActivation = 'pre';
 * separableBlock(x, { filters: 128, activation, name: 'block3_sepconv1' });
 * ```
 *
 * - `'pre'`: ReLU → SeparableConv2D → BatchNormalization (Keras Applications' order).
 * - `'post'`: SeparableConv2D → BatchNormalization → ReLU (the course material's `block()`).
 * - `'none'`: SeparableConv2D → BatchNormalization, no activation.
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
 */
export type Padding = 'valid' | 'same';

/**
 * One named Xception variant: every number and switch that tells the variants
 * apart. The builders read these fields and nothing else, so a new variant is a
 * new row in {@link XCEPTION_PRESETS}, not a new branch in the code.
 *
 * @example
 * ```ts
 * const preset: XceptionPreset = getPreset('keras');
 * preset.middleRepeats; // 8
 * ```
 */
export interface XceptionPreset {
  /** The name users pass as `preset`. */
  readonly name: XceptionPresetName;
  /** One line on what the variant is and where it comes from. */
  readonly description: string;
  /** Filters of the two stem convolutions (block 1). */
  readonly stemFilters: readonly [number, number];
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
  /** Input shape used when `inputShape` is not given. */
  readonly defaultInputShape: readonly [number, number, number];
  /** The smallest spatial size the graph can be built for (the exit flow is then 1×1). */
  readonly minInputSize: number;
  /**
   * The smallest spatial size accepted without `allowSmallInput: true`
   * (Keras Applications refuses inputs below 71×71).
   */
  readonly recommendedMinInputSize: number;
}

/**
 * Names of the built-in presets.
 *
 * @example
 * ```ts
 * const name: XceptionPresetName = 'postact';
 * createXception({ preset: name, numClasses: 100 });
 * ```
 */
export type XceptionPresetName = 'keras' | 'postact';

/**
 * The built-in Xception variants, as data.
 *
 * | preset | stem padding | blocks | params (1000 classes) | params (no top) |
 * | --- | --- | --- | ---: | ---: |
 * | `keras` | valid | pre-activation | 22,910,480 | 20,861,480 |
 * | `postact` | same | post-activation | 22,910,480 | 20,861,480 |
 *
 * @example
 * ```ts
 * import { XCEPTION_PRESETS } from 'xception-ts';
 *
 * console.log(XCEPTION_PRESETS.keras.entryFilters); // [128, 256, 728]
 * ```
 */
export const XCEPTION_PRESETS: Readonly<Record<XceptionPresetName, XceptionPreset>> = Object.freeze({
  keras: definePreset({
    name: 'keras',
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
});

/** Freezes a preset and its lists, so that the table cannot be changed by accident. */
function definePreset(preset: XceptionPreset): XceptionPreset {
  for (const value of Object.values(preset)) if (Array.isArray(value)) Object.freeze(value);
  return Object.freeze(preset);
}

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
