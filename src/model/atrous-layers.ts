import {
  add,
  conv2d,
  reshape,
  serialization,
  tidy,
  type Tensor,
  type Tensor4D,
} from '@tensorflow/tfjs-core';
import { initializers, layers, type LayerVariable } from '@tensorflow/tfjs-layers';
import { atrousDepthwiseConv2d } from './atrous.js';

type Shape = (number | null)[];

/** Options of the two atrous layers. @internal */
export interface AtrousConvArgs {
  /** Output channels of the pointwise convolution, or `null` for a depthwise-only layer. */
  filters: number | null;
  kernelSize: [number, number];
  dilationRate: [number, number];
  useBias: boolean;
  name: string;
  trainable?: boolean;
}

/**
 * A dilated 'same' depthwise convolution (optionally followed by a 1×1
 * pointwise convolution and a bias) that TensorFlow.js can train: it runs
 * through space-to-batch (see {@link atrousDepthwiseConv2d}) instead of
 * `tf.depthwiseConv2d(…, dilations)`, whose gradient tfjs does not implement.
 *
 * Its weights have the names and shapes of Keras' `SeparableConv2D`
 * (`depthwise_kernel`, `pointwise_kernel`, `bias`) or `DepthwiseConv2D`
 * (`depthwise_kernel`, `bias`), so pretrained weights load into it unchanged.
 * @internal
 */
abstract class AtrousConv extends layers.Layer {
  protected readonly args: AtrousConvArgs;
  private depthwiseKernel?: LayerVariable;
  private pointwiseKernel?: LayerVariable;
  private bias?: LayerVariable;

  constructor(args: AtrousConvArgs) {
    super({ name: args.name, trainable: args.trainable ?? true });
    this.args = {
      filters: args.filters,
      kernelSize: args.kernelSize,
      dilationRate: args.dilationRate,
      useBias: args.useBias,
      name: args.name,
    };
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const channels = shape[3]!;
    const { filters, kernelSize, useBias } = this.args;
    this.depthwiseKernel = this.addWeight('depthwise_kernel', [...kernelSize, channels, 1], 'float32', initializers.glorotUniform({}));
    if (filters !== null) {
      this.pointwiseKernel = this.addWeight('pointwise_kernel', [1, 1, channels, filters], 'float32', initializers.glorotUniform({}));
    }
    if (useBias) this.bias = this.addWeight('bias', [filters ?? channels], 'float32', initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    return [shape[0]!, shape[1]!, shape[2]!, this.args.filters ?? shape[3]!];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as Tensor4D;
      let y = atrousDepthwiseConv2d(x, this.depthwiseKernel!.read() as Tensor4D, this.args.dilationRate);
      if (this.pointwiseKernel) y = conv2d(y, this.pointwiseKernel.read() as Tensor4D, 1, 'valid');
      if (this.bias) y = add(y, reshape(this.bias.read(), [1, 1, 1, -1]));
      return y;
    });
  }

  override getConfig(): serialization.ConfigDict {
    const { filters, kernelSize, dilationRate, useBias } = this.args;
    return { ...super.getConfig(), filters, kernelSize, dilationRate, useBias };
  }
}

/**
 * A `SeparableConv2D` with dilation that trains in TensorFlow.js. Saved models
 * that contain it load after {@link registerXceptionLayers}. @internal
 */
export class AtrousSeparableConv2D extends AtrousConv {
  /** The class name saved in model topologies. */
  static className = 'XceptionAtrousSeparableConv2D';
}

/**
 * A `DepthwiseConv2D` with dilation that trains in TensorFlow.js. Saved models
 * that contain it load after {@link registerXceptionLayers}. @internal
 */
export class AtrousDepthwiseConv2D extends AtrousConv {
  /** The class name saved in model topologies. */
  static className = 'XceptionAtrousDepthwiseConv2D';

  constructor(args: Omit<AtrousConvArgs, 'filters'>) {
    super({ ...args, filters: null });
  }
}

/**
 * The Keras class whose weights a layer holds: our atrous layers stand for
 * SeparableConv2D / DepthwiseConv2D. @internal
 */
export function kerasClassName(className: string): string {
  return className.replace(/^XceptionAtrous/, '');
}

let registered = false;

/**
 * Registers xception-ts' custom layer classes with TensorFlow.js'
 * serialization, so that `tf.loadLayersModel` can load saved models built with
 * `outputStride` 8 or 16 (their dilated convolutions use these classes).
 * Builders call it themselves when they create such a layer; call it before
 * loading a saved dilated model in a fresh process. Safe to call repeatedly.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { registerXceptionLayers } from 'xception-ts';
 *
 * registerXceptionLayers();
 * const model = await tf.loadLayersModel('https://example.com/deeplab-xception/model.json');
 * ```
 * @category Backbone
 */
export function registerXceptionLayers(): void {
  if (registered) return;
  serialization.registerClass(AtrousSeparableConv2D);
  serialization.registerClass(AtrousDepthwiseConv2D);
  registered = true;
}
