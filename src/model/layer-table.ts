import type { LayersModel } from '@tensorflow/tfjs-layers';

/**
 * One row of {@link layerTable}: a layer as Keras' `model.summary()` would list it.
 *
 * @example
 * ```ts
 * const row: LayerRow = layerTable(createXception())[7];
 * // { index: 7, name: 'block2_sepconv1', className: 'SeparableConv2D',
 * //   outputShape: [null, 147, 147, 128], params: 8768,
 * //   weights: ['depthwise_kernel[3,3,64,1]', 'pointwise_kernel[1,1,64,128]'] }
 * ```
 * @category Model
 */
export interface LayerRow {
  /** Position in `model.layers` (0-based). */
  index: number;
  /** The layer's name, e.g. `'block2_sepconv1'`. */
  name: string;
  /** The layer's class, e.g. `'SeparableConv2D'`. */
  className: string;
  /** Output shape, batch dimension `null`. */
  outputShape: (number | null)[];
  /** Each weight as `name[shape]`, e.g. `'depthwise_kernel[3,3,64,1]'`, in tfjs order. */
  weights: string[];
  /** Number of scalars in the layer's weights, trainable or not. */
  params: number;
}

/**
 * Parameter counts of a model, as Keras' `model.summary()` reports them.
 *
 * @example
 * ```ts
 * const { total, trainable, nonTrainable }: ParameterCounts = countParameters(model);
 * ```
 * @category Model
 */
export interface ParameterCounts {
  /** Every weight's scalars: trainable + non-trainable. */
  total: number;
  /** Scalars of the weights an optimizer updates. */
  trainable: number;
  /** Scalars of the other weights (BatchNormalization's moving mean and variance). */
  nonTrainable: number;
}

/**
 * Lists a model's layers with their class, output shape and weight shapes:
 * the table to hold next to Keras' when porting a model or weights.
 *
 * @param model - Any single-output `tf.LayersModel`.
 * @returns One row per layer, in `model.layers` order.
 *
 * @example
 * ```ts
 * import { createXception, layerTable } from 'xception-ts';
 *
 * const rows = layerTable(createXception());
 * rows[7]; // { index: 7, name: 'block2_sepconv1', className: 'SeparableConv2D', ... }
 * ```
 * @category Model
 */
export function layerTable(model: LayersModel): LayerRow[] {
  return model.layers.map((layer, index) => ({
    index,
    name: layer.name,
    className: layer.getClassName(),
    outputShape: layer.outputShape as (number | null)[],
    weights: layer.weights.map((w) => `${shortName(w.originalName)}[${w.shape.join(',')}]`),
    params: layer.countParams(),
  }));
}

/**
 * Counts a model's parameters: total, trainable and non-trainable.
 *
 * @param model - Any `tf.LayersModel`.
 * @returns The three counts.
 *
 * @example
 * ```ts
 * import { countParameters, createXception } from 'xception-ts';
 *
 * countParameters(createXception());
 * // { total: 22910480, trainable: 22855952, nonTrainable: 54528 }
 * ```
 * @category Model
 */
export function countParameters(model: LayersModel): ParameterCounts {
  const size = (shape: (number | null)[]) => shape.reduce<number>((n, d) => n * (d ?? 0), 1);
  const trainable = model.trainableWeights.reduce((n, w) => n + size(w.shape), 0);
  const nonTrainable = model.nonTrainableWeights.reduce((n, w) => n + size(w.shape), 0);
  return { total: trainable + nonTrainable, trainable, nonTrainable };
}

/** `block1_conv1/kernel` → `kernel`. */
function shortName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}
