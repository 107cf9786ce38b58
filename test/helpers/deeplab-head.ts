// The DeepLabv3+-style model of docs/guides/segmentation-backbone.md, kept here
// so that the guide's code is built and run by test/deeplab-head.test.ts.
import * as tf from '@tensorflow/tfjs';
import { createXceptionBackbone, separableBlock } from '../../src/index.js';

export function createDeepLab(size: number, numClasses: number): tf.LayersModel {
  const { model: backbone } = createXceptionBackbone({
    preset: 'xception65',
    outputStride: 16,
    outIndices: [1, 4], // reduction 4 (256 channels) and 16 (2048 channels)
    inputShape: [size, size, 3],
  });
  const image = backbone.inputs[0]!;
  const [lowLevel, high] = backbone.outputs as [tf.SymbolicTensor, tf.SymbolicTensor];
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor;
  const convBnRelu = (x: tf.SymbolicTensor, filters: number, name: string) => {
    const y = apply(tf.layers.conv2d({ filters, kernelSize: 1, useBias: false, name }), x);
    return apply(tf.layers.reLU({ name: `${name}_act` }), apply(tf.layers.batchNormalization({ name: `${name}_bn` }), y));
  };

  // ASPP at output stride 16: a 1×1 branch, three atrous separable branches
  // (rates 6, 12, 18; trainable in tfjs through xception-ts' atrous layers),
  // and image pooling.
  const branches = [
    convBnRelu(high, 256, 'aspp0'),
    ...[6, 12, 18].map((rate, i) => separableBlock(high, { filters: 256, dilationRate: rate, name: `aspp${i + 1}` })),
  ];
  const side = size / 16;
  let pooled = apply(tf.layers.globalAveragePooling2d({ name: 'aspp_pool' }), high);
  pooled = apply(tf.layers.reshape({ targetShape: [1, 1, 2048], name: 'aspp_pool_reshape' }), pooled);
  pooled = convBnRelu(pooled, 256, 'aspp_pool_conv');
  branches.push(apply(tf.layers.upSampling2d({ size: [side, side], name: 'aspp_pool_upsample' }), pooled));
  let x = convBnRelu(apply(tf.layers.concatenate({ name: 'aspp_concat' }), branches), 256, 'aspp_projection');

  // Decoder: upsample ×4, join the low-level features, refine, classify, upsample ×4.
  x = apply(tf.layers.upSampling2d({ size: [4, 4], interpolation: 'bilinear', name: 'decoder_upsample' }), x);
  const low = convBnRelu(lowLevel, 48, 'decoder_low_level');
  x = apply(tf.layers.concatenate({ name: 'decoder_concat' }), [x, low]);
  x = separableBlock(x, { filters: 256, name: 'decoder_conv1' });
  x = separableBlock(x, { filters: 256, name: 'decoder_conv2' });
  x = apply(tf.layers.conv2d({ filters: numClasses, kernelSize: 1, name: 'logits' }), x);
  x = apply(tf.layers.upSampling2d({ size: [4, 4], interpolation: 'bilinear', name: 'logits_upsample' }), x);
  return tf.model({ inputs: image, outputs: x, name: 'deeplab_xception65' });
}
