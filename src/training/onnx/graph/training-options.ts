import { XceptionTrainingError } from '../../../errors.js';
import type { LossConfig, OptimizerConfig } from './training-graph.js';

/** Checks optimizer, loss and batch settings up front, so that a bad value names itself. Internal. */

const show = (value: unknown) => (typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value));

function requireNumber(what: string, value: unknown, ok: (v: number) => boolean, allowed: string): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    throw new XceptionTrainingError(`${what} must be ${allowed}; got ${show(value)}.`);
  }
}

/** Throws {@link XceptionTrainingError} for an unknown optimizer or a setting out of range. */
export function checkOptimizer(what: string, optimizer: OptimizerConfig): void {
  if (optimizer === null || typeof optimizer !== 'object') throw new XceptionTrainingError(`${what}: optimizer must be an object like { type: 'adam' }; got ${show(optimizer)}.`);
  const type = optimizer.type as string;
  if (type !== 'sgd' && type !== 'adam' && type !== 'adamw') {
    throw new XceptionTrainingError(`${what}: optimizer.type must be 'sgd', 'adam' or 'adamw'; got ${show(type)}.`);
  }
  const o = optimizer as Record<string, unknown>;
  requireNumber(`${what}: optimizer.learningRate`, o['learningRate'], (v) => v > 0, 'a positive number');
  requireNumber(`${what}: optimizer.weightDecay`, o['weightDecay'], (v) => v >= 0, 'a number ≥ 0');
  if (type === 'sgd') {
    requireNumber(`${what}: optimizer.momentum`, o['momentum'], (v) => v >= 0 && v < 1, 'in [0, 1)');
    if (o['nesterov'] !== undefined && typeof o['nesterov'] !== 'boolean') throw new XceptionTrainingError(`${what}: optimizer.nesterov must be a boolean; got ${show(o['nesterov'])}.`);
    if (o['nesterov'] === true && !((o['momentum'] as number | undefined) ?? 0)) {
      throw new XceptionTrainingError(`${what}: optimizer.nesterov needs a momentum > 0; got momentum ${show(o['momentum'] ?? 0)}.`);
    }
  } else {
    requireNumber(`${what}: optimizer.beta1`, o['beta1'], (v) => v >= 0 && v < 1, 'in [0, 1)');
    requireNumber(`${what}: optimizer.beta2`, o['beta2'], (v) => v >= 0 && v < 1, 'in [0, 1)');
    requireNumber(`${what}: optimizer.epsilon`, o['epsilon'], (v) => v > 0, 'a positive number');
  }
}

/** Throws {@link XceptionTrainingError} for an unknown loss or a label smoothing outside [0, 1). */
export function checkLoss(what: string, loss: LossConfig): void {
  if (loss === null || typeof loss !== 'object') throw new XceptionTrainingError(`${what}: loss must be an object like { type: 'categoricalCrossentropy' }; got ${show(loss)}.`);
  if (loss.type !== 'categoricalCrossentropy' && loss.type !== 'sparseCategoricalCrossentropy') {
    throw new XceptionTrainingError(`${what}: loss.type must be 'categoricalCrossentropy' or 'sparseCategoricalCrossentropy'; got ${show(loss.type)}.`);
  }
  requireNumber(`${what}: loss.labelSmoothing`, loss.labelSmoothing, (v) => v >= 0 && v < 1, 'in [0, 1)');
}

/** Throws {@link XceptionTrainingError} unless the batch size is a positive integer. */
export function checkBatchSize(what: string, batchSize: unknown): asserts batchSize is number {
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1) {
    throw new XceptionTrainingError(`${what}: batchSize must be a positive integer (the graph's batch is fixed); got ${show(batchSize)}.`);
  }
}
