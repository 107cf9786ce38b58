import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { separableBlock } from '../../../../src/index.js';
import { buildTrainingGraph } from '../../../../src/training/onnx/graph/build-training-graph.js';
import type { OptimizerConfig } from '../../../../src/training/onnx/graph/training-graph.js';
import { useBackend } from '../../../helpers/backend.js';
import { fromOnnx, relativeError, stepFeeds, randomizeSeeded } from '../../../helpers/onnx-training.js';

beforeAll(() => useBackend('cpu'));

/** A small model from the public blocks, ending in softmax (the graph takes the logits before it). */
function smallModel(): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 3], name: 'images' });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, name: 'stem' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'stem_bn' }).apply(x) as tf.SymbolicTensor;
  x = separableBlock(x, { filters: 12, activation: 'post', name: 'unit' });
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'pool' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const y = tf.layers.dense({ units: 4, activation: 'softmax', name: 'predictions' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: y });
  randomizeSeeded(model);
  return model;
}

/**
 * Two steps through the ONNX graph (feeding its state outputs back) against two
 * `model.trainOnBatch` calls with the same tfjs optimizer, from the same
 * weights. Compared: each weight's and moving statistic's total change
 * (w₂ − w₀), relative to its largest element — stricter than comparing w₂.
 */
async function expectStepsEqual(config: OptimizerConfig, optimizer: tf.Optimizer, learningRate: number): Promise<void> {
  const model = smallModel();
  const images = [tf.randomUniform([3, 16, 16, 3], -1, 1, 'float32', 1), tf.randomUniform([3, 16, 16, 3], -1, 1, 'float32', 2)];
  const labels = [tf.oneHot(tf.tensor1d([0, 3, 1], 'int32'), 4).toFloat(), tf.oneHot(tf.tensor1d([2, 2, 0], 'int32'), 4).toFloat()];
  const graph = buildTrainingGraph(model, { optimizer: config, batchSize: 3 });
  const session = await ort.InferenceSession.create(graph.bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
  const initial = new Map(graph.state.filter((s) => s.variable).map((s) => [s.input, s.variable!.read().clone()]));

  let feeds = stepFeeds(graph, images[0]!, labels[0]!, learningRate);
  const losses: number[] = [];
  for (let step = 0; step < 2; step++) {
    if (step === 1) {
      const next = stepFeeds(graph, images[1]!, labels[1]!, learningRate);
      for (const entry of graph.state) next[entry.input] = feeds[entry.input]!;
      feeds = next;
    }
    const out = await session.run(feeds);
    losses.push(out[graph.loss]!.data[0] as number);
    for (const entry of graph.state) if (entry.output !== entry.input) feeds[entry.input] = out[entry.output]!;
  }
  await session.release();

  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const tfjsLosses = [await model.trainOnBatch(images[0]!, labels[0]!), await model.trainOnBatch(images[1]!, labels[1]!)] as number[];
  for (let i = 0; i < 2; i++) expect(Math.abs(losses[i]! - tfjsLosses[i]!) / tfjsLosses[i]!).toBeLessThan(1e-5);

  const compared: string[] = [];
  for (const entry of graph.state.filter((s) => s.variable)) {
    const before = initial.get(entry.input)!;
    const onnx = fromOnnx(entry, feeds[entry.input]!.data as Float32Array);
    const error = tf.tidy(() => relativeError(tf.sub(onnx, before), tf.sub(entry.variable!.read(), before)));
    expect(error, entry.input).toBeLessThan(1e-4);
    compared.push(entry.kind);
    tf.dispose([onnx, before]);
  }
  expect(compared.filter((k) => k === 'trainable')).toHaveLength(model.trainableWeights.length);
  expect(compared.filter((k) => k === 'movingStatistic')).toHaveLength(4);
  tf.dispose([...images, ...labels]);
  model.dispose();
}

describe('optimizer steps equal model.trainOnBatch', () => {
  it('SGD with momentum (tf.train.momentum)', () => expectStepsEqual({ type: 'sgd', momentum: 0.9 }, tf.train.momentum(0.05, 0.9), 0.05));
  it('SGD with Nesterov momentum', () => expectStepsEqual({ type: 'sgd', momentum: 0.8, nesterov: true }, tf.train.momentum(0.05, 0.8, true), 0.05));
  it('plain SGD (tf.train.sgd)', () => expectStepsEqual({ type: 'sgd' }, tf.train.sgd(0.1), 0.1));
  it('Adam (tf.train.adam, epsilon 1e-7)', () => expectStepsEqual({ type: 'adam' }, tf.train.adam(0.01, 0.9, 0.999, 1e-7), 0.01));
});

/**
 * Weight decay has no tfjs optimizer to compare with: one step's result is
 * checked against the update rule computed here in float64 from the graph's
 * own gradient output and the initial weights.
 */
describe('weight decay', () => {
  it.each<[string, OptimizerConfig, (w: number, g: number, lr: number) => number]>([
    ['SGD (coupled L2: g + λ·w)', { type: 'sgd', weightDecay: 0.1 }, (w, g, lr) => w - lr * (g + 0.1 * w)],
    ['Adam (coupled L2)', { type: 'adam', weightDecay: 0.1 }, (w, g, lr) => {
      const gd = g + 0.1 * w;
      const mHat = ((1 - 0.9) * gd) / (1 - 0.9);
      const vHat = ((1 - 0.999) * gd * gd) / (1 - 0.999);
      return w - (lr * mHat) / (Math.sqrt(vHat) + 1e-7);
    }],
    ['AdamW (decoupled, default λ = 0.01)', { type: 'adamw' }, (w, g, lr) => {
      const mHat = ((1 - 0.9) * g) / (1 - 0.9);
      const vHat = ((1 - 0.999) * g * g) / (1 - 0.999);
      return w - lr * (mHat / (Math.sqrt(vHat) + 1e-7) + 0.01 * w);
    }],
  ])('%s', async (_, config, rule) => {
    const model = smallModel();
    const graph = buildTrainingGraph(model, { optimizer: config, batchSize: 3, outputGradients: true });
    const images = tf.randomUniform([3, 16, 16, 3], -1, 1, 'float32', 4);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2], 'int32'), 4).toFloat();
    const feeds = stepFeeds(graph, images, labels, 0.05);
    const session = await ort.InferenceSession.create(graph.bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
    const out = await session.run(feeds);
    await session.release();
    let checked = 0;
    for (const entry of graph.state.filter((s) => s.kind === 'trainable')) {
      const w0 = feeds[entry.input]!.data as Float32Array;
      const g = out[graph.gradients![entry.input]!]!.data as Float32Array;
      const w1 = out[entry.output]!.data as Float32Array;
      let scale = 0;
      for (let i = 0; i < w0.length; i++) scale = Math.max(scale, Math.abs(rule(w0[i]!, g[i]!, 0.05) - w0[i]!));
      let excess = 0;
      for (let i = 0; i < w0.length; i++) {
        const expected = rule(w0[i]!, g[i]!, 0.05);
        // 1e-4 of the largest update, plus the float32 rounding of the stored weight.
        excess = Math.max(excess, Math.abs(w1[i]! - expected) - (1e-4 * scale + 2 ** -22 * Math.abs(expected)));
      }
      expect(excess, entry.input).toBeLessThanOrEqual(0);
      checked++;
    }
    expect(checked).toBe(model.trainableWeights.length);
    tf.dispose([images, labels]);
    model.dispose();
  });
});
