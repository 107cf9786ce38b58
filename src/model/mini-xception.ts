import { layers, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { track } from './build-scope.js';
import { add, batchNorm, conv2d, globalPool, maxPool, relu } from './layers.js';
import type { MiniXceptionPreset } from './presets.js';
import { separableBlock } from './separable-block.js';
import type { FeatureTap } from './xception-trunk.js';

/**
 * Builds the feature extractor of a mini-Xception preset (oarriaga's
 * `tiny_XCEPTION`, `mini_XCEPTION`, `big_XCEPTION`) in Keras' layer order, so
 * that a Keras file of the same model loads by order: the 'valid' stem
 * (block 1), then one module per entry of `moduleFilters` (blocks 2, 3, …).
 * Names follow Keras Applications' scheme (`big_XCEPTION` uses it for the
 * layers it names): the ReLU before separable convolution k of a block is
 * `block<n>_sepconv<k>_act`. @internal
 */
export function miniXception(image: SymbolicTensor, preset: MiniXceptionPreset): { output: SymbolicTensor; taps: FeatureTap[] } {
  const [filters1, filters2] = preset.stemFilters;
  const [stride1, stride2] = preset.stemStrides;
  let x = conv2d(image, { filters: filters1, kernelSize: 3, strides: stride1, padding: 'valid', name: 'block1_conv1' });
  x = relu(batchNorm(x, 'block1_conv1_bn'), 'block1_conv1_act');
  x = conv2d(x, { filters: filters2, kernelSize: 3, strides: stride2, padding: 'valid', name: 'block1_conv2' });
  x = relu(batchNorm(x, 'block1_conv2_bn'), 'block1_conv2_act');

  let reduction = stride1 * stride2;
  const taps: FeatureTap[] = [{ name: 'block1_conv2_act', reduction, channels: filters2 }];
  preset.moduleFilters.forEach((filters, index) => {
    const block = `block${index + 2}`;
    // As in cnn.py: the shortcut is created first, then the main path.
    let residual = conv2d(x, { filters, kernelSize: 1, strides: 2, padding: 'same', name: `${block}_residual_conv` });
    residual = batchNorm(residual, `${block}_residual_bn`);
    const leading = preset.moduleLeadingRelu && index > 0 ? 'pre' : 'none';
    let y = separableBlock(x, { filters, activation: leading, name: `${block}_sepconv1` });
    y = separableBlock(y, { filters, activation: 'pre', name: `${block}_sepconv2` });
    y = maxPool(y, 2, `${block}_pool`);
    x = add([y, residual], `${block}_add`);
    reduction *= 2;
    taps.push({ name: `${block}_add`, reduction, channels: filters });
  });
  return { output: x, taps };
}

/**
 * The mini-Xception classifier: a 3×3 'same' Conv2D with bias to
 * `numClasses` channels (`top_conv`), global average pooling (`avg_pool`) and
 * the activation (`predictions`). @internal
 */
export function miniXceptionTop(x: SymbolicTensor, numClasses: number, activation: 'softmax' | 'linear'): SymbolicTensor {
  let y = track(layers.conv2d({ filters: numClasses, kernelSize: 3, padding: 'same', useBias: true, name: 'top_conv' })).apply(x) as SymbolicTensor;
  y = globalPool(y, 'avg', 'avg_pool');
  return track(layers.activation({ activation, name: 'predictions' })).apply(y) as SymbolicTensor;
}
