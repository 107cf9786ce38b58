import type { LayersModel, LayerVariable, SymbolicTensor } from '@tensorflow/tfjs-layers';
import { XceptionTrainingError } from '../../../errors.js';
import { kerasClassName } from '../../../model/atrous-layers.js';
import { batchNormInference, batchNormTraining } from './batch-norm.js';
import { conv2d, depthwiseConv2d, windowGeometry, type ConvFormulation } from './conv-gradients.js';
import { dense } from './dense.js';
import type { DifferentiableGraph, Value, Weight } from './differentiable-graph.js';
import { add, multiplyByMask, relu, transposeToNchw, zeroPad } from './elementwise.js';
import { globalPool, maxPool } from './pooling.js';
import type { StateEntry } from './training-graph.js';

/**
 * The forward pass of a model built from xception-ts' layers, written as ONNX
 * nodes on a {@link DifferentiableGraph} (NCHW inside; weights as graph inputs
 * in ONNX layouts), shared by the training and the evaluation graph. Internal.
 */

type Layer = LayersModel['layers'][number];
type Config = Record<string, unknown>;
type Layout = { perm?: number[]; reshape?: number[] };

/** What the forward pass asks of the graph builder. */
export interface ForwardContext {
  d: DifferentiableGraph;
  /** Training mode (batch statistics in unfrozen BN, dropout masks) or inference. */
  training: boolean;
  formulation: ConvFormulation;
  /** The graph input of a layer's weight, in the ONNX layout; registers its state entry. */
  weight(variable: LayerVariable, kind: 'parameter' | 'movingStatistic', shape: number[], toOnnx: Layout, fromOnnx: Layout): Weight;
  /** The updated value of a moving statistic (training mode only). */
  movingUpdate(statistic: Weight, updated: string): void;
  /** The keep mask of a Dropout layer (training mode only), in NCHW or [N, C]. */
  dropoutMask(layer: Layer, rate: number, shape: number[]): string;
  /** Whether a layer is frozen (BN then runs in inference mode, as Keras 2+). */
  isFrozen(layer: Layer): boolean;
}

/** The layer classes the graph can differentiate (the atrous ones as their Keras base class). */
export const SUPPORTED_LAYERS = [
  'InputLayer', 'Conv2D', 'SeparableConv2D', 'DepthwiseConv2D', 'BatchNormalization', 'Activation', 'MaxPooling2D', 'Add',
  'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Dense', 'Dropout', 'ZeroPadding2D',
] as const;

const OIHW = { toOnnx: { perm: [3, 2, 0, 1] }, fromOnnx: { perm: [2, 3, 1, 0] } };
const DEPTHWISE = { toOnnx: { perm: [2, 3, 0, 1] }, fromOnnx: { perm: [2, 3, 0, 1] } };

/**
 * Writes the forward pass of `model` on the NHWC `images` input and returns
 * its logits [N, classes]: the output, or the value before a final softmax.
 */
export function writeForward(model: LayersModel, images: string, batchSize: number, ctx: ForwardContext, what: string): Value {
  const fail = (message: string) => new XceptionTrainingError(`${what}: ${message}`);
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw fail(`the model must have one input and one output; '${model.name}' has ${model.inputs.length} and ${model.outputs.length}.`);
  }
  const inputShape = model.inputs[0]!.shape;
  if (inputShape.length !== 4 || inputShape.slice(1).some((s) => s === null)) {
    throw fail(`the model's input must be [batch, height, width, channels] with a known size; '${model.name}' has [${inputShape.map(String).join(', ')}]. Build it with a fixed inputShape.`);
  }
  const outputShape = model.outputs[0]!.shape;
  if (outputShape.length !== 2) {
    throw fail(`the model's output must be [batch, classes] logits or probabilities; '${model.name}' outputs [${outputShape.map(String).join(', ')}].`);
  }
  const values = new Map<string, Value>();
  const inputLayer = model.inputs[0]!.sourceLayer;
  values.set(inputLayer.name, transposeToNchw(ctx.d, images, [batchSize, ...(inputShape.slice(1) as number[])], `${inputLayer.name}/nchw`));
  const outputLayer = model.outputs[0]!.sourceLayer;
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    if (layer.inboundNodes.length !== 1) {
      throw fail(`layer '${layer.name}' (${layer.getClassName()}) is used ${layer.inboundNodes.length} times; the graph takes layers applied once.`);
    }
    const sources = ([] as SymbolicTensor[]).concat(layer.input as SymbolicTensor | SymbolicTensor[]).map((t) => values.get(t.sourceLayer.name)!);
    values.set(layer.name, translateLayer(ctx, layer, sources, layer === outputLayer, fail));
  }
  return values.get(outputLayer.name)!;
}

function translateLayer(ctx: ForwardContext, layer: Layer, sources: Value[], isOutput: boolean, fail: (m: string) => Error): Value {
  const { d } = ctx;
  const className = layer.getClassName();
  const config = layer.getConfig() as Config;
  const kind = kerasClassName(className);
  const name = layer.name;
  const [x] = sources as [Value];
  const cannot = (what: string) =>
    fail(`cannot differentiate layer '${name}' (${className}): ${what}. The training graph knows ${SUPPORTED_LAYERS.join(', ')} as xception-ts builds them.`);
  const variable = (suffix: string): LayerVariable | undefined => layer.weights.find((w) => w.originalName.split('/').pop() === suffix);
  const param = (suffix: string, shape: number[], layout = { toOnnx: {}, fromOnnx: {} }): Weight | null => {
    const v = variable(suffix);
    return v ? ctx.weight(v, 'parameter', shape, layout.toOnnx, layout.fromOnnx) : null;
  };
  const activate = (value: Value, activation: unknown): Value => {
    if (activation === undefined || activation === null || activation === 'linear') return value;
    if (activation === 'relu') return relu(d, value, `${name}/relu`, ctx.formulation.reluGradient);
    if (activation === 'softmax' && isOutput && value.shape.length === 2) return value; // the logits: the loss applies the softmax
    throw cannot(`activation '${String(activation)}'${activation === 'softmax' ? ' before the output' : ''}`);
  };
  const image = () => {
    if (x.shape.length !== 4) throw cannot('its input is not an image');
    if (config['dataFormat'] !== undefined && config['dataFormat'] !== 'channelsLast') throw cannot(`dataFormat '${String(config['dataFormat'])}'`);
  };
  const [, channels, height, width] = x.shape as [number, number, number, number];

  switch (kind) {
    case 'Conv2D':
    case 'DepthwiseConv2D':
    case 'SeparableConv2D': {
      image();
      const kernelSize = pair(config['kernelSize'] ?? [1, 1]);
      const strides = pair(config['strides'] ?? [1, 1]);
      const dilations = pair(config['dilationRate'] ?? [1, 1]);
      const padding = (config['padding'] as string | undefined) ?? 'same';
      if (padding !== 'same' && padding !== 'valid') throw cannot(`padding '${padding}'`);
      if ((config['depthMultiplier'] ?? 1) !== 1) throw cannot(`depthMultiplier ${String(config['depthMultiplier'])} (only 1)`);
      if ((config['groups'] ?? 1) !== 1) throw cannot(`groups ${String(config['groups'])}`);
      const geometry = windowGeometry(height, width, kernelSize, strides, dilations, padding);
      let value: Value;
      if (kind === 'Conv2D') {
        const filters = config['filters'] as number;
        const kernel = param('kernel', [filters, channels, ...kernelSize], OIHW)!;
        value = conv2d(d, x, kernel, param('bias', [filters]), geometry, name);
      } else {
        const depthwise = param('depthwise_kernel', [channels, 1, ...kernelSize], DEPTHWISE)!;
        if (kind === 'DepthwiseConv2D') {
          value = depthwiseConv2d(d, x, depthwise, param('bias', [channels]), geometry, name, ctx.formulation);
        } else {
          const filters = config['filters'] as number;
          const mid = depthwiseConv2d(d, x, depthwise, null, geometry, `${name}/depthwise`, ctx.formulation);
          const pointwise = param('pointwise_kernel', [filters, channels, 1, 1], OIHW)!;
          value = conv2d(d, mid, pointwise, param('bias', [filters]), windowGeometry(mid.shape[2]!, mid.shape[3]!, [1, 1], [1, 1], [1, 1], 'valid'), name, ctx.formulation.pointwise);
        }
      }
      return activate(value, config['activation']);
    }
    case 'BatchNormalization': {
      const axis = config['axis'];
      const channelAxis = x.shape.length - 1;
      if (axis !== -1 && axis !== channelAxis && !(Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === channelAxis))) {
        throw cannot(`axis ${JSON.stringify(axis)} (only the channel axis)`);
      }
      const c = x.shape[1]!;
      const statistic = (suffix: string) => ctx.weight(variable(suffix)!, 'movingStatistic', [c], {}, {});
      const weights = { gamma: param('gamma', [c]), beta: param('beta', [c]), movingMean: statistic('moving_mean'), movingVariance: statistic('moving_variance') };
      const epsilon = config['epsilon'] as number;
      if (!ctx.training || ctx.isFrozen(layer)) return batchNormInference(d, x, weights, epsilon, name);
      const result = batchNormTraining(d, x, weights, epsilon, config['momentum'] as number, name);
      ctx.movingUpdate(weights.movingMean, result.movingMean);
      ctx.movingUpdate(weights.movingVariance, result.movingVariance);
      return result.y;
    }
    case 'Activation':
      return activate(x, config['activation']);
    case 'MaxPooling2D': {
      image();
      const poolSize = pair(config['poolSize']);
      const strides = pair(config['strides'] ?? poolSize);
      const padding = config['padding'] as 'same' | 'valid';
      return maxPool(d, x, windowGeometry(height, width, poolSize, strides, [1, 1], padding), name, ctx.training, ctx.formulation.maxPoolGradient);
    }
    case 'Add':
      return add(d, sources, name);
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D':
      image();
      if (config['keepDims'] === true) throw cannot('keepDims');
      return globalPool(d, x, kind === 'GlobalAveragePooling2D' ? 'avg' : 'max', name);
    case 'Dense': {
      if (x.shape.length !== 2) throw cannot('its input is not [batch, features]');
      const units = config['units'] as number;
      return activate(dense(d, x, param('kernel', [x.shape[1]!, units])!, param('bias', [units]), name), config['activation']);
    }
    case 'Dropout': {
      const rate = config['rate'] as number;
      if (config['noiseShape'] !== undefined && config['noiseShape'] !== null) throw cannot('noiseShape');
      if (!ctx.training || rate === 0) return x;
      return multiplyByMask(d, x, ctx.dropoutMask(layer, rate, x.shape), name);
    }
    case 'ZeroPadding2D': {
      image();
      const padding = config['padding'] as [[number, number], [number, number]];
      return zeroPad(d, x, [padding[0][0], padding[0][1], padding[1][0], padding[1][1]], name);
    }
    default:
      throw cannot('unknown layer class');
  }
}

function pair(value: unknown): [number, number] {
  return typeof value === 'number' ? [value, value] : (value as [number, number]);
}

/** The state entry's layout fields, from a weight registration. */
export function layoutOf(toOnnx: Layout, fromOnnx: Layout): Pick<StateEntry, 'toOnnx' | 'fromOnnx'> {
  const empty = (l: Layout) => l.perm === undefined && l.reshape === undefined;
  return empty(toOnnx) ? {} : { toOnnx, fromOnnx };
}
