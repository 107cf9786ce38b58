import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { atrousStep, type AtrousStep, type OutputStride } from './atrous.js';
import { add, batchNorm, conv2d, depthwiseConv2d, relu, zeroPad } from './layers.js';
import type { AlignedUnit, AlignedXceptionPreset } from './presets.js';
import type { FeatureTap } from './xception-trunk.js';

/**
 * Builds the feature extractor of an aligned Xception (DeepLab; timm's
 * `XceptionAligned`): a 3×3 stem (block 1), then one unit per preset row
 * (blocks 2, 3, …), with strides and dilation rates from the output-stride
 * rule. Stride-2 3×3 convolutions are padded symmetrically (`fixed_padding`).
 * Returns the last feature map and the multi-scale taps: the input of the
 * strided convolution of each downsampling unit (timm's `stack.act3`, or
 * `stack.conv2` for the pre-activation variants) and the last unit's output. @internal
 */
export function alignedXception(
  x: SymbolicTensor,
  preset: AlignedXceptionPreset,
  outputStride: OutputStride,
): { output: SymbolicTensor; taps: FeatureTap[] } {
  const [stem0, stem1] = preset.stemFilters;
  const epsilon = preset.batchNormEpsilon;
  let y = zeroPad(x, 1, 'block1_conv1_pad');
  y = conv2d(y, { filters: stem0, kernelSize: 3, strides: 2, padding: 'valid', name: 'block1_conv1' });
  y = relu(batchNorm(y, 'block1_conv1_bn', epsilon), 'block1_conv1_act');
  y = conv2d(y, { filters: stem1, kernelSize: 3, strides: 1, padding: 'same', name: 'block1_conv2' });
  if (!preset.preactivation) y = relu(batchNorm(y, 'block1_conv2_bn', epsilon), 'block1_conv2_act');

  const taps: FeatureTap[] = [];
  let reduction = 2;
  let channels = stem1;
  preset.units.forEach((unit, index) => {
    const block = `block${index + 2}`;
    const step = atrousStep(reduction, unit.stride, outputStride);
    if (unit.stride > 1) {
      const tap = preset.preactivation ? `${block}_sepconv2_pointwise` : `${block}_sepconv3_act`;
      taps.push({ name: tap, reduction: Math.min(reduction, outputStride), channels: unit.filters[1] });
    }
    y = preset.preactivation
      ? preactivationUnit(y, block, unit, channels, step, epsilon)
      : alignedUnit(y, block, unit, channels, step, epsilon);
    reduction = step.reductionAfter;
    channels = unit.filters[2];
  });
  const last = y.sourceLayer.name;
  taps.push({ name: last, reduction: Math.min(reduction, outputStride), channels });
  const output = preset.preactivation ? relu(y, 'final_act') : y;
  return { output, taps };
}

/**
 * The depthwise 3×3 convolution of a unit: at stride 2 after a symmetric
 * one-pixel `ZeroPadding2D` and 'valid' (DeepLab's `fixed_padding`), else
 * 'same' (symmetric at stride 1, dilated or not).
 */
function unitDepthwise(y: SymbolicTensor, name: string, strides: number, rate: number): SymbolicTensor {
  if (strides === 1) return depthwiseConv2d(y, { kernelSize: 3, strides, dilationRate: rate, name });
  return depthwiseConv2d(zeroPad(y, 1, `${name}_pad`), { kernelSize: 3, strides, dilationRate: rate, name, padding: 'valid' });
}

/**
 * One pre-activation unit (timm's `PreXceptionModule`): BN + ReLU on the
 * input, then three separable convolutions (depthwise → pointwise, the 2nd and
 * 3rd after a BN + ReLU), the stride on the third; the shortcut (a bare 1×1
 * convolution where the shape changes, else the identity) takes the
 * normalized input.
 */
function preactivationUnit(
  x: SymbolicTensor,
  block: string,
  unit: AlignedUnit,
  inChannels: number,
  step: AtrousStep,
  epsilon: number,
): SymbolicTensor {
  const outChannels = unit.filters[2];
  const normed = relu(batchNorm(x, `${block}_preact_bn`, epsilon), `${block}_preact_act`);
  let shortcut = normed;
  if (unit.skip && (outChannels !== inChannels || unit.stride !== 1)) {
    shortcut = conv2d(normed, { filters: outChannels, kernelSize: 1, strides: step.stride, padding: 'same', name: `${block}_residual_conv` });
  }
  let y = normed;
  unit.filters.forEach((filters, index) => {
    const name = `${block}_sepconv${index + 1}`;
    if (index > 0) y = relu(batchNorm(y, `${name}_bn`, epsilon), `${name}_act`);
    y = unitDepthwise(y, `${name}_depthwise`, index === 2 ? step.stride : 1, step.rate);
    y = conv2d(y, { filters, kernelSize: 1, strides: 1, padding: 'same', name: `${name}_pointwise` });
  });
  return unit.skip ? add([y, shortcut], `${block}_add`) : y;
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
  epsilon: number,
): SymbolicTensor {
  const outChannels = unit.filters[2];
  let shortcut = x;
  if (unit.skip && (outChannels !== inChannels || unit.stride !== 1)) {
    shortcut = conv2d(x, { filters: outChannels, kernelSize: 1, strides: step.stride, padding: 'same', name: `${block}_residual_conv` });
    shortcut = batchNorm(shortcut, `${block}_residual_bn`, epsilon);
  }
  let y = x;
  unit.filters.forEach((filters, index) => {
    const name = `${block}_sepconv${index + 1}`;
    if (unit.startWithRelu) y = relu(y, `${name}_act`);
    y = unitDepthwise(y, `${name}_depthwise`, index === 2 ? step.stride : 1, step.rate);
    y = batchNorm(y, `${name}_depthwise_bn`, epsilon);
    if (!unit.startWithRelu) y = relu(y, `${name}_depthwise_act`);
    y = conv2d(y, { filters, kernelSize: 1, strides: 1, padding: 'same', name: `${name}_pointwise` });
    y = batchNorm(y, `${name}_pointwise_bn`, epsilon);
    if (!unit.startWithRelu) y = relu(y, `${name}_pointwise_act`);
  });
  return unit.skip ? add([y, shortcut], `${block}_add`) : y;
}
