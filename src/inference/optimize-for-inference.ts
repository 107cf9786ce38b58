import {
  add,
  batchNorm,
  cast,
  depthwiseConv2d,
  dispose,
  fused,
  keep,
  max,
  maxPool,
  mean,
  mul,
  pad,
  relu,
  reshape,
  rsqrt,
  softmax,
  sub,
  tidy,
  type Tensor,
  type Tensor1D,
  type Tensor2D,
  type Tensor4D,
} from '@tensorflow/tfjs-core';
import { layers as tfLayers, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { requireLayersModel, requireTensor } from '../argument-checks.js';
import { kerasClassName } from '../model/atrous-layers.js';
import { XceptionConfigError, XceptionError } from '../errors.js';

type Layer = LayersModel['layers'][number];
type Step = { name: string; inputs: string[]; run(inputs: Tensor[]): Tensor };
type Config = Record<string, unknown>;
type Hold = <T extends Tensor>(t: T) => T;
type ConvGeometry = { strides: [number, number]; dilations: [number, number]; pad: 'same' | 'valid' };

/**
 * An inference-only version of a model: {@link optimizeForInference}'s result.
 *
 * @example
 * ```ts
 * const fast: InferenceModel = optimizeForInference(model);
 * const probabilities = fast.predict(images);
 * fast.dispose();
 * ```
 * @category Inference
 */
export interface InferenceModel {
  /**
   * Runs the model on a batch `[n, h, w, c]` (float32, or int32 cast to float32 as `model.predict`
   * does) and returns its output; tensors in between are freed.
   * Throws an {@link XceptionConfigError} for something that is not a live tensor of the model's
   * input shape, or after {@link InferenceModel.dispose}.
   */
  predict(x: Tensor): Tensor;
  /** Frees the folded weights. The original model is not affected. A second call does nothing. */
  dispose(): void;
  /** How many BatchNormalization layers were folded into the convolution before them. */
  readonly foldedBatchNorms: number;
  /** How many ReLU layers were fused into the operation before them. */
  readonly fusedActivations: number;
}

/**
 * Compiles a model built by xception-ts (or of the same layer kinds) into a
 * faster inference-only form. Outputs equal the model's `predict` up to float
 * rounding; it only rewrites what is exact:
 *
 * - a BatchNormalization (any `scale`/`center`) is folded into the
 *   convolution before it (regular, separable or depthwise, any
 *   `depthMultiplier`) when that convolution has no activation of its own,
 *   the BatchNormalization is its only consumer and the convolution's output
 *   is not a model output; otherwise both run as they are;
 * - a ReLU layer is fused into the same `tf.fused` operation when it is the
 *   only consumer of such a folded BatchNormalization;
 * - a convolution's or Dense layer's own activation is kept (fused when it is
 *   `'relu'`).
 *
 * Dilated convolutions use the native dilated kernels (no gradients are needed).
 *
 * Layers it knows: InputLayer, Conv2D, SeparableConv2D, DepthwiseConv2D and
 * xception-ts' atrous variants (channels last, `'same'` or `'valid'` padding),
 * BatchNormalization over the channel axis, Activation (any tfjs activation),
 * MaxPooling2D, Add, global average/max pooling, Dense on `[batch, features]`,
 * Dropout. Anything else is refused before any tensor is allocated for it,
 * and a refused call leaves no tensor behind.
 *
 * @param model - A single-input, single-output, not disposed model, e.g. from {@link createXception}.
 * @returns An {@link InferenceModel}; dispose it when done.
 * @throws {@link XceptionConfigError} for something that is not a live tf.LayersModel, a layer or
 * setting it does not know, a layer used twice, or a multi-input or multi-output model.
 *
 * @example
 * ```ts
 * import { createXception, optimizeForInference } from 'xception-ts';
 *
 * const model = await createXception({ weights: 'imagenet' });
 * const fast = optimizeForInference(model);
 * const probabilities = fast.predict(input); // same as model.predict(input), faster
 * ```
 * @category Inference
 */
export function optimizeForInference(model: LayersModel): InferenceModel {
  requireLayersModel('optimizeForInference: model', model);
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new XceptionConfigError(
      `optimizeForInference takes a model with one input and one output; '${model.name}' has ` +
        `${model.inputs.length} and ${model.outputs.length}.`,
    );
  }
  for (const layer of model.layers) {
    if (layer.inboundNodes.length !== 1) {
      throw new XceptionConfigError(
        `optimizeForInference cannot compile layer '${layer.name}': it is applied ${layer.inboundNodes.length} times ` +
          '(shared layers are not supported); build the model with one layer per use.',
      );
    }
  }
  const consumers = new Map<string, Layer[]>();
  const inputsOf = (layer: Layer) =>
    ([] as SymbolicTensor[]).concat(layer.input as SymbolicTensor | SymbolicTensor[]).map((t) => t.sourceLayer.name);
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    for (const name of inputsOf(layer)) consumers.set(name, [...(consumers.get(name) ?? []), layer]);
  }
  const modelOutputs = new Set(model.outputs.map((t) => t.sourceLayer.name));
  /** The layer that alone reads `layer`'s output, when `layer`'s output is not needed anywhere else. */
  const onlyConsumer = (layer: Layer, check: (next: Layer) => boolean) => {
    const next = consumers.get(layer.name);
    return !modelOutputs.has(layer.name) && next?.length === 1 && check(next[0]!) ? next[0]! : null;
  };
  const isReluLayer = (layer: Layer) => layer.getClassName() === 'Activation' && activationOf(layer) === 'relu';
  const isFoldableBatchNorm = (layer: Layer) => layer.getClassName() === 'BatchNormalization' && normalizesLastAxis(layer, 4);

  const owned: Tensor[] = [];
  // Clones, so that dispose() never frees the model's own variables (getWeights() returns them).
  const hold: Hold = (t) => {
    const copy = keep(t.clone());
    owned.push(copy);
    return copy;
  };
  const steps: Step[] = [];
  const absorbed = new Set<string>();
  let foldedBatchNorms = 0;
  let fusedActivations = 0;

  /** The step that computes `layer` (and the BN and ReLU it absorbs). */
  const stepOf = (layer: Layer): Step => {
    const inputs = inputsOf(layer);
    const kind = kerasClassName(layer.getClassName());
    if (kind !== 'Conv2D' && kind !== 'SeparableConv2D' && kind !== 'DepthwiseConv2D') {
      return { name: layer.name, inputs, run: simpleStep(layer, layer.getClassName(), hold) };
    }
    const geometry = convGeometry(layer);
    const own = activationOf(layer);
    const after = own === 'relu' ? null : activationFunction(own);
    // Folding a BN across the convolution's own activation would change the output.
    const bn = own === 'linear' ? onlyConsumer(layer, isFoldableBatchNorm) : null;
    const act = bn ? onlyConsumer(bn, isReluLayer) : null;
    const fusedActivation = act || own === 'relu' ? 'relu' : 'linear';
    const useBias = (layer.getConfig() as Config)['useBias'] === true;
    const conv = buildConv(kind, layer.getWeights(), useBias, bn ? bnScaleShift(bn) : null, geometry, fusedActivation, hold);
    if (bn) absorbed.add(bn.name), foldedBatchNorms++;
    if (act) absorbed.add(act.name), fusedActivations++;
    return { name: (act ?? bn ?? layer).name, inputs, run: after ? (xs) => after(conv(xs)) : conv };
  };

  try {
    tidy(() => {
      for (const layer of model.layers) {
        if (layer.getClassName() === 'InputLayer' || absorbed.has(layer.name)) continue;
        steps.push(compile(layer, () => stepOf(layer)));
      }
    });
  } catch (error) {
    dispose(owned);
    throw error;
  }

  const resultName = model.outputs[0]!.sourceLayer.name;
  const inputName = model.inputs[0]!.sourceLayer.name;
  const inputShape = model.inputs[0]!.shape;
  let disposed = false;
  return {
    foldedBatchNorms,
    fusedActivations,
    predict(x: Tensor): Tensor {
      if (disposed) throw new XceptionConfigError('this InferenceModel has been disposed.');
      requireTensor('InferenceModel.predict: x', x);
      const fits = x.shape.length === inputShape.length && inputShape.every((d, i) => i === 0 || d === null || d === x.shape[i]);
      if (!fits) {
        throw new XceptionConfigError(
          `InferenceModel.predict: x must have the model's input shape [${inputShape.map((d) => d ?? 'any').join(', ')}]; ` +
            `got [${x.shape.join(', ')}].`,
        );
      }
      return tidy(() => {
        // model.predict takes int32 pixels too; the kernels want float32.
        const values = new Map<string, Tensor>([[inputName, x.dtype === 'float32' ? x : cast(x, 'float32')]]);
        for (const step of steps) values.set(step.name, step.run(step.inputs.map((n) => values.get(n)!)));
        return values.get(resultName)!;
      });
    },
    dispose() {
      if (!disposed) dispose(owned);
      disposed = true;
    },
  };
}

/** Runs `build` for `layer`, turning a TensorFlow.js error into an {@link XceptionConfigError} that names the layer. */
function compile<T>(layer: Layer, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof XceptionError) throw error;
    throw new XceptionConfigError(
      `optimizeForInference cannot compile layer '${layer.name}' (${layer.getClassName()}): ${(error as Error).message}`,
    );
  }
}

function refuse(layer: Layer, what: string): XceptionConfigError {
  return new XceptionConfigError(
    `optimizeForInference cannot compile layer '${layer.name}' (${layer.getClassName()}): ${what}; ` +
      'it knows the layers xception-ts builds (see its documentation).',
  );
}

/** The layer's activation name; `'linear'` when it has none. */
function activationOf(layer: Layer): string {
  const activation = (layer.getConfig() as Config)['activation'];
  return typeof activation === 'string' ? activation : 'linear';
}

/**
 * A function computing `name` exactly as the tfjs layers do: ReLU, softmax
 * and linear directly, any other through a weightless tfjs Activation layer.
 */
function activationFunction(name: string): ((x: Tensor) => Tensor) | null {
  if (name === 'linear') return null;
  if (name === 'relu') return (x) => relu(x);
  if (name === 'softmax') return (x) => softmax(x);
  const layer = tfLayers.activation({ activation: name as never });
  return (x) => layer.apply(x) as Tensor;
}

/** Whether a BatchNormalization normalizes the last axis of its rank-`rank` input (what tf.batchNorm broadcasts over). */
function normalizesLastAxis(bn: Layer, rank: number): boolean {
  const axis = (bn.getConfig() as Config)['axis'];
  const single = Array.isArray(axis) && axis.length === 1 ? axis[0] : axis;
  return single === -1 || single === rank - 1;
}

function convGeometry(layer: Layer): ConvGeometry {
  const config = layer.getConfig() as Config;
  const dataFormat = config['dataFormat'];
  if (dataFormat !== undefined && dataFormat !== 'channelsLast') throw refuse(layer, `dataFormat '${String(dataFormat)}'`);
  const pad = (config['padding'] as string | undefined) ?? 'same'; // the atrous layers are always 'same'
  if (pad !== 'same' && pad !== 'valid') throw refuse(layer, `padding '${pad}'`);
  const pair = (value: unknown): [number, number] =>
    typeof value === 'number' ? [value, value] : ((value as [number, number] | undefined) ?? [1, 1]);
  return { strides: pair(config['strides']), dilations: pair(config['dilationRate']), pad };
}

/** The weights of a BatchNormalization, with `null` for a gamma (`scale: false`) or beta (`center: false`) it lacks. */
function bnWeights(bn: Layer): { gamma: Tensor1D | null; beta: Tensor1D | null; mean: Tensor1D; variance: Tensor1D; epsilon: number } {
  const config = bn.getConfig() as Config;
  const weights = bn.getWeights() as Tensor1D[];
  let at = 0;
  const gamma = config['scale'] !== false ? weights[at++]! : null;
  const beta = config['center'] !== false ? weights[at++]! : null;
  return { gamma, beta, mean: weights[at]!, variance: weights[at + 1]!, epsilon: config['epsilon'] as number };
}

/** gamma / sqrt(variance + epsilon) and beta - mean * that, per channel. */
function bnScaleShift(bn: Layer): [Tensor1D, Tensor1D] {
  const { gamma, beta, mean: movingMean, variance, epsilon } = bnWeights(bn);
  const inverse = rsqrt(add(variance, epsilon)) as Tensor1D;
  const scale = gamma ? (mul(gamma, inverse) as Tensor1D) : inverse;
  const shifted = mul(movingMean, scale);
  return [scale, (beta ? sub(beta, shifted) : sub(0, shifted)) as Tensor1D];
}

function buildConv(
  kind: string,
  weights: Tensor[],
  useBias: boolean,
  bn: [Tensor1D, Tensor1D] | null,
  geometry: ConvGeometry,
  activation: 'relu' | 'linear',
  hold: Hold,
): (inputs: Tensor[]) => Tensor {
  const { strides, dilations, pad } = geometry;
  // The last weight that maps to output channels takes the BN scale; the bias becomes scale·b + shift.
  const kernels = weights.slice(0, kind === 'SeparableConv2D' ? 2 : 1) as Tensor4D[];
  const bias = useBias ? (weights[kernels.length] as Tensor1D) : null;
  const last = kernels[kernels.length - 1]!;
  let folded = last;
  let foldedBias: Tensor1D | null = bias;
  if (bn) {
    const [scale, shift] = bn;
    // A depthwise kernel [kh, kw, c, m] makes output channel c·m + j from kernel [.., c, j].
    const [, , channels, multiplier] = last.shape;
    const perOutput = kind === 'DepthwiseConv2D' ? reshape(scale, [1, 1, channels, multiplier]) : reshape(scale, [1, 1, 1, -1]);
    folded = mul(last, perOutput) as Tensor4D;
    foldedBias = (bias ? add(mul(bias, scale), shift) : shift) as Tensor1D;
  }
  const finalKernel = hold(folded);
  const finalBias = foldedBias ? hold(foldedBias) : undefined;
  if (kind === 'Conv2D') {
    return ([x]) => fused.conv2d({ x: x as Tensor4D, filter: finalKernel, strides, pad, dilations, bias: finalBias, activation });
  }
  if (kind === 'DepthwiseConv2D') {
    return ([x]) => fused.depthwiseConv2d({ x: x as Tensor4D, filter: finalKernel, strides, pad, dilations, bias: finalBias, activation });
  }
  const depthwise = hold(kernels[0]!);
  return ([x]) =>
    fused.conv2d({
      x: depthwiseConv2d(x as Tensor4D, depthwise, strides, pad, 'NHWC', dilations),
      filter: finalKernel,
      strides: 1,
      pad: 'valid',
      bias: finalBias,
      activation,
    });
}

function simpleStep(layer: Layer, className: string, hold: Hold): (inputs: Tensor[]) => Tensor {
  const config = layer.getConfig() as Config;
  const inputRank = () => ([] as SymbolicTensor[]).concat(layer.input as SymbolicTensor | SymbolicTensor[])[0]!.shape.length;
  const channelsLast = () => {
    if (config['dataFormat'] !== undefined && config['dataFormat'] !== 'channelsLast') {
      throw refuse(layer, `dataFormat '${String(config['dataFormat'])}'`);
    }
  };
  switch (className) {
    case 'BatchNormalization': {
      if (!normalizesLastAxis(layer, inputRank())) throw refuse(layer, `axis ${JSON.stringify(config['axis'])} (only the last axis)`);
      const { gamma, beta, mean: movingMean, variance, epsilon } = bnWeights(layer);
      const [g, b, m, v] = [gamma && hold(gamma), beta && hold(beta), hold(movingMean), hold(variance)];
      return ([x]) => batchNorm(x!, m, v, b ?? undefined, g ?? undefined, epsilon);
    }
    case 'Activation': {
      const apply = activationFunction(activationOf(layer));
      return ([x]) => (apply ? apply(x!) : x!);
    }
    case 'MaxPooling2D': {
      channelsLast();
      const poolSize = config['poolSize'] as [number, number];
      const strides = (config['strides'] as [number, number] | null) ?? poolSize;
      const padding = config['padding'] as string;
      if (padding !== 'same' && padding !== 'valid') throw refuse(layer, `padding '${padding}'`);
      return ([x]) => maxPool(x as Tensor4D, poolSize, strides, padding);
    }
    case 'Add':
      // The order tfjs' Add layer sums in.
      return (xs) => xs.slice(1).reduce((sum, x) => add(sum, x), xs[0]!);
    case 'GlobalAveragePooling2D':
      channelsLast();
      return ([x]) => mean(x!, [1, 2]);
    case 'GlobalMaxPooling2D':
      channelsLast();
      return ([x]) => max(x!, [1, 2]);
    case 'Dropout':
      return ([x]) => x!;
    case 'ZeroPadding2D': {
      const [rows, cols] = config['padding'] as [[number, number], [number, number]];
      return ([x]) => pad(x!, [[0, 0], rows, cols, [0, 0]]);
    }
    case 'Dense': {
      if (inputRank() !== 2) throw refuse(layer, `an input of rank ${inputRank()} (only [batch, features])`);
      const own = activationOf(layer);
      const after = own === 'relu' ? null : activationFunction(own);
      const [kernel, bias] = layer.getWeights().map((w) => hold(w)) as [Tensor2D, Tensor1D | undefined];
      const activation = own === 'relu' ? 'relu' : 'linear';
      const dense = (x: Tensor) => fused.matMul({ a: x as Tensor2D, b: kernel, bias, activation });
      return ([x]) => (after ? after(dense(x!)) : dense(x!));
    }
    default:
      throw refuse(layer, 'unknown layer class');
  }
}
