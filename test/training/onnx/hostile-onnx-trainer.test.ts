import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { createXception, XceptionTrainingError } from '../../../src/index.js';
import { createOnnxTrainer, type OnnxTrainer } from '../../../src/onnx/index.js';
import { useBackend } from '../../helpers/backend.js';

/** `promise` rejects with an XceptionTrainingError whose message contains `message`. */
async function expectRejected(promise: Promise<unknown>, message: string) {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(XceptionTrainingError);
  expect((error as Error).message).toContain(message);
}

const mini = () => createXception({ preset: 'mini', inputShape: [32, 32, 1], numClasses: 3 });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const create = createOnnxTrainer as (model: unknown, options?: unknown) => Promise<OnnxTrainer>;

describe('createOnnxTrainer refuses hostile arguments before building anything', () => {
  beforeAll(() => useBackend('cpu'));

  it('a disposed model', async () => {
    const model = mini();
    model.dispose();
    await expectRejected(create(model, { ort }), "has been disposed (its weights were freed); pass a live model");
  });

  it('options that are not an object, unknown keys, a runtime without InferenceSession', async () => {
    const model = mini();
    await expectRejected(create(model, null), 'createOnnxTrainer options must be an object or undefined; got null');
    await expectRejected(create(model, 'adam'), 'createOnnxTrainer options must be an object or undefined; got "adam"');
    await expectRejected(create(model, { ort, batchsize: 4 }), "unknown createOnnxTrainer option 'batchsize'; valid options are 'optimizer'");
    await expectRejected(create(model, { ort: {} }), 'ort must be an ONNX Runtime module (onnxruntime-node or onnxruntime-web) with InferenceSession and Tensor');
    model.dispose();
  });

  it('a batch size of 1e9', async () => {
    const model = mini();
    await expectRejected(create(model, { ort, batchSize: 1e9 }), 'batchSize must be a positive integer up to 65536; got 1000000000');
    model.dispose();
  });
});

describe("the trainer's methods refuse hostile arguments and change nothing", () => {
  let model: tf.LayersModel;
  let trainer: OnnxTrainer;
  let images: tf.Tensor;
  let labels: tf.Tensor;
  beforeAll(async () => {
    await useBackend('cpu');
    model = mini();
    trainer = await createOnnxTrainer(model, { ort, batchSize: 2 });
    images = tf.zeros([2, 32, 32, 1]);
    labels = tf.oneHot(tf.tensor1d([0, 1], 'int32'), 3);
  });
  afterAll(async () => {
    await trainer.dispose();
    tf.dispose([images, labels]);
  });

  it('a disposed tensor, in every method', async () => {
    const dead = tf.zeros([2, 32, 32, 1]);
    dead.dispose();
    const before = tf.memory().numTensors;
    const t = trainer as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    await expectRejected(t.trainOnBatch!(dead, labels), 'trainOnBatch: images is a tf.Tensor that has been disposed; pass a live tensor');
    await expectRejected(t.fit!(dead, labels), 'fit: images is a tf.Tensor that has been disposed');
    await expectRejected(t.evaluate!(dead, labels), 'validationData: images is a tf.Tensor that has been disposed');
    await expectRejected(t.predict!(dead), 'predict: images is a tf.Tensor that has been disposed');
    const deadLabels = labels.clone();
    deadLabels.dispose();
    await expectRejected(t.trainOnBatch!(images, deadLabels), 'trainOnBatch: labels is a tf.Tensor that has been disposed');
    expect(tf.memory().numTensors).toBe(before);
    expect(trainer.step).toBe(0);
  });

  it('options that are not an object or hold unknown keys', async () => {
    const t = trainer as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const before = tf.memory().numTensors;
    await expectRejected(t.fit!(images, labels, 'x'), 'fit options must be an object or undefined; got "x"');
    await expectRejected(t.fit!(images, labels, { epoch: 3 }), "unknown fit option 'epoch'; valid options are 'epochs'");
    await expectRejected(t.evaluate!(images, labels, 'x'), 'evaluate options must be an object or undefined; got "x"');
    await expectRejected(t.predict!(images, labels), "predict options must be an object or undefined; got a Tensor");
    await expectRejected(t.predict!(images, { batch: 2 }), "unknown predict option 'batch'; valid options are 'batchSize'");
    await expectRejected(t.predict!(images, { batchSize: 1e9 }), 'predict: batchSize must be a positive integer up to 65536; got 1000000000');
    expect(tf.memory().numTensors).toBe(before);
    expect(trainer.step).toBe(0);
  });

  it('syncToModel after model.dispose()', async () => {
    const own = mini();
    const other = await createOnnxTrainer(own, { ort, batchSize: 2 });
    own.dispose();
    const before = tf.memory().numTensors;
    await expectRejected(other.syncToModel(), "syncToModel: the model 'xception' has been disposed; the trainer's weights have nowhere to go");
    expect(tf.memory().numTensors).toBe(before);
    await other.dispose();
  });
});

describe('the trainer never keeps non-finite state', () => {
  beforeAll(() => useBackend('cpu'));

  it('a step whose update overflows (SGD, learning rate 3e38) is refused and leaves the state as it was', async () => {
    const model = mini();
    const images = tf.randomUniform([2, 32, 32, 1], -1, 1, 'float32', 7);
    const labels = tf.oneHot(tf.tensor1d([0, 1], 'int32'), 3);
    const trainer = await createOnnxTrainer(model, { ort, batchSize: 2, optimizer: { type: 'sgd', learningRate: 3e38 } });
    const before = (await trainer.predict(images)).arraySync();
    await expectRejected(trainer.trainOnBatch(images, labels), 'step 0 (learning rate 3e+38, loss ');
    await expectRejected(trainer.trainOnBatch(images, labels), 'produced non-finite weights, moving statistics or optimizer state; the step was not applied and the state is as before it');
    expect(trainer.step).toBe(0);
    expect((await trainer.predict(images)).arraySync()).toEqual(before);
    const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
    await trainer.syncToModel();
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(weights);
    await trainer.dispose();
    tf.dispose([images, labels]);
    model.dispose();
  });

  it('syncToModel refuses non-finite weights and changes no variable; predict says the weights diverged', async () => {
    const model = mini();
    const images = tf.randomUniform([2, 32, 32, 1], -1, 1, 'float32', 8);
    // A NaN in the classifier's kernel: the trainer starts from the model's values as they are.
    const withWeights = model.layers.filter((layer) => layer.getWeights().length > 0);
    const [last, other] = [withWeights.at(-1)!, withWeights[0]!];
    const [kernel, ...rest] = last.getWeights();
    const poisoned = tf.fill(kernel!.shape, NaN);
    last.setWeights([poisoned, ...rest]);
    const trainer = await createOnnxTrainer(model, { ort, batchSize: 2 });
    const otherBefore = Array.from(other.getWeights()[0]!.dataSync());
    await expectRejected(trainer.predict(images), "the model's output for image 0 is NaN");
    await expectRejected(trainer.syncToModel(), 'holds NaN at element 0; no weight of the model was changed');
    expect(Array.from(other.getWeights()[0]!.dataSync())).toEqual(otherBefore);
    await trainer.dispose();
    tf.dispose([images, poisoned]);
    model.dispose();
  });
});
