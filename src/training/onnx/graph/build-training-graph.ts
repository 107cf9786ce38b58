import type { LayersModel, LayerVariable } from '@tensorflow/tfjs-layers';
import { DEFAULT_FORMULATION, type ConvFormulation } from './conv-gradients.js';
import { int } from './graph-writer.js';
import { DifferentiableGraph, type Weight } from './differentiable-graph.js';
import { layoutOf, writeForward, type ForwardContext } from './layer-translation.js';
import { softmaxCrossEntropy } from './loss.js';
import { OptimizerGraph } from './optimizers.js';
import { XceptionTrainingError } from '../../../errors.js';
import { checkBatchSize, checkLoss, checkOptimizer } from './training-options.js';
import { writeFrozenWeight } from './frozen-weights.js';
import type { FrozenWeight, LossConfig, OptimizerConfig, StateEntry, TrainingGraph } from './training-graph.js';
import { trainableWeightInput } from './trainable-weight-input.js';
import { trainingSplit } from './training-split.js';

/** Options of {@link buildTrainingGraph}. Internal. */
export interface BuildTrainingGraphOptions {
  optimizer: OptimizerConfig;
  /** Default `{ type: 'categoricalCrossentropy' }`. */
  loss?: LossConfig;
  /** The batch size the graph is written for (fixed: every shape in the graph is static). */
  batchSize: number;
  /** Also output each trainable weight's gradient (see {@link TrainingGraph.gradients}). Default false. */
  outputGradients?: boolean;
  /** Formulation switches for measuring alternatives. Default: the fastest measured. */
  formulation?: Partial<ConvFormulation>;
}

const WHAT = 'buildTrainingGraph';

/**
 * One ONNX graph (standard operators, opset 17) that runs a whole training
 * step of `model`: forward in training mode, softmax cross-entropy on the
 * logits, the backward pass derived layer by layer, the optimizer update of
 * every trainable weight, and the moving-average update of every unfrozen
 * BatchNormalization. Inputs: `images` (NHWC), `labels`, `learning_rate`,
 * dropout masks and the state; outputs: `loss`, `logits` and each state
 * entry's new value. Frozen layers (not in `model.trainableWeights`) get no
 * update and no filter gradient; their BatchNormalization runs in inference
 * mode, as in Keras 2+; their weights and moving statistics are initializers
 * holding the model's current values (constants to ONNX Runtime, which then
 * prepacks them), and the backward pass stops below the lowest trainable layer.
 * The graph is valid while the model's `trainingSplit` stays as it was (its key
 * is {@link TrainingGraph.split}) and its frozen variables keep their values.
 *
 * @throws {@link XceptionTrainingError} for a layer it cannot differentiate or a bad setting.
 * Internal.
 */
export function buildTrainingGraph(model: LayersModel, options: BuildTrainingGraphOptions): TrainingGraph {
  const { optimizer, loss = { type: 'categoricalCrossentropy' }, batchSize, outputGradients = false } = options;
  checkOptimizer(WHAT, optimizer);
  checkLoss(WHAT, loss);
  checkBatchSize(WHAT, batchSize);
  const formulation = { ...DEFAULT_FORMULATION, ...options.formulation };

  const d = new DifferentiableGraph();
  const { g } = d;
  const inputShape = model.inputs[0]?.shape ?? [];
  const images = g.input('images', [batchSize, ...(inputShape.slice(1) as number[])]);
  const learningRate = g.input('learning_rate', []);
  const split = trainingSplit(model);
  const state: StateEntry[] = [];
  const frozen = new Map<LayerVariable, FrozenWeight>();
  const weights = new Map<LayerVariable, { weight: Weight; entry: StateEntry }>();
  const movingUpdates = new Map<string, string>();
  const dropoutMasks: TrainingGraph['dropoutMasks'] = [];

  const ctx: ForwardContext = {
    d,
    training: true,
    formulation,
    weight(variable, kind, shape, toOnnx, fromOnnx) {
      const known = weights.get(variable);
      if (known) return known.weight;
      if (split.frozen.has(variable)) {
        const constant = frozen.get(variable) ?? writeFrozenWeight(g, variable, shape, layoutOf(toOnnx, fromOnnx));
        frozen.set(variable, constant);
        return { name: constant.name, shape: constant.shape, trainable: false };
      }
      const isTrainable = kind === 'parameter' && split.trainable.has(variable);
      let weight: Weight;
      let entry: StateEntry;
      if (isTrainable) {
        const row = trainableWeightInput(g, variable.name, shape, layoutOf(toOnnx, fromOnnx));
        weight = { name: row.value, shape, trainable: true };
        entry = { ...row.entry, output: `${row.entry.input}/updated`, kind: 'trainable', variable };
      } else {
        const name = g.input(variable.name, shape);
        weight = { name, shape, trainable: false };
        entry = { input: name, output: `${name}/updated`, shape, kind: 'movingStatistic', variable, ...layoutOf(toOnnx, fromOnnx) };
      }
      weights.set(variable, { weight, entry });
      state.push(entry);
      return weight;
    },
    movingUpdate(statistic, updated) {
      movingUpdates.set(statistic.name, updated);
    },
    dropoutMask(layer, rate, shape) {
      const input = g.input(`${layer.name}/keep_mask`, shape.length === 4 ? [shape[0]!, shape[2]!, shape[3]!, shape[1]!] : shape);
      const tfjsShape = shape.length === 4 ? [shape[2]!, shape[3]!, shape[1]!] : shape.slice(1);
      dropoutMasks.push({ input, rate, shape: ['batch', ...tfjsShape] });
      return shape.length === 4 ? g.op('Transpose', [input], `${input}/nchw`, [{ name: 'perm', type: 7, ints: [0, 3, 1, 2] }]) : input;
    },
    isFrozen: (layer) => split.frozenLayers.has(layer),
  };

  const logits = writeForward(model, images, batchSize, ctx, WHAT);
  const cross = softmaxCrossEntropy(d, logits, loss, 'labels', true);
  d.runBackward();

  const optimizerGraph = new OptimizerGraph(d, optimizer, learningRate);
  const gradients: Record<string, string> = {};
  for (const { weight, entry } of weights.values()) {
    if (entry.kind === 'trainable') {
      const gradient = d.weightGradients.get(weight.name) ?? g.op('Expand', [g.scalar(0), g.int64s(weight.shape)], `${weight.name}/no_gradient`);
      g.output(optimizerGraph.update(entry.input, gradient, weight.shape), entry.output, entry.shape);
      if (outputGradients) gradients[entry.input] = g.output(gradient, `${entry.input}/gradient`, weight.shape);
    } else {
      const updated = movingUpdates.get(weight.name);
      if (!updated) throw new XceptionTrainingError(`${WHAT}: the moving statistic ${weight.name} of a layer that is not frozen got no update.`);
      g.output(updated, entry.output, entry.shape);
    }
  }
  optimizerGraph.finish();
  for (const slot of optimizerGraph.slots) state.push({ input: slot.input, output: slot.output, shape: slot.shape, kind: slot.kind, initial: slot.initial });
  // One scalar over the whole updated state: Σ of every updated tensor's sum. Any NaN or ±∞ in
  // the new weights, moving statistics or optimizer slots makes it non-finite, so the trainer can
  // refuse the step (its outputs are separate buffers until swapped) at the cost of one read of the state.
  const stateSums = state.filter((entry) => entry.output !== entry.input).map((entry) => g.op('ReduceSum', [entry.output], `${entry.output}/sum`, [int('keepdims', 0)]));
  g.output(g.sum(stateSums, 'state_sum/total'), 'state_sum', []);
  const [n, classes] = logits.shape as [number, number];
  g.output(cross.loss, 'loss', []);
  g.output(logits.name, 'logits', [n, classes]);

  return {
    bytes: g.encode(`${model.name}_training_step`, `${model.name}: one training step (forward, backward, ${optimizer.type}), written by xception-ts. Images NHWC float32.`),
    state,
    images,
    labels: cross.labels,
    learningRate,
    dropoutMasks,
    loss: 'loss',
    logits: 'logits',
    stateSum: 'state_sum',
    classes,
    frozen: [...frozen.values()],
    split: split.key,
    ...(outputGradients ? { gradients } : {}),
  };
}
