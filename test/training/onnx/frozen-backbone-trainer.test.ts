import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { createXception, freezeBackbone, unfreeze } from '../../../src/index.js';
import { createOnnxTrainer } from '../../../src/onnx/index.js';
import { modelProtoType } from '../../../src/onnx/onnx-schema.js';
import { buildEvaluationGraph } from '../../../src/training/onnx/graph/build-evaluation-graph.js';
import { buildTrainingGraph } from '../../../src/training/onnx/graph/build-training-graph.js';
import { useBackend } from '../../helpers/backend.js';
import { compareGradients, randomizeSeeded, worst } from '../../helpers/onnx-training.js';

/*
 * Transfer learning on ONNX Runtime: a frozen backbone's weights are initializers of the graphs
 * (constants ONNX Runtime prepacks), not state; the trainer rebuilds its sessions when the
 * model's trainable set changes between steps.
 */

const SIZE = 48;
const CLASSES = 4;

/**
 * The Keras Xception at 48 px, one middle unit (blocks 1–3 entry, 4 middle, 5–7 exit), backbone
 * frozen; `randomized`: seeded random weights and BN statistics far from the identity (slow to draw).
 */
function frozenXception(classifierActivation: 'softmax' | 'linear' = 'softmax', randomized = false): tf.LayersModel {
  const model = createXception({ preset: 'keras', inputShape: [SIZE, SIZE, 3], numClasses: CLASSES, middleFlowRepeats: 1, allowSmallInput: true, classifierActivation });
  if (randomized) randomizeSeeded(model, 3);
  freezeBackbone(model);
  return model;
}

/** A learnable task: class k has a bright k-th quadrant on a noisy image. */
function quadrants(count: number): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  return tf.tidy(() => {
    const labels = Array.from({ length: count }, (_, i) => i % CLASSES);
    const half = SIZE / 2;
    const masks = labels.map((label) => {
      const [top, left] = [(label >> 1) * half, (label & 1) * half];
      return tf.pad(tf.ones([half, half, 3]), [[top, half - top], [left, half - left], [0, 0]]);
    });
    const xs = tf.stack(masks).mul(1.6).sub(0.8).add(tf.randomUniform([count, SIZE, SIZE, 3], -0.2, 0.2, 'float32', 5)) as tf.Tensor4D;
    return { xs, ys: tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES).toFloat() as tf.Tensor2D };
  });
}

type Proto = { graph: { input: { name: string }[]; output: { name: string }[]; initializer: { name: string; dims: unknown[] }[] } };

function valuesOf(variables: readonly tf.LayerVariable[]): Float32Array[] {
  return variables.map((v) => tf.tidy(() => v.read().dataSync().slice() as Float32Array));
}

function sameBits(a: Float32Array[], b: Float32Array[]): boolean {
  return a.length === b.length && a.every((x, i) => Buffer.from(x.buffer).equals(Buffer.from(b[i]!.buffer)));
}

let data: ReturnType<typeof quadrants>;
beforeAll(async () => {
  await useBackend('cpu');
  data = quadrants(16);
});
afterAll(() => tf.dispose([data.xs, data.ys]));

describe('a frozen backbone on ONNX Runtime', () => {
  it('is held as initializers of both graphs; the loss and the head gradients equal tfjs', async () => {
    const model = frozenXception('linear', true); // tfjs' reference loss takes logits
    expect(model.trainableWeights.map((w) => w.name)).toEqual(['predictions/kernel', 'predictions/bias']);
    const graph = buildTrainingGraph(model, { optimizer: { type: 'adam' }, batchSize: 2, outputGradients: true });
    const evaluation = buildEvaluationGraph(model, { batchSize: 2 });
    for (const built of [graph, evaluation]) {
      const proto = modelProtoType().decode(built.bytes) as unknown as Proto;
      const initializers = new Map(proto.graph.initializer.map((i) => [i.name, i.dims.map(Number).join(',')]));
      const inputs = new Set(proto.graph.input.map((i) => i.name));
      // Every non-trainable variable of the model (all convolutions, BN weights and statistics) is an initializer.
      expect(built.frozen.map((f) => f.variable)).toHaveLength(model.nonTrainableWeights.length);
      expect(new Set(built.frozen.map((f) => f.variable))).toEqual(new Set(model.nonTrainableWeights));
      expect(built.frozen.filter((f) => initializers.get(f.name) === f.shape.join(',') && !inputs.has(f.name))).toHaveLength(built.frozen.length);
      // What is fed: the head (and, in training, its Adam slots and the step), the batch and the learning rate.
      expect(built.state.filter((s) => s.variable).map((s) => s.variable!.name)).toEqual(['predictions/kernel', 'predictions/bias']);
      expect(proto.graph.input.length).toBe(built.state.length + (built === graph ? 3 : 2));
    }
    expect(graph.state.map((s) => s.kind).sort()).toEqual(['optimizerSlot', 'optimizerSlot', 'optimizerSlot', 'optimizerSlot', 'step', 'trainable', 'trainable']);

    // freezeBackbone makes tfjs run the frozen BatchNormalizations in inference mode, as the graph does.
    const { loss, errors } = await compareGradients(model, () => graph, { batchSize: 2 });
    expect(errors.size).toBe(2);
    expect(Math.abs(loss[0] - loss[1]) / loss[1]).toBeLessThan(1e-5);
    expect(worst(errors)[1]).toBeLessThan(1e-4);
    model.dispose();
  }, 120_000);

  it('fit lowers the loss and changes only the head; predict agrees with the synced model', async () => {
    const model = frozenXception('softmax', true);
    const frozenBefore = valuesOf(model.nonTrainableWeights);
    const headBefore = valuesOf(model.trainableWeights);
    const tensorsBefore = tf.memory().numTensors;
    const trainer = await createOnnxTrainer(model, { ort, device: 'cpu', batchSize: 8, optimizer: { type: 'adam', learningRate: 1e-2 } });
    const { history } = await trainer.fit(data.xs, data.ys, { epochs: 6, shuffle: false });
    expect(history.loss!.at(-1)!).toBeLessThan(history.loss![0]! * 0.7);
    expect(sameBits(valuesOf(model.nonTrainableWeights), frozenBefore)).toBe(true);
    expect(valuesOf(model.trainableWeights).every((v, i) => v.some((x, j) => x !== headBefore[i]![j]))).toBe(true);
    const some = data.xs.slice(0, 4);
    const fromTrainer = await trainer.predict(some, { batchSize: 2 });
    const fromModel = model.predict(some) as tf.Tensor;
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(fromTrainer, fromModel))).dataSync()[0]!)).toBeLessThan(1e-4);
    tf.dispose([fromTrainer, fromModel, some]);
    await trainer.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    model.dispose();
  }, 120_000);

  it('a change of the trainable set between steps rebuilds the sessions, keeping the head and its Adam state', async () => {
    // Two identical models: one keeps its backbone frozen; the other unfreezes one convolution after
    // the first step. The second step's forward pass is the same for both (the convolution changes in
    // that step), so the head must come out equal when its Adam moments and step count carried over.
    const kept = frozenXception();
    const changed = frozenXception();
    changed.setWeights(kept.getWeights());
    const [x, y] = [data.xs.slice(0, 4), data.ys.slice(0, 4)];
    const options = { ort, device: 'cpu' as const, batchSize: 4, optimizer: { type: 'adam' as const, learningRate: 1e-2 } };
    const reference = await createOnnxTrainer(kept, options);
    const trainer = await createOnnxTrainer(changed, options);
    await reference.trainOnBatch(x, y);
    await trainer.trainOnBatch(x, y);
    const conv = changed.getLayer('block7_sepconv2');
    const convBefore = valuesOf(conv.weights);
    conv.trainable = true;
    const loss = await trainer.trainOnBatch(x, y);
    expect(loss).toBeCloseTo(await reference.trainOnBatch(x, y), 5);
    expect(trainer.step).toBe(2);
    await Promise.all([trainer.syncToModel(), reference.syncToModel()]);
    const [head, referenceHead] = [valuesOf(changed.getLayer('predictions').weights), valuesOf(kept.getLayer('predictions').weights)];
    const gap = Math.max(...head.map((h, i) => h.reduce((m, v, j) => Math.max(m, Math.abs(v - referenceHead[i]![j]!)), 0)));
    expect(gap).toBeLessThan(1e-5); // fresh Adam moments would move the head by ~1e-2 (the learning rate)
    // The newly trainable convolution trained; its batch norm (still frozen) did not.
    expect(valuesOf(conv.weights).every((v, i) => v.some((value, j) => value !== convBefore[i]![j]))).toBe(true);

    // Back to a frozen backbone: the convolution keeps its trained value as a constant.
    freezeBackbone(changed);
    const convTrained = valuesOf(conv.weights);
    await trainer.trainOnBatch(x, y);
    await trainer.syncToModel();
    expect(sameBits(valuesOf(conv.weights), convTrained)).toBe(true);
    const fromTrainer = await trainer.predict(x);
    const fromModel = changed.predict(x) as tf.Tensor;
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(fromTrainer, fromModel))).dataSync()[0]!)).toBeLessThan(1e-4);
    tf.dispose([fromTrainer, fromModel, x, y]);
    await Promise.all([trainer.dispose(), reference.dispose()]);
    kept.dispose();
    changed.dispose();
  }, 180_000);

  it('unfreeze between fit calls trains the whole model in the next fit', async () => {
    const model = frozenXception();
    const [x, y] = [data.xs.slice(0, 8), data.ys.slice(0, 8)]; // one step per fit
    const trainer = await createOnnxTrainer(model, { ort, device: 'cpu', batchSize: 8, optimizer: { type: 'adam', learningRate: 1e-4 } });
    await trainer.fit(x, y, { epochs: 1 });
    unfreeze(model); // BatchNormalization stays frozen (keras.io's recipe)
    const batchNorms = model.layers.filter((l) => l.getClassName() === 'BatchNormalization').flatMap((l) => l.weights);
    const [bnBefore, convBefore] = [valuesOf(batchNorms), valuesOf(model.trainableWeights)];
    expect(model.trainableWeights.length).toBeGreaterThan(2);
    await trainer.fit(x, y, { epochs: 1 });
    const convAfter = valuesOf(model.trainableWeights);
    expect(convAfter.filter((v, i) => v.some((value, j) => value !== convBefore[i]![j]))).toHaveLength(convAfter.length);
    expect(sameBits(valuesOf(batchNorms), bnBefore)).toBe(true);
    await trainer.dispose();
    tf.dispose([x, y]);
    model.dispose();
  }, 180_000);
});
