import type { LayersModel, LayerVariable } from '@tensorflow/tfjs-layers';
import { DEFAULT_FORMULATION, type ConvFormulation } from './conv-gradients.js';
import { DifferentiableGraph, type Weight } from './differentiable-graph.js';
import { layoutOf, writeForward, type ForwardContext } from './layer-translation.js';
import { softmaxCrossEntropy } from './loss.js';
import { checkBatchSize, checkLoss } from './training-options.js';
import { writeFrozenWeight } from './frozen-weights.js';
import type { EvaluationGraph, FrozenWeight, LossConfig, StateEntry } from './training-graph.js';
import { trainableWeightInput } from './trainable-weight-input.js';
import { trainingSplit } from './training-split.js';

/** Options of {@link buildEvaluationGraph}. Internal. */
export interface BuildEvaluationGraphOptions {
  /** Default `{ type: 'categoricalCrossentropy' }`. */
  loss?: LossConfig;
  batchSize: number;
  /** Formulation switches (see buildTrainingGraph); the evaluation graph reads `nchwcBlock`. */
  formulation?: Partial<ConvFormulation>;
}

const WHAT = 'buildEvaluationGraph';

/**
 * The forward pass of `model` in inference mode (BatchNormalization on its
 * moving statistics, no dropout) with the loss, reading the same state
 * inputs (same names and layouts) as {@link buildTrainingGraph}'s graph, with the
 * same frozen variables as initializers (for the same `trainingSplit`).
 *
 * @throws {@link XceptionTrainingError} for a layer it cannot translate or a bad setting.
 * Internal.
 */
export function buildEvaluationGraph(model: LayersModel, options: BuildEvaluationGraphOptions): EvaluationGraph {
  const { loss = { type: 'categoricalCrossentropy' }, batchSize } = options;
  checkLoss(WHAT, loss);
  checkBatchSize(WHAT, batchSize);
  const d = new DifferentiableGraph();
  const { g } = d;
  const inputShape = model.inputs[0]?.shape ?? [];
  const images = g.input('images', [batchSize, ...(inputShape.slice(1) as number[])]);
  const split = trainingSplit(model);
  const state: StateEntry[] = [];
  const weights = new Map<LayerVariable, Weight>();
  const frozen: FrozenWeight[] = [];
  const ctx: ForwardContext = {
    d,
    training: false,
    formulation: { ...DEFAULT_FORMULATION, ...options.formulation },
    weight(variable, kind, shape, toOnnx, fromOnnx) {
      const known = weights.get(variable);
      if (known) return known;
      let weight: Weight;
      if (split.frozen.has(variable)) {
        const constant = writeFrozenWeight(g, variable, shape, layoutOf(toOnnx, fromOnnx));
        frozen.push(constant);
        weight = { name: constant.name, shape, trainable: false };
      } else if (kind === 'parameter' && split.trainable.has(variable)) {
        const row = trainableWeightInput(g, variable.name, shape, layoutOf(toOnnx, fromOnnx));
        weight = { name: row.value, shape, trainable: false };
        state.push({ ...row.entry, output: row.entry.input, kind: 'trainable', variable });
      } else {
        weight = { name: g.input(variable.name, shape), shape, trainable: false };
        state.push({ input: weight.name, output: weight.name, shape, kind: 'movingStatistic', variable, ...layoutOf(toOnnx, fromOnnx) });
      }
      weights.set(variable, weight);
      return weight;
    },
    movingUpdate() {},
    dropoutMask() {
      throw new Error('no dropout masks in inference mode');
    },
    isFrozen: () => true,
  };
  const logits = writeForward(model, images, batchSize, ctx, WHAT);
  const cross = softmaxCrossEntropy(d, logits, loss, 'labels', false);
  const [n, classes] = logits.shape as [number, number];
  g.output(cross.loss, 'loss', []);
  g.output(logits.name, 'logits', [n, classes]);
  return {
    bytes: g.encode(`${model.name}_evaluation`, `${model.name}: forward pass in inference mode and loss, written by xception-ts. Images NHWC float32.`),
    state,
    images,
    labels: cross.labels,
    loss: 'loss',
    logits: 'logits',
    classes,
    frozen,
    split: split.key,
  };
}
