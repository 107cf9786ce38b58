// The model: an Xception preset (optionally with pretrained weights and a frozen backbone), or a
// narrow Xception composed from the same public blocks, for quick runs on a CPU.
import * as tf from '@tensorflow/tfjs';
import { createXception, entryFlow, exitFlow, freezeBackbone, middleFlow, type XceptionPresetName } from 'xception-ts';

export interface ModelOptions {
  /** A preset name, or 'narrow': Xception's structure at a fraction of its width and depth. */
  preset: XceptionPresetName | 'narrow';
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

/** Builds the model: a backbone without its top, global average pooling, and a softmax head. */
export async function buildModel(options: ModelOptions): Promise<tf.LayersModel> {
  const { preset, inputSize, classes } = options;
  const inputShape: [number, number, number] = [inputSize, inputSize, options.channels ?? 3];
  let backbone: tf.LayersModel;
  if (preset === 'narrow') {
    if (options.weights) throw new Error("--weights needs a real preset (e.g. keras), not 'narrow'.");
    // Entry, middle and exit flows with 1/8 of the widths and 2 middle blocks instead of 8.
    const input = tf.input({ shape: inputShape, name: 'input' });
    const { batchNormMomentum } = options;
    let x = entryFlow(input, { stemFilters: [8, 16], filters: [32, 64, 96], stemPadding: 'same', batchNormMomentum });
    x = middleFlow(x, { filters: 96, repeats: 2, batchNormMomentum });
    x = exitFlow(x, { filters: [96, 128], convFilters: [160, 256], batchNormMomentum });
    backbone = tf.model({ inputs: input, outputs: x, name: 'narrow_xception' });
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
