// The model: an Xception preset (optionally with pretrained weights and a frozen backbone), or an
// Xception composed from the same public blocks for quick runs on a CPU: 'narrow' (1/8 of the
// widths) or 'small' (sized for 28–32 px images such as Fashion-MNIST's).
import * as tf from '@tensorflow/tfjs';
import { createXception, entryFlow, exitFlow, freezeBackbone, middleFlow, type XceptionPresetName } from 'xception-ts';

export interface ModelOptions {
  /** A preset name, 'narrow' or 'small' (see {@link COMPOSED_PRESETS}). */
  preset: XceptionPresetName | ComposedPreset;
  inputSize: number;
  /** Image channels (default 3; 1 for grayscale data such as Fashion-MNIST). */
  channels?: number;
  classes: number;
  /** 'imagenet', a Keras HDF5 file, or none (random initialisation). */
  weights?: string;
  /** Train only the classifier head (with `weights`). */
  freezeBackbone: boolean;
  /** BatchNormalization's momentum for its moving statistics (Keras' default: 0.99). */
  batchNormMomentum?: number;
}

/** The example's own models, composed from xception-ts' entryFlow, middleFlow and exitFlow. */
export const COMPOSED_PRESETS = {
  /** Entry, middle and exit flows with 1/8 of the widths and 2 middle blocks instead of 8. */
  narrow: { stemFilters: [8, 16], entry: [32, 64, 96], middle: { filters: 96, repeats: 2 }, exit: { filters: [96, 128], convFilters: [160, 256] } },
  /**
   * For 28–32 px images: two downsampling entry units instead of three (32 → 16 → 8 → 4, so the
   * middle flow sees 4×4 maps, not 2×2), four middle blocks of 256 filters, a narrower exit
   * flow: 2.0 M parameters, about a quarter of `postact`'s multiply-adds at 32×32.
   */
  small: { stemFilters: [32, 64], entry: [128, 256], middle: { filters: 256, repeats: 4 }, exit: { filters: [256, 384], convFilters: [512, 768] } },
} as const satisfies Record<string, { stemFilters: [number, number]; entry: number[]; middle: { filters: number; repeats: number }; exit: { filters: [number, number]; convFilters: [number, number] } }>;
export type ComposedPreset = keyof typeof COMPOSED_PRESETS;

function isComposed(preset: string): preset is ComposedPreset {
  return Object.hasOwn(COMPOSED_PRESETS, preset);
}

/** Builds the model: a backbone without its top, global average pooling, and a softmax head. */
export async function buildModel(options: ModelOptions): Promise<tf.LayersModel> {
  const { preset, inputSize, classes } = options;
  const inputShape: [number, number, number] = [inputSize, inputSize, options.channels ?? 3];
  let backbone: tf.LayersModel;
  if (isComposed(preset)) {
    if (options.weights) throw new Error(`--weights needs a real preset (e.g. keras), not '${preset}'.`);
    const spec = COMPOSED_PRESETS[preset];
    const input = tf.input({ shape: inputShape, name: 'input' });
    const { batchNormMomentum } = options;
    let x = entryFlow(input, { stemFilters: [...spec.stemFilters], filters: [...spec.entry], stemPadding: 'same', batchNormMomentum });
    x = middleFlow(x, { ...spec.middle, batchNormMomentum });
    x = exitFlow(x, { filters: [...spec.exit.filters], convFilters: [...spec.exit.convFilters], batchNormMomentum });
    backbone = tf.model({ inputs: input, outputs: x, name: `${preset}_xception` });
  } else {
    const common = { preset, includeTop: false, inputShape, allowSmallInput: inputSize < 71, batchNormMomentum: options.batchNormMomentum } as const;
    backbone = options.weights
      ? await createXception({ ...common, weights: options.weights === 'imagenet' ? 'imagenet' : options.weights })
      : createXception(common);
  }
  if (options.freezeBackbone && !options.weights) {
    throw new Error('--freeze-backbone needs --weights (a frozen random backbone learns nothing).');
  }
  const features = backbone.outputs[0]!;
  const pooled = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(features) as tf.SymbolicTensor;
  const probabilities = tf.layers.dense({ units: classes, activation: 'softmax', name: 'predictions' }).apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: backbone.inputs, outputs: probabilities, name: `${backbone.name}_classifier` });
  // Keras' rule: the frozen backbone's BatchNormalizations run in inference mode, also inside fit.
  if (options.freezeBackbone) freezeBackbone(model);
  return model;
}
