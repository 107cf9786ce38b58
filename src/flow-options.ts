import { XceptionConfigError } from './errors.js';
import { getPreset, type XceptionPreset, type XceptionPresetName } from './presets.js';
import { requireName, requireOneOf, show } from './validation.js';

/**
 * Options that every flow ({@link entryFlow}, {@link middleFlow}, {@link exitFlow}) takes.
 *
 * @example
 * ```ts
 * const shared: FlowOptions = { preset: 'keras', blockActivation: 'post', namePrefix: 'rgb_' };
 * const features = exitFlow(middleFlow(entryFlow(input, shared), shared), shared);
 * ```
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
}

/** Flow options resolved against their preset. @internal */
export interface ResolvedFlowBase {
  preset: XceptionPreset;
  blockActivation: 'pre' | 'post';
  prefix: string;
}

/** Resolves the options common to all flows. @internal */
export function resolveFlowBase(what: string, options: FlowOptions | undefined): ResolvedFlowBase {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new XceptionConfigError(`${what} options must be an object or undefined; got ${show(options)}.`);
  }
  const preset = getPreset(options?.preset);
  return {
    preset,
    blockActivation: requireOneOf(
      `${what}: blockActivation`,
      options?.blockActivation ?? preset.blockActivation,
      ['pre', 'post'] as const,
    ),
    prefix: requireName(`${what}: namePrefix`, options?.namePrefix ?? '', true),
  };
}
