import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { entryFlow, exitFlow, middleFlow, XceptionError, XceptionTrainingError } from '../../../src/index.js';
import { createOnnxTrainer, exportOnnx, type OnnxTrainer } from '../../../src/onnx/index.js';
import { useBackend } from '../../helpers/backend.js';

const SIZE = 32;
const CLASSES = 4;

/** Xception's three flows at a small width (as examples/node-training's 'narrow'), GAP and a softmax head. */
function narrowXception(seed = 1): tf.LayersModel {
  const input = tf.input({ shape: [SIZE, SIZE, 3], name: 'input' });
  let x = entryFlow(input, { stemFilters: [8, 16], filters: [16, 24, 32], stemPadding: 'same' });
  x = middleFlow(x, { filters: 32, repeats: 1 });
  x = exitFlow(x, { filters: [32, 48], convFilters: [48, 64] });
  x = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x) as tf.SymbolicTensor;
  const y = tf.layers.dense({ units: CLASSES, activation: 'softmax', name: 'predictions', kernelInitializer: tf.initializers.glorotUniform({ seed }) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: y, name: 'narrow_xception' });
}

/** A learnable task: class k has a bright k-th quadrant on a noisy image. */
function quadrants(count: number, seed: number): { xs: tf.Tensor4D; ys: tf.Tensor2D; labels: number[] } {
  let s = seed;
  const random = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const values = new Float32Array(count * SIZE * SIZE * 3);
  const labels = Array.from({ length: count }, (_, i) => i % CLASSES);
  labels.forEach((label, i) => {
    const [top, left] = [(label >> 1) * (SIZE / 2), (label & 1) * (SIZE / 2)];
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const bright = y >= top && y < top + SIZE / 2 && x >= left && x < left + SIZE / 2;
        for (let c = 0; c < 3; c++) values[((i * SIZE + y) * SIZE + x) * 3 + c] = (bright ? 0.8 : -0.8) + 0.4 * (random() - 0.5);
      }
    }
  });
  return { xs: tf.tensor4d(values, [count, SIZE, SIZE, 3]), ys: tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES).toFloat() as tf.Tensor2D, labels };
}

/** Model outputs as plain numbers (nothing left allocated). */
function predictWithModel(model: tf.LayersModel, xs: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(xs) as tf.Tensor).dataSync() as Float32Array);
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

function weightsOf(model: tf.LayersModel): Float32Array[] {
  return model.weights.map((w) => tf.tidy(() => w.read().dataSync().slice() as Float32Array));
}

/** A copy of `t` with one element replaced. */
function withValue(t: tf.Tensor, index: number, value: number): tf.Tensor {
  const values = t.dataSync().slice();
  values[index] = value;
  return tf.tensor(values, t.shape);
}

let data: ReturnType<typeof quadrants>;
beforeAll(async () => {
  await useBackend('cpu');
  data = quadrants(32, 7);
});
afterAll(() => {
  tf.dispose([data.xs, data.ys]);
});

describe('createOnnxTrainer', () => {
  it("trainOnBatch: the first loss is the model's training-mode cross-entropy; losses are finite; no tensor leaks", async () => {
    const model = narrowXception();
    const trainer = await createOnnxTrainer(model, { batchSize: 8, ort });
    const xs = data.xs.slice([0, 0, 0, 0], [8, -1, -1, -1]);
    const ys = data.ys.slice([0, 0], [8, -1]);
    // Independent: tfjs' forward pass in training mode (batch statistics), cross-entropy of its softmax.
    const expected = tf.tidy(() => {
      const p = model.apply(xs, { training: true }) as tf.Tensor;
      return -tf.mean(tf.sum(tf.mul(ys, tf.log(p)), -1)).dataSync()[0]!;
    });
    const before = tf.memory().numTensors;
    const losses = [];
    for (let i = 0; i < 3; i++) losses.push(await trainer.trainOnBatch(xs, ys));
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(losses[0]! - expected)).toBeLessThan(1e-4 * Math.max(1, expected));
    for (const loss of losses) expect(Number.isFinite(loss)).toBe(true);
    expect(trainer.step).toBe(3);
    tf.dispose([xs, ys]);
    await trainer.dispose();
    model.dispose();
  });

  it('fit lowers the loss on a learnable task, calls the callbacks and the schedule, and syncs the model', async () => {
    const model = narrowXception();
    const initial = weightsOf(model);
    const rates: [number, number][] = [];
    const trainer = await createOnnxTrainer(model, {
      batchSize: 8,
      ort,
      optimizer: { type: 'adam', learningRate: (epoch, step) => (rates.push([epoch, step]), 3e-3) },
    });
    const batches: number[] = [];
    const epochs: number[] = [];
    const lines: string[] = [];
    const before = tf.memory().numTensors;
    const { epoch, history } = await trainer.fit(data.xs, data.ys, {
      epochs: 6,
      validationData: [data.xs, data.ys],
      verbose: 2,
      write: (text) => void lines.push(text),
      callbacks: { onBatchEnd: (batch) => void batches.push(batch), onEpochEnd: (e) => void epochs.push(e) },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(epoch).toEqual([0, 1, 2, 3, 4, 5]);
    expect(epochs).toEqual(epoch);
    expect(batches).toEqual(Array.from({ length: 24 }, (_, i) => i % 4));
    expect(rates.slice(0, 6)).toEqual([[0, 0], [0, 1], [0, 2], [0, 3], [1, 4], [1, 5]]);
    expect(Object.keys(history).sort()).toEqual(['acc', 'loss', 'val_acc', 'val_loss']);
    expect(history.loss!.at(-1)!).toBeLessThan(0.5 * history.loss![0]!);
    expect(history.acc!.at(-1)!).toBeGreaterThanOrEqual(0.9);
    // verbose 2: one line per epoch with the epoch's numbers.
    expect(lines).toHaveLength(6);
    lines.forEach((line, e) => {
      const v = history;
      expect(line).toMatch(new RegExp(`^Epoch ${e + 1}/6: loss ${v.loss![e]!.toFixed(4)} acc ${v.acc![e]!.toFixed(4)} val_loss ${v.val_loss![e]!.toFixed(4)} val_acc ${v.val_acc![e]!.toFixed(4)} \\(\\d+\\.\\d s\\)\\n$`));
    });
    // fit ended with syncToModel: every weight of the tfjs model moved (moving statistics too).
    weightsOf(model).forEach((w, i) => expect(maxDifference(w, initial[i]!), model.weights[i]!.name).toBeGreaterThan(0));
    await trainer.dispose();
    model.dispose();
  });

  it("syncToModel: tfjs' predict and the exportOnnx graph of the synced model predict as the trainer does; evaluate agrees", async () => {
    const model = narrowXception();
    const trainer = await createOnnxTrainer(model, { batchSize: 8, ort });
    // Before any step the round trip is exact: the model's variables come back unchanged.
    const initial = weightsOf(model);
    await trainer.syncToModel();
    weightsOf(model).forEach((w, i) => expect(maxDifference(w, initial[i]!)).toBe(0));

    const xs = data.xs.slice([0, 0, 0, 0], [8, -1, -1, -1]);
    const ys = data.ys.slice([0, 0], [8, -1]);
    for (let i = 0; i < 4; i++) await trainer.trainOnBatch(xs, ys);
    await trainer.syncToModel();
    const fromTrainer = await trainer.predict(data.xs);
    const trainerValues = fromTrainer.dataSync() as Float32Array;
    fromTrainer.dispose();
    expect(maxDifference(predictWithModel(model, data.xs), trainerValues)).toBeLessThan(1e-4);

    const session = await ort.InferenceSession.create(exportOnnx(model));
    const output = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', data.xs.dataSync() as Float32Array, data.xs.shape) });
    expect(maxDifference(output[session.outputNames[0]!]!.data as Float32Array, trainerValues)).toBeLessThan(1e-4);
    await session.release();

    // evaluate (batches of 5: the last one padded) equals the cross-entropy and accuracy of those probabilities.
    const { loss, acc } = await trainer.evaluate(data.xs, data.ys, { batchSize: 5 });
    let [sum, right] = [0, 0];
    data.labels.forEach((label, i) => {
      const row = trainerValues.subarray(i * CLASSES, (i + 1) * CLASSES);
      sum -= Math.log(row[label]!);
      if (row.indexOf(Math.max(...row)) === label) right++;
    });
    expect(Math.abs(loss - sum / data.labels.length)).toBeLessThan(1e-4);
    expect(acc).toBe(right / data.labels.length);
    tf.dispose([xs, ys]);
    await trainer.dispose();
    model.dispose();
  });

  it('sparse labels: class ids train like one-hot rows', async () => {
    const [a, b] = [narrowXception(), narrowXception()];
    b.setWeights(a.getWeights());
    const xs = data.xs.slice([0, 0, 0, 0], [8, -1, -1, -1]);
    const oneHot = data.ys.slice([0, 0], [8, -1]);
    const ids = tf.tensor1d(data.labels.slice(0, 8), 'int32');
    const dense = await createOnnxTrainer(a, { batchSize: 8, ort });
    const sparse = await createOnnxTrainer(b, { batchSize: 8, ort, loss: 'sparseCategoricalCrossentropy' });
    for (let i = 0; i < 2; i++) {
      const [l1, l2] = [await dense.trainOnBatch(xs, oneHot), await sparse.trainOnBatch(xs, ids)];
      expect(Math.abs(l1 - l2)).toBeLessThan(1e-5);
    }
    const bad = await sparse.trainOnBatch(xs, tf.tensor1d([0, 1, 2, 3, 4, 0, 1, 2], 'int32')).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(XceptionTrainingError);
    expect((bad as Error).message).toBe('trainOnBatch: labels[4] is 4; class ids must be integers from 0 to 3.');
    tf.dispose([xs, oneHot, ids]);
    await dense.dispose();
    await sparse.dispose();
    a.dispose();
    b.dispose();
  });

  describe('bad input: a typed error naming the value, the state unchanged', () => {
    let model: tf.LayersModel;
    let trainer: OnnxTrainer;
    let xs: tf.Tensor4D;
    let ys: tf.Tensor2D;
    beforeAll(async () => {
      model = narrowXception();
      trainer = await createOnnxTrainer(model, { batchSize: 8, ort });
      xs = data.xs.slice([0, 0, 0, 0], [8, -1, -1, -1]);
      ys = data.ys.slice([0, 0], [8, -1]);
      await trainer.trainOnBatch(xs, ys);
    });
    afterAll(async () => {
      tf.dispose([xs, ys]);
      await trainer.dispose();
      model.dispose();
    });

    const cases: [string, () => tf.Tensor[], string][] = [
      ['labels of the wrong width', () => [xs, tf.zeros([8, 5])], 'trainOnBatch: labels: expected shape [8, 4] (one-hot, one row per image); got [8,5].'],
      ['fewer labels than images', () => [xs, tf.zeros([7, 4])], 'trainOnBatch: labels: expected shape [8, 4] (one-hot, one row per image); got [7,4].'],
      ['images of the wrong size', () => [tf.zeros([8, 48, 48, 3]), ys], "trainOnBatch: images: expected shape [batch ≥ 1, 32, 32, 3] (NHWC, the model's input); got [8,48,48,3]."],
      ['an empty batch', () => [tf.zeros([0, 32, 32, 3]), tf.zeros([0, 4])], "trainOnBatch: images: expected shape [batch ≥ 1, 32, 32, 3] (NHWC, the model's input); got [0,32,32,3]."],
      ['a NaN pixel', () => [withValue(xs, 3072 + 1928, NaN), ys], 'trainOnBatch: images hold NaN in image 1 (element 1928); images must be finite.'],
      ['an infinite label', () => [xs, tf.tensor2d([[Infinity, 0, 0, 0], ...Array.from({ length: 7 }, () => [1, 0, 0, 0])])], 'trainOnBatch: labels hold Infinity at row 0, column 0; labels must be finite.'],
    ];
    it.each(cases)('%s', async (_what, make, message) => {
      const reference = await trainer.predict(xs);
      const expected = reference.dataSync().slice();
      reference.dispose();
      const stepBefore = trainer.step;
      const [images, labels] = make();
      const error = await trainer.trainOnBatch(images!, labels!).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(XceptionTrainingError);
      expect(error).toBeInstanceOf(XceptionError);
      expect((error as Error).name).toBe('XceptionTrainingError');
      expect((error as Error).message).toBe(message);
      expect(trainer.step).toBe(stepBefore);
      const after = await trainer.predict(xs);
      expect(maxDifference(after.dataSync(), expected)).toBe(0);
      after.dispose();
      if (images !== xs) images!.dispose();
      if (labels !== ys) labels!.dispose();
    });

    it('a learning-rate schedule that returns NaN', async () => {
      const broken = await createOnnxTrainer(model, { batchSize: 8, ort, optimizer: { type: 'sgd', learningRate: () => NaN } });
      const error = await broken.trainOnBatch(xs, ys).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(XceptionTrainingError);
      expect((error as Error).message).toBe('the learning rate schedule returned NaN at epoch 0, step 0; it must return a finite number ≥ 0.');
      expect(broken.step).toBe(0);
      await broken.dispose();
    });

    it('bad options', async () => {
      for (const [options, message] of [
        [{ optimizer: { type: 'rmsprop' } }, "optimizer.type must be one of 'sgd', 'adam', 'adamw'; got \"rmsprop\"."],
        [{ optimizer: { type: 'adam', learningRate: -1 } }, 'optimizer.learningRate must be a finite number ≥ 0 or a function (epoch, step) => rate; got -1.'],
        [{ batchSize: 0 }, 'batchSize must be a positive integer up to 65536; got 0.'],
        [{ loss: 'meanSquaredError' }, "loss must be one of 'categoricalCrossentropy', 'sparseCategoricalCrossentropy'; got \"meanSquaredError\"."],
      ] as const) {
        const error = await createOnnxTrainer(model, { ort, ...(options as object) }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(XceptionTrainingError);
        expect((error as Error).message).toBe(message);
      }
    });
  });

  it('dispose twice is harmless; a disposed trainer refuses work with a typed error', async () => {
    const model = narrowXception();
    const trainer = await createOnnxTrainer(model, { batchSize: 8, ort });
    await trainer.dispose();
    await trainer.dispose();
    const xs = data.xs.slice([0, 0, 0, 0], [8, -1, -1, -1]);
    const ys = data.ys.slice([0, 0], [8, -1]);
    for (const call of [() => trainer.trainOnBatch(xs, ys), () => trainer.syncToModel(), () => trainer.evaluate(xs, ys)]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(XceptionTrainingError);
      expect((error as Error).message).toMatch(/^(trainOnBatch|syncToModel|evaluate): the trainer was disposed; create a new one with createOnnxTrainer\.$/);
    }
    tf.dispose([xs, ys]);
    model.dispose();
  });
});
