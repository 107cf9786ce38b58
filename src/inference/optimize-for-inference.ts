import {
  add,
  addN,
  batchNorm,
  depthwiseConv2d,
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
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs-layers';
import { kerasClassName } from '../model/atrous-layers.js';
import { XceptionConfigError } from '../errors.js';

type Layer = LayersModel['layers'][number];
type Step = { name: string; inputs: string[]; run(inputs: Tensor[]): Tensor };
type Config = Record<string, unknown>;

/**
 * An inference-only version of a model: {@link optimizeForInference}'s result.
 *
 * @example
 * ```ts
 * const fast: InferenceModel = optimizeForInference(model);
 * const probabilities = fast.predict(images);
 * fast.dispose();
 * ```
 */
export interface InferenceModel {
  /** Runs the model on a batch `[n, h, w, c]` and returns its output; tensors in between are freed. */
  predict(x: Tensor): Tensor;
  /** Frees the folded weights. The original model is not affected. */
  dispose(): void;
  /** How many BatchNormalization layers were folded into the convolution before them. */
  readonly foldedBatchNorms: number;
  /** How many ReLUs were fused into the operation before them. */
  readonly fusedActivations: number;
}

/**
 * Compiles a model built by xception-ts into a faster inference-only form:
 * every BatchNormalization that follows a convolution (regular, separable
 * or depthwise) is folded into that convolution's weights and a bias, and a
 * ReLU that follows is fused into the same `tf.fused` operation. Dilated
 * convolutions use the native dilated kernels (no gradients are needed).
 * Outputs equal the model's `predict` up to float rounding.
 *
 * Layers it knows: InputLayer, Conv2D, SeparableConv2D, DepthwiseConv2D and
 * xception-ts' atrous variants, BatchNormalization, Activation (relu, softmax,
 * linear), MaxPooling2D, Add, global average/max pooling, Dense, Dropout.
 *
 * @param model - A single-input, single-output model, e.g. from {@link createXception}.
 * @returns An {@link InferenceModel}; dispose it when done.
 * @throws {@link XceptionConfigError} for a layer it does not know or a multi-output model.
 *
 * @example
 * ```ts
 * import { createXception, optimizeForInference } from 'xception-ts';
 *
 * const model = await createXception({ weights: 'imagenet' });
 * const fast = optimizeForInference(model);
 * const probabilities = fast.predict(input); // same as model.predict(input), faster
 * ```
 */
export function optimizeForInference(model: LayersModel): InferenceModel {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new XceptionConfigError(
      `optimizeForInference takes a model with one input and one output; '${model.name}' has ` +
        `${model.inputs.length} and ${model.outputs.length}.`,
    );
  }
  const consumers = new Map<string, Layer[]>();
  const inputsOf = (layer: Layer) =>
    ([] as SymbolicTensor[]).concat(layer.input as SymbolicTensor | SymbolicTensor[]).map((t) => t.sourceLayer.name);
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    for (const name of inputsOf(layer)) consumers.set(name, [...(consumers.get(name) ?? []), layer]);
  }
  const onlyConsumer = (layer: Layer, className: string, check: (next: Layer) => boolean = () => true) => {
    const next = consumers.get(layer.name);
    return next?.length === 1 && next[0]!.getClassName() === className && check(next[0]!) ? next[0]! : null;
  };
  const isRelu = (layer: Layer) => (layer.getConfig() as Config)['activation'] === 'relu';

  const owned: Tensor[] = [];
  // Clones, so that dispose() never frees the model's own variables (getWeights() returns them).
  const hold = <T extends Tensor>(t: T): T => {
    const copy = keep(t.clone()) as T;
    owned.push(copy);
    return copy;
  };
  const steps: Step[] = [];
  const absorbed = new Set<string>();
  let foldedBatchNorms = 0;
  let fusedActivations = 0;

  tidy(() => {
    for (const layer of model.layers) {
      const className = layer.getClassName();
      if (className === 'InputLayer' || absorbed.has(layer.name)) continue;
      const config = layer.getConfig() as Config;
      const inputs = inputsOf(layer);
      const kind = kerasClassName(className);
      if (kind === 'Conv2D' || kind === 'SeparableConv2D' || kind === 'DepthwiseConv2D') {
        const weights = layer.getWeights();
        const bn = onlyConsumer(layer, 'BatchNormalization');
        const act = bn ? onlyConsumer(bn, 'Activation', isRelu) : null;
        const out = bn ?? layer;
        const [scale, shift] = bn ? bnScaleShift(bn) : [null, null];
        if (bn) absorbed.add(bn.name), foldedBatchNorms++;
        if (act) absorbed.add(act.name), fusedActivations++;
        const activation = act ? 'relu' : 'linear';
        const strides = (config['strides'] as [number, number] | undefined) ?? [1, 1];
        const dilations = (config['dilationRate'] as [number, number] | undefined) ?? [1, 1];
        const pad = (config['padding'] as 'same' | 'valid' | undefined) ?? 'same'; // the atrous layers are always 'same'
        const step = buildConv(kind, weights, config['useBias'] === true, scale, shift, { strides, dilations, pad, activation }, hold);
        steps.push({ name: (act ?? out).name, inputs, run: step });
        continue;
      }
      steps.push({ name: layer.name, inputs, run: simpleStep(layer, config, className, hold) });
    }
  });

  const resultName = model.outputs[0]!.sourceLayer.name;
  const inputName = model.inputs[0]!.sourceLayer.name;
  let disposed = false;
  return {
    foldedBatchNorms,
    fusedActivations,
    predict(x: Tensor): Tensor {
      if (disposed) throw new XceptionConfigError('this InferenceModel has been disposed.');
      return tidy(() => {
        const values = new Map<string, Tensor>([[inputName, x]]);
        for (const step of steps) values.set(step.name, step.run(step.inputs.map((n) => values.get(n)!)));
        return values.get(resultName)!;
      });
    },
    dispose() {
      if (!disposed) owned.forEach((t) => t.dispose());
      disposed = true;
    },
  };
}

/** gamma / sqrt(variance + epsilon) and beta - mean * that, per channel. */
function bnScaleShift(bn: Layer): [Tensor1D, Tensor1D] {
  const [gamma, beta, movingMean, movingVariance] = bn.getWeights() as Tensor1D[];
  const epsilon = (bn.getConfig() as Config)['epsilon'] as number;
  const scale = mul(gamma!, rsqrt(add(movingVariance!, epsilon))) as Tensor1D;
  return [scale, sub(beta!, mul(movingMean!, scale)) as Tensor1D];
}

function buildConv(
  kind: string,
  weights: Tensor[],
  useBias: boolean,
  scale: Tensor1D | null,
  shift: Tensor1D | null,
  conv: { strides: [number, number]; dilations: [number, number]; pad: 'same' | 'valid'; activation: 'relu' | 'linear' },
  hold: <T extends Tensor>(t: T) => T,
): (inputs: Tensor[]) => Tensor {
  const { strides, dilations, pad, activation } = conv;
  // The last weight that maps to output channels takes the BN scale; the bias becomes scale·b + shift.
  const kernels = weights.slice(0, kind === 'SeparableConv2D' ? 2 : 1) as Tensor4D[];
  const bias = useBias ? (weights[kernels.length] as Tensor1D) : null;
  const last = kernels.length - 1;
  let folded = kernels[last]!;
  if (scale) {
    folded = (kind === 'DepthwiseConv2D'
      ? mul(folded, reshape(scale, [1, 1, -1, 1]))
      : mul(folded, reshape(scale, [1, 1, 1, -1]))) as Tensor4D;
  }
  let foldedBias: Tensor1D | null = bias;
  if (scale) foldedBias = (bias ? add(mul(bias, scale), shift!) : shift!) as Tensor1D;
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

function simpleStep(layer: Layer, config: Config, className: string, hold: <T extends Tensor>(t: T) => T): (inputs: Tensor[]) => Tensor {
  switch (className) {
    case 'BatchNormalization': {
      const [gamma, beta, movingMean, movingVariance] = layer.getWeights().map((w) => hold(w)) as Tensor1D[];
      const epsilon = config['epsilon'] as number;
      return ([x]) => batchNorm(x!, movingMean!, movingVariance!, beta, gamma, epsilon);
    }
    case 'Activation':
      return activationStep(layer, config['activation'] as string);
    case 'MaxPooling2D': {
      const poolSize = config['poolSize'] as [number, number];
      const strides = config['strides'] as [number, number];
      return ([x]) => maxPool(x as Tensor4D, poolSize, strides, config['padding'] as 'same' | 'valid');
    }
    case 'Add':
      return (xs) => addN(xs);
    case 'GlobalAveragePooling2D':
      return ([x]) => mean(x!, [1, 2]);
    case 'GlobalMaxPooling2D':
      return ([x]) => max(x!, [1, 2]);
    case 'Dropout':
      return ([x]) => x!;
    case 'ZeroPadding2D': {
      const [rows, cols] = config['padding'] as [[number, number], [number, number]];
      return ([x]) => pad(x!, [[0, 0], rows, cols, [0, 0]]);
    }
    case 'Dense': {
      const [kernel, bias] = layer.getWeights().map((w) => hold(w)) as [Tensor2D, Tensor1D | undefined];
      const activation = config['activation'] as string;
      const linear = activation === 'relu' ? 'relu' : 'linear';
      const dense = (x: Tensor) => fused.matMul({ a: x as Tensor2D, b: kernel, bias, activation: linear });
      if (activation === 'softmax') return ([x]) => softmax(dense(x!));
      if (activation !== 'linear' && activation !== 'relu') break;
      return ([x]) => dense(x!);
    }
    default:
      break;
  }
  throw new XceptionConfigError(
    `optimizeForInference cannot compile layer '${layer.name}' (${className}${config['activation'] ? `, activation '${config['activation']}'` : ''}); ` +
      'it knows the layers xception-ts builds.',
  );
}

function activationStep(layer: Layer, activation: string): (inputs: Tensor[]) => Tensor {
  if (activation === 'relu') return ([x]) => relu(x!);
  if (activation === 'softmax') return ([x]) => softmax(x!);
  if (activation === 'linear') return ([x]) => x!;
  throw new XceptionConfigError(`optimizeForInference cannot compile activation '${activation}' of layer '${layer.name}'.`);
}
