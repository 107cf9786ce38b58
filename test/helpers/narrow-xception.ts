// Narrow versions of the keras, postact and xception41 graphs (the same layers, the same layer
// kinds and names, a few channels each) for runs on a software GPU, where the full widths take minutes.
import * as tf from '@tensorflow/tfjs';
import { entryFlow, exitFlow, getPreset, middleFlow, type AlignedXceptionPreset } from '../../src/index.js';
import { alignedXception } from '../../src/model/aligned-xception.js';

/** The presets a narrow model copies. */
export type NarrowPreset = 'keras' | 'postact' | 'xception41';

/**
 * A classifier with `preset`'s layout at a few channels per layer: stem, entry flow (three
 * downsampling units with max pools or strided separable units), one middle unit, exit flow,
 * global average pooling and a linear dense layer. `size` is the input's height and width.
 */
export function narrowXception(preset: NarrowPreset, { size = 32, classes = 3, channels = 3 } = {}): tf.LayersModel {
  const input = tf.input({ shape: [size, size, channels], name: 'input' });
  let features: tf.SymbolicTensor;
  if (preset === 'xception41') {
    const full = getPreset('xception41') as AlignedXceptionPreset;
    const unit = (filters: [number, number, number], stride: 1 | 2, skip = true, startWithRelu = true) => ({ filters, stride, skip, startWithRelu });
    const narrow: AlignedXceptionPreset = {
      ...full,
      stemFilters: [4, 8],
      units: [unit([8, 8, 8], 2), unit([12, 12, 12], 2), unit([16, 16, 16], 2), unit([16, 16, 16], 1), unit([16, 20, 20], 2), unit([24, 24, 32], 1, false, false)],
    };
    features = alignedXception(input, narrow, 32).output;
  } else {
    const post = preset === 'postact';
    const entry = entryFlow(input, { stemFilters: [4, 8], filters: [8, 12, 16], blockActivation: post ? 'post' : 'pre', stemPadding: post ? 'same' : 'valid' });
    const middle = middleFlow(entry, { filters: 16, repeats: 1, blockActivation: post ? 'post' : 'pre' });
    features = exitFlow(middle, { filters: [16, 20], convFilters: [24, 32], firstBlock: 6, blockActivation: post ? 'post' : 'pre' });
  }
  const pooled = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(features) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: classes, name: 'predictions' }).apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: `narrow_${preset}` });
}
