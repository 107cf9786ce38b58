import type { DifferentiableGraph, Value } from './differentiable-graph.js';
import { FLOAT, int, ints } from './graph-writer.js';
import type { LossConfig } from './training-graph.js';

/**
 * Softmax cross-entropy on logits, computed stably (log-sum-exp after subtracting the max), mean
 * over the batch; categorical (one-hot float labels) or sparse (float32 class
 * ids), with Keras' label smoothing (targets (1 − s)·y + s / classes). Internal.
 */

export interface SoftmaxCrossEntropy {
  /** Scalar mean loss. */
  loss: string;
  /** The graph input of the labels. */
  labels: string;
}

/** Adds the labels input and the loss of `logits` [N, K]; with `d`'s backward, seeds the logits' gradient. */
export function softmaxCrossEntropy(d: DifferentiableGraph, logits: Value, config: LossConfig, labelsName: string, withGradient: boolean): SoftmaxCrossEntropy {
  const { g } = d;
  const [n, classes] = logits.shape as [number, number];
  const sparse = config.type === 'sparseCategoricalCrossentropy';
  // Sparse class ids come as float32 (exact to 2^24): ONNX Runtime's WebGPU provider casts no int64.
  const labels = sparse ? g.input(labelsName, [n]) : g.input(labelsName, [n, classes]);
  // Sparse ids become one-hot rows by comparing them with 0…K−1 (ONNX Runtime's WebGPU provider has no OneHot).
  let targets = sparse ? oneHotRows(d, labels, n, classes) : labels;
  const smoothing = config.labelSmoothing ?? 0;
  if (smoothing > 0) {
    targets = g.op('Add', [g.op('Mul', [targets, g.scalar(1 - smoothing)], 'loss/targets_scaled'), g.scalar(smoothing / classes)], 'loss/targets_smoothed');
  }
  // log softmax as z − max − log Σ exp(z − max): ONNX Runtime's WebGPU provider has no LogSoftmax.
  const shifted = g.op('Sub', [logits.name, g.op('ReduceMax', [logits.name], 'loss/max_logit', [ints('axes', [1]), int('keepdims', 1)])], 'loss/shifted_logits');
  const logNorm = g.op('Log', [g.op('ReduceSum', [g.op('Exp', [shifted], 'loss/exp_shifted'), g.int64s([1])], 'loss/norm', [int('keepdims', 1)])], 'loss/log_norm');
  const logProbabilities = g.op('Sub', [shifted, logNorm], 'loss/log_probabilities');
  const total = g.op('ReduceSum', [g.op('Mul', [targets, logProbabilities], 'loss/target_log_p')], 'loss/total', [int('keepdims', 0)]);
  const loss = g.op('Mul', [total, g.scalar(-1 / n)], 'loss/mean');
  if (withGradient) {
    // d loss / d logits = (softmax · Σ_k t − t) / N
    const probabilities = g.op('Exp', [logProbabilities], 'loss/probabilities');
    const mass = g.op('ReduceSum', [targets, g.int64s([1])], 'loss/target_mass', [int('keepdims', 1)]);
    const difference = g.op('Sub', [g.op('Mul', [probabilities, mass], 'loss/p_mass'), targets], 'loss/p_minus_t');
    d.addGradient(logits, g.op('Mul', [difference, g.scalar(1 / n)], 'loss/logits_grad'));
  }
  return { loss, labels };
}

/** One-hot float rows [N, K] of float class ids [N]: Equal(ids, [0 … K−1]). */
function oneHotRows(d: DifferentiableGraph, labels: string, n: number, classes: number): string {
  const { g } = d;
  const ids = g.op('Reshape', [labels, g.int64s([n, 1])], 'loss/label_ids');
  const classIds = g.floats(Array.from({ length: classes }, (_, k) => k), [1, classes], 'loss/class_ids');
  return g.op('Cast', [g.op('Equal', [ids, classIds], 'loss/is_label')], 'loss/one_hot', [int('to', FLOAT)]);
}
