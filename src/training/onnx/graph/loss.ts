import type { DifferentiableGraph, Value } from './differentiable-graph.js';
import { int, INT64 } from './graph-writer.js';
import type { LossConfig } from './training-graph.js';

/**
 * Softmax cross-entropy on logits, computed stably through LogSoftmax, mean
 * over the batch; categorical (one-hot float labels) or sparse (int64 class
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
  const labels = sparse ? g.input(labelsName, [n], INT64) : g.input(labelsName, [n, classes]);
  let targets = sparse ? g.op('OneHot', [labels, g.int64s([classes], [1]), g.floats([0, 1], [2])], 'loss/one_hot', [int('axis', -1)]) : labels;
  const smoothing = config.labelSmoothing ?? 0;
  if (smoothing > 0) {
    targets = g.op('Add', [g.op('Mul', [targets, g.scalar(1 - smoothing)], 'loss/targets_scaled'), g.scalar(smoothing / classes)], 'loss/targets_smoothed');
  }
  const logProbabilities = g.op('LogSoftmax', [logits.name], 'loss/log_probabilities', [int('axis', 1)]);
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
