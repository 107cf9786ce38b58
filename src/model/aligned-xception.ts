import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { atrousStep, type AtrousStep, type OutputStride } from './atrous.js';
import { add, batchNorm, conv2d, depthwiseConv2d, relu } from './layers.js';
import type { AlignedUnit, AlignedXceptionPreset } from './presets.js';
import type { FeatureTap } from './xception-trunk.js';

/**
 * Builds the feature extractor of an aligned Xception (DeepLab; timm's
 * `XceptionAligned`): a 'same' stem (block 1), then one unit per preset row
 * (blocks 2, 3, …), with strides and dilation rates from the output-stride
 * rule. Returns the last feature map and the multi-scale taps: the ReLU before
 * the strided convolution of each downsampling unit (timm's `stack.act3`) and
 * the final output. @internal
 */
export function alignedXception(
  x: SymbolicTensor,
  preset: AlignedXceptionPreset,
  outputStride: OutputStride,
): { output: SymbolicTensor; taps: FeatureTap[] } {
  const [stem0, stem1] = preset.stemFilters;
  let y = conv2d(x, { filters: stem0, kernelSize: 3, strides: 2, padding: 'same', name: 'block1_conv1' });
  y = relu(batchNorm(y, 'block1_conv1_bn'), 'block1_conv1_act');
  y = conv2d(y, { filters: stem1, kernelSize: 3, strides: 1, padding: 'same', name: 'block1_conv2' });
  y = relu(batchNorm(y, 'block1_conv2_bn'), 'block1_conv2_act');

  const taps: FeatureTap[] = [];
  let reduction = 2;
  let channels = stem1;
  preset.units.forEach((unit, index) => {
    const block = `block${index + 2}`;
    const step = atrousStep(reduction, unit.stride, outputStride);
    if (unit.stride > 1) {
      taps.push({ name: `${block}_sepconv3_act`, reduction: Math.min(reduction, outputStride), channels: unit.filters[1] });
    }
    y = alignedUnit(y, block, unit, channels, step);
    reduction = step.reductionAfter;
    channels = unit.filters[2];
  });
  const last = y.sourceLayer.name;
  taps.push({ name: last, reduction: Math.min(reduction, outputStride), channels });
  return { output: y, taps };
}

/**
 * One aligned unit: three separable convolutions (depthwise → BN → pointwise →
 * BN), each after a ReLU (`startWithRelu`) or with ReLUs after both BNs, the
 * stride on the third; plus the shortcut. As in DeepLab, the shortcut is a
 * 1×1 convolution + BN when the unit changes the channels or has a nominal
 * stride above 1, whether or not the output stride removed that stride (timm
 * drops it then; the parameter count does not depend on the output stride here).
 */
function alignedUnit(
  x: SymbolicTensor,
  block: string,
  unit: AlignedUnit,
  inChannels: number,
  step: AtrousStep,
): SymbolicTensor {
  const outChannels = unit.filters[2];
  let shortcut = x;
  if (unit.skip && (outChannels !== inChannels || unit.stride !== 1)) {
    shortcut = conv2d(x, { filters: outChannels, kernelSize: 1, strides: step.stride, padding: 'same', name: `${block}_residual_conv` });
    shortcut = batchNorm(shortcut, `${block}_residual_bn`);
  }
  let y = x;
  unit.filters.forEach((filters, index) => {
    const name = `${block}_sepconv${index + 1}`;
    if (unit.startWithRelu) y = relu(y, `${name}_act`);
    y = depthwiseConv2d(y, { kernelSize: 3, strides: index === 2 ? step.stride : 1, dilationRate: step.rate, name: `${name}_depthwise` });
    y = batchNorm(y, `${name}_depthwise_bn`);
    if (!unit.startWithRelu) y = relu(y, `${name}_depthwise_act`);
    y = conv2d(y, { filters, kernelSize: 1, strides: 1, padding: 'same', name: `${name}_pointwise` });
    y = batchNorm(y, `${name}_pointwise_bn`);
    if (!unit.startWithRelu) y = relu(y, `${name}_pointwise_act`);
  });
  return unit.skip ? add([y, shortcut], `${block}_add`) : y;
}
