import type { DifferentiableGraph, Value, Weight } from './differentiable-graph.js';
import { float, int, ints } from './graph-writer.js';

/**
 * BatchNormalization over the channels of an NCHW (or [N, C]) value, in
 * training mode (batch statistics, the moving-average update of tfjs-layers
 * 4.22 / Keras: moving − (moving − batch)·(1 − momentum), with the biased
 * batch variance) or in inference mode (moving statistics; what a frozen
 * layer does in Keras 2+). Internal.
 */

export interface BatchNormWeights {
  /** [C]; null when the layer has `scale: false`. */
  gamma: Weight | null;
  /** [C]; null when the layer has `center: false`. */
  beta: Weight | null;
  movingMean: Weight;
  movingVariance: Weight;
}

/** The result of a training-mode BatchNormalization: the output and the updated moving statistics. */
export interface BatchNormTraining {
  y: Value;
  movingMean: string;
  movingVariance: string;
}

function reductionAxes(x: Value): number[] {
  return x.shape.length === 4 ? [0, 2, 3] : [0];
}

function broadcastShape(x: Value): number[] {
  return x.shape.length === 4 ? [1, x.shape[1]!, 1, 1] : [1, x.shape[1]!];
}

function ones(d: DifferentiableGraph, channels: number): string {
  return d.g.floats(new Float32Array(channels).fill(1), [channels], 'const/ones');
}

function zeros(d: DifferentiableGraph, channels: number): string {
  return d.g.floats(new Float32Array(channels), [channels], 'const/zeros');
}

/** Training mode: normalizes by the batch's mean and (biased) variance and returns the moving-average updates. */
export function batchNormTraining(
  d: DifferentiableGraph,
  x: Value,
  weights: BatchNormWeights,
  epsilon: number,
  momentum: number,
  hint: string,
): BatchNormTraining {
  const { g } = d;
  const channels = x.shape[1]!;
  const axes = reductionAxes(x);
  const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
  const keep = [ints('axes', axes), int('keepdims', 1)];
  const mean = g.op('ReduceMean', [x.name], `${hint}/batch_mean`, keep);
  const centered = g.op('Sub', [x.name, mean], `${hint}/centered`);
  const sumSquares = g.op('ReduceSumSquare', [centered], `${hint}/sum_squares`, keep);
  const variance = g.op('Mul', [sumSquares, g.scalar(1 / count)], `${hint}/batch_variance`);
  const vector = [g.int64s([channels])];
  const mean1 = g.op('Reshape', [mean, ...vector], `${hint}/batch_mean_c`);
  const variance1 = g.op('Reshape', [variance, ...vector], `${hint}/batch_variance_c`);
  const gamma = weights.gamma?.name ?? ones(d, channels);
  const beta = weights.beta?.name ?? zeros(d, channels);
  const y: Value = {
    name: g.op('BatchNormalization', [x.name, gamma, beta, mean1, variance1], hint, [float('epsilon', epsilon)]),
    shape: x.shape,
  };
  const decay = g.scalar(1 - momentum);
  const moving = (old: string, batch: string, what: string) =>
    g.op('Sub', [old, g.op('Mul', [g.op('Sub', [old, batch], `${hint}/${what}_delta`), decay], `${hint}/${what}_step`)], `${hint}/${what}_updated`);
  const movingMean = moving(weights.movingMean.name, mean1, 'moving_mean');
  const movingVariance = moving(weights.movingVariance.name, variance1, 'moving_variance');

  d.record(y, [x], [weights.gamma, weights.beta], (dy) => {
    // invstd = 1/√(var + ε); x̂ = (x − mean)·invstd
    const invstd = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [variance, g.scalar(epsilon)], `${hint}/var_eps`)], `${hint}/std`)], `${hint}/invstd`);
    const sumDy = g.op('ReduceSum', [dy, g.int64s(axes)], `${hint}/sum_dy`, [int('keepdims', 1)]);
    const sumDyCentered = g.op('ReduceSum', [g.op('Mul', [dy, centered], `${hint}/dy_centered`), g.int64s(axes)], `${hint}/sum_dy_centered`, [
      int('keepdims', 1),
    ]);
    if (weights.beta?.trainable) d.setWeightGradient(weights.beta, g.op('Reshape', [sumDy, ...vector], `${hint}/beta_grad`));
    if (weights.gamma?.trainable) {
      d.setWeightGradient(weights.gamma, g.op('Reshape', [g.op('Mul', [sumDyCentered, invstd], `${hint}/gamma_grad_b`), ...vector], `${hint}/gamma_grad`));
    }
    if (d.needsGradient(x)) {
      // dx = γ·invstd·(dy − Σdy/M − x̂·Σ(dy·x̂)/M) = scale·dy + k·(x − mean) + c
      const gammaB = g.op('Reshape', [gamma, g.int64s(broadcastShape(x))], `${hint}/gamma_b`);
      const scale = g.op('Mul', [gammaB, invstd], `${hint}/scale`);
      const invCount = g.scalar(-1 / count);
      const k = g.op('Mul', [g.op('Mul', [scale, g.op('Mul', [invstd, invstd], `${hint}/invvar`)], `${hint}/scale_invvar`), g.op('Mul', [sumDyCentered, invCount], `${hint}/mean_dy_centered`)], `${hint}/k`);
      const c = g.op('Mul', [scale, g.op('Mul', [sumDy, invCount], `${hint}/mean_dy`)], `${hint}/c`);
      const scaled = g.op('Mul', [dy, scale], `${hint}/dy_scaled`);
      const corrected = g.op('Mul', [centered, k], `${hint}/centered_k`);
      d.addGradient(x, g.sum([scaled, corrected, c], `${hint}/input_grad`));
    }
  });
  return { y, movingMean, movingVariance };
}

/** Inference mode: normalizes by the moving statistics (a frozen layer, or the evaluation graph). */
export function batchNormInference(d: DifferentiableGraph, x: Value, weights: BatchNormWeights, epsilon: number, hint: string): Value {
  const { g } = d;
  const channels = x.shape[1]!;
  const gamma = weights.gamma?.name ?? ones(d, channels);
  const beta = weights.beta?.name ?? zeros(d, channels);
  const y: Value = {
    name: g.op('BatchNormalization', [x.name, gamma, beta, weights.movingMean.name, weights.movingVariance.name], hint, [float('epsilon', epsilon)]),
    shape: x.shape,
  };
  d.record(y, [x], [weights.gamma, weights.beta], (dy) => {
    const invstd = g.op(
      'Reciprocal',
      [g.op('Sqrt', [g.op('Add', [weights.movingVariance.name, g.scalar(epsilon)], `${hint}/var_eps`)], `${hint}/std`)],
      `${hint}/invstd`,
    );
    const shape = g.int64s(broadcastShape(x));
    const invstdB = g.op('Reshape', [invstd, shape], `${hint}/invstd_b`);
    const axes = g.int64s(reductionAxes(x));
    if (weights.beta?.trainable) d.setWeightGradient(weights.beta, g.op('ReduceSum', [dy, axes], `${hint}/beta_grad`, [int('keepdims', 0)]));
    if (weights.gamma?.trainable) {
      const meanB = g.op('Reshape', [weights.movingMean.name, shape], `${hint}/mean_b`);
      const xhat = g.op('Mul', [g.op('Sub', [x.name, meanB], `${hint}/centered`), invstdB], `${hint}/xhat`);
      d.setWeightGradient(weights.gamma, g.op('ReduceSum', [g.op('Mul', [dy, xhat], `${hint}/dy_xhat`), axes], `${hint}/gamma_grad`, [int('keepdims', 0)]));
    }
    if (d.needsGradient(x)) {
      const scale = g.op('Mul', [g.op('Reshape', [gamma, shape], `${hint}/gamma_b`), invstdB], `${hint}/scale`);
      d.addGradient(x, g.op('Mul', [dy, scale], `${hint}/input_grad`));
    }
  });
  return y;
}
