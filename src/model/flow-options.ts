import { XceptionConfigError } from '../errors.js';
import type { OutputStride } from './atrous.js';
import { getPreset, type ClassicXceptionPreset, type XceptionPresetName } from './presets.js';
import { requireInteger, requireName, requireOneOf, show } from './validation.js';

/**
 * Options that every flow ({@link entryFlow}, {@link middleFlow}, {@link exitFlow}) takes.
 *
 * @example
 * ```ts
 * const shared: FlowOptions = { preset: 'keras', blockActivation: 'post', namePrefix: 'rgb_' };
 * const features = exitFlow(middleFlow(entryFlow(input, shared), shared), shared);
 * ```
 * @category Blocks
 */
export interface FlowOptions {
  /**
   * The preset whose widths, block style and stem padding fill the options
   * left out. @defaultValue `'keras'`
   */
  preset?: XceptionPresetName;
  /**
   * Activation placement of the flow's separable blocks (block 14 of the
   * exit flow is always post-activation). @defaultValue the preset's
   */
  blockActivation?: 'pre' | 'post';
  /** Prepended to every layer name, e.g. `'encoder_'`. @defaultValue `''` */
  namePrefix?: string;
  /**
   * The largest reduction the network may reach (DeepLab's output stride):
   * once reached, later units run at stride 1 with dilated convolutions.
   * @defaultValue `32` (no dilation)
   */
  outputStride?: OutputStride;
  /**
   * The nominal reduction of the flow's input (the product of all strides
   * before it, ignoring `outputStride`), used to place strides and dilation
   * rates. @defaultValue the flow's place in Xception: 1 (entry), 16 (middle, exit)
   */
  inputReduction?: number;
  /**
   * Momentum of the flow's BatchNormalization moving statistics (Keras'
   * `momentum`: `moving = momentum · moving + (1 - momentum) · batch`), in
   * [0, 1). @defaultValue `0.99` (Keras'), or the enclosing model's
   */
  batchNormMomentum?: number;
}

/** Flow options resolved against their preset. @internal */
export interface ResolvedFlowBase {
  preset: ClassicXceptionPreset;
  blockActivation: 'pre' | 'post';
  prefix: string;
  outputStride: OutputStride;
  inputReduction: number;
  /** `undefined`: the enclosing build's momentum (Keras' 0.99 at the top). */
  batchNormMomentum: number | undefined;
}

/** The output strides a model can be built for. @internal */
export const OUTPUT_STRIDES: readonly OutputStride[] = [8, 16, 32];

/** Resolves the options common to all flows. @internal */
export function resolveFlowBase(
  what: string,
  options: FlowOptions | undefined,
  defaultInputReduction: number,
): ResolvedFlowBase {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new XceptionConfigError(`${what} options must be an object or undefined; got ${show(options)}.`);
  }
  const preset = getPreset(options?.preset);
  if (preset.family !== 'classic') {
    throw new XceptionConfigError(
      `${what} builds the classic Xception flows; preset '${preset.name}' is ${preset.family === 'mini' ? 'a mini-Xception' : 'an aligned Xception'}, ` +
        'built whole by createXception() or createXceptionBackbone().',
    );
  }
  return {
    outputStride: requireOneOf(`${what}: outputStride`, options?.outputStride ?? 32, OUTPUT_STRIDES),
    inputReduction: requireInteger(`${what}: inputReduction`, options?.inputReduction ?? defaultInputReduction, 1),
    preset,
    blockActivation: requireOneOf(
      `${what}: blockActivation`,
      options?.blockActivation ?? preset.blockActivation,
      ['pre', 'post'] as const,
    ),
    prefix: requireName(`${what}: namePrefix`, options?.namePrefix ?? '', true),
    batchNormMomentum:
      options?.batchNormMomentum === undefined ? undefined : requireMomentum(`${what}: batchNormMomentum`, options.batchNormMomentum),
  };
}

/** Requires a BatchNormalization momentum, a number in [0, 1). @internal */
export function requireMomentum(what: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new XceptionConfigError(`${what} must be a number in [0, 1) (Keras' default is 0.99); got ${show(value)}.`);
  }
  return value;
}
