import { tensor, tensor2d, type Tensor, type Tensor2D } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { isDisposedModel } from '../argument-checks.js';
import { XceptionTrainingError } from '../errors.js';
import { buildEvaluationGraph } from '../training/onnx-graph/build-evaluation-graph.js';
import { buildTrainingGraph } from '../training/onnx-graph/build-training-graph.js';
import type { EvaluationGraph, StateEntry, TrainingGraph } from '../training/onnx-graph/training-graph.js';
import { defaultRuntime } from './default-runtime.js';
import type { OnnxRuntime } from './onnx-classifier.js';
import type {
  OnnxBatchSource,
  OnnxEvaluateOptions,
  OnnxEvaluation,
  OnnxFitOptions,
  OnnxTrainingHistory,
  OnnxTrainingLogs,
} from './onnx-fit-options.js';
import {
  requireBatchSize,
  requireOptionsObject,
  resolveTrainerOptions,
  type OnnxTrainerOptions,
  type ResolvedTrainerOptions,
} from './onnx-trainer-options.js';
import { progressDisplay } from './training-progress.js';

/**
 * A model being trained on ONNX Runtime: {@link createOnnxTrainer}'s result.
 * The weights, BatchNormalization's moving statistics and the optimizer's
 * state live in ONNX Runtime tensors between steps; {@link OnnxTrainer.syncToModel}
 * (and the end of {@link OnnxTrainer.fit}) writes them back into the tfjs model.
 *
 * @example
 * ```ts
 * const trainer = await createOnnxTrainer(model, { batchSize: 16 });
 * const history = await trainer.fit(images, labels, { epochs: 5, validationData: [valImages, valLabels] });
 * await model.save('file://./trained'); // fit synced the weights back
 * await trainer.dispose();
 * ```
 * @category Training
 */
export interface OnnxTrainer {
  /** The model's input, `[height, width, channels]`. */
  readonly inputShape: readonly [number, number, number];
  /** The number of classes (the model's outputs). */
  readonly classes: number;
  /** Training steps done so far (the `step` a learning-rate schedule receives next). */
  readonly step: number;
  /** Set it to true (e.g. in a callback) to end {@link OnnxTrainer.fit} after the current batch. */
  stopTraining: boolean;
  /**
   * One optimizer step on a batch: images NHWC `[batch, height, width, channels]`
   * (preprocessed as the model expects), labels one-hot `[batch, classes]` (or
   * class ids `[batch]` with the sparse loss). Resolves to the batch's mean loss.
   */
  trainOnBatch(images: Tensor, labels: Tensor): Promise<number>;
  /**
   * Trains for `epochs` over images and labels (shuffled each epoch), evaluates
   * `validationData` after each epoch, calls the callbacks, and at the end
   * writes the trained weights back into the model ({@link OnnxTrainer.syncToModel}).
   */
  fit(images: Tensor, labels: Tensor, options?: OnnxFitOptions): Promise<OnnxTrainingHistory>;
  /** The same over a batch source (e.g. a batched `tf.data` dataset), re-iterated each epoch. */
  fit(batches: OnnxBatchSource, options?: OnnxFitOptions): Promise<OnnxTrainingHistory>;
  /** Mean loss and accuracy on images and labels, with BatchNormalization in inference mode. */
  evaluate(images: Tensor, labels: Tensor, options?: OnnxEvaluateOptions): Promise<OnnxEvaluation>;
  /** The same over a batch source. */
  evaluate(batches: OnnxBatchSource): Promise<OnnxEvaluation>;
  /** The model's class probabilities (softmax of the logits) for images, from the current training state. */
  predict(images: Tensor, options?: OnnxEvaluateOptions): Promise<Tensor2D>;
  /**
   * Writes the trained weights and moving statistics into the tfjs model's
   * variables, so that `model.predict`, `model.save`, `exportOnnx` and
   * `optimizeForInference` see them. All of them or, on error, none.
   */
  syncToModel(): Promise<void>;
  /** Releases the sessions and the training state. Calling it again does nothing. */
  dispose(): Promise<void>;
}

type OrtTensor = { data: unknown; dims: readonly number[]; type?: string };
type Session = { run(feeds: Record<string, unknown>, fetches?: unknown): Promise<Record<string, OrtTensor>>; release(): Promise<void> };
type TensorConstructor = new (type: string, data: Float32Array | BigInt64Array, dims: readonly number[]) => OrtTensor;

/**
 * Creates a trainer that trains an Xception built by this library on ONNX
 * Runtime: the model becomes one ONNX training graph (forward pass, its
 * derived backward pass and the optimizer update, in standard operators),
 * run by `onnxruntime-node` (CPU, CUDA, CoreML, DirectML) or `onnxruntime-web`
 * (wasm, WebGPU) — many times faster than TensorFlow.js' wasm backend on a
 * CPU. Dropout masks come from a seeded generator in JavaScript; the
 * learning rate is an input of the graph, so schedules cost nothing.
 *
 * @param model - A model from `createXception` (or built from this library's blocks), with a softmax or linear classifier on top.
 * @param options - See {@link OnnxTrainerOptions}.
 * @throws {@link xception-ts!XceptionTrainingError} for bad options or a layer the graph cannot train (it names the layer);
 *   {@link xception-ts!XceptionConfigError} when ONNX Runtime is missing.
 *
 * @example
 * ```ts
 * // Node: npm install onnxruntime-node
 * import { createXception } from 'xception-ts';
 * import { createOnnxTrainer } from 'xception-ts/onnx';
 *
 * const model = createXception({ preset: 'postact', inputShape: [32, 32, 1], numClasses: 10 });
 * const trainer = await createOnnxTrainer(model, { optimizer: { type: 'adam', learningRate: 1e-3 }, batchSize: 32 });
 * const loss = await trainer.trainOnBatch(images, oneHotLabels);
 * const { history } = await trainer.fit(images, oneHotLabels, { epochs: 3, validationData: [testImages, testLabels] });
 * ```
 *
 * @example
 * ```ts
 * // Browser: npm install onnxruntime-web
 * import * as ort from 'onnxruntime-web';
 * const trainer = await createOnnxTrainer(model, { ort, executionProviders: ['wasm'], batchSize: 8 });
 * ```
 * @category Training
 */
export async function createOnnxTrainer(model: LayersModel, options: OnnxTrainerOptions = {}): Promise<OnnxTrainer> {
  const settings = resolveTrainerOptions(options);
  const { inputShape, classes } = describeModel(model);
  const ort = options.ort ?? (await defaultRuntime('createOnnxTrainer'));
  const Tensor = ort.Tensor as unknown as TensorConstructor;
  const sparse = settings.loss.type === 'sparseCategoricalCrossentropy';
  const [height, width, channels] = inputShape;
  const imageSize = height * width * channels;
  const random = seededRandom(settings.seed);
  const fillsPreallocatedOutputs = Boolean((ort as { env?: { versions?: { node?: string } } }).env?.versions?.node);

  const sessions = new Map<string, Promise<{ session: Session; graph: TrainingGraph | EvaluationGraph }>>();
  const sessionFor = (kind: 'train' | 'eval', batch: number) => {
    const key = `${kind}:${batch}`;
    let entry = sessions.get(key);
    if (!entry) {
      entry = (async () => {
        const graph = kind === 'train'
          ? await buildTrainingGraph(model, { optimizer: settings.optimizer, loss: settings.loss, batchSize: batch })
          : await buildEvaluationGraph(model, { loss: settings.loss, batchSize: batch });
        const session = (await ort.InferenceSession.create(graph.bytes, settings.sessionOptions)) as unknown as Session;
        return { session, graph };
      })();
      sessions.set(key, entry);
      entry.catch(() => sessions.delete(key));
    }
    return entry;
  };

  // The first training graph is built now, so that a layer it cannot train fails here.
  const first = (await sessionFor('train', settings.batchSize)) as { session: Session; graph: TrainingGraph };
  let state: Map<string, OrtTensor>;
  try {
    if (first.graph.classes !== classes) {
      throw new XceptionTrainingError(`the training graph has ${first.graph.classes} classes, but the model has ${classes} outputs.`);
    }
    state = initialState(first.graph.state, Tensor);
  } catch (error) {
    await first.session.release();
    throw error;
  }
  /** Buffers of the previous state, which the next step writes its outputs into. */
  let spare = new Map<string, OrtTensor>();
  let step = 0;
  let epoch = 0;
  let disposed = false;
  let queue: Promise<unknown> = Promise.resolve();
  let inCallbacks = 0;

  /**
   * Runs public methods one at a time (each reads and replaces the whole state). From
   * inside fit's callbacks (fit holds the turn), evaluate, predict and syncToModel run at once.
   */
  const exclusive = <T>(name: string, work: () => Promise<T>): Promise<T> => {
    if (inCallbacks > 0) {
      if (name === 'fit' || name === 'trainOnBatch') {
        return Promise.reject(new XceptionTrainingError(`${name} cannot be called from fit's callbacks; set trainer.stopTraining = true and call it once fit has resolved.`));
      }
      return work();
    }
    const run = queue.then(() => {
      if (disposed) throw new XceptionTrainingError(`${name}: the trainer was disposed; create a new one with createOnnxTrainer.`);
      return work();
    });
    queue = run.catch(() => undefined);
    return run;
  };

  /** One step on a prepared batch; replaces the state only when the loss is finite. */
  const trainStep = async (images: Float32Array, labels: Float32Array | BigInt64Array, batch: number) => {
    const { session, graph } = (await sessionFor('train', batch)) as { session: Session; graph: TrainingGraph };
    const rate = settings.learningRate(epoch, step);
    if (!(typeof rate === 'number' && Number.isFinite(rate) && rate >= 0)) {
      throw new XceptionTrainingError(`the learning rate schedule returned ${rate} at epoch ${epoch}, step ${step}; it must return a finite number ≥ 0.`);
    }
    const feeds: Record<string, unknown> = {};
    for (const entry of graph.state) feeds[entry.input] = state.get(entry.input);
    feeds[graph.images] = new Tensor('float32', images, [batch, height, width, channels]);
    feeds[graph.labels] = labelTensor(Tensor, labels, batch, classes);
    feeds[graph.learningRate] = new Tensor('float32', Float32Array.of(rate), []);
    for (const mask of graph.dropoutMasks) {
      const dims = mask.shape.map((d) => (d === 'batch' ? batch : d));
      feeds[mask.input] = new Tensor('float32', dropoutMask(dims, mask.rate, random), dims);
    }
    // onnxruntime-node writes the new state into the spare buffers (pre-allocated outputs): no
    // allocation per step. onnxruntime-web returns pre-allocated CPU outputs unfilled: it allocates.
    const fetches: Record<string, unknown> = { [graph.loss]: null, [graph.logits]: null };
    for (const entry of graph.state) {
      if (entry.output === entry.input) continue;
      if (!fillsPreallocatedOutputs) {
        fetches[entry.output] = null;
        continue;
      }
      let buffer = spare.get(entry.input);
      if (!buffer || buffer.dims.join(',') !== entry.shape.join(',')) buffer = new Tensor('float32', new Float32Array(sizeOf(entry.shape)), entry.shape);
      fetches[entry.output] = buffer;
    }
    const outputs = await session.run(feeds, fetches);
    const loss = Number((outputs[graph.loss]!.data as Float32Array)[0]);
    if (!Number.isFinite(loss)) {
      throw new XceptionTrainingError(
        `the loss became ${loss} at step ${step} (learning rate ${rate}); the step was not applied and the state is as before it. Lower the learning rate.`,
      );
    }
    const next = new Map(state);
    const freed = new Map<string, OrtTensor>();
    for (const entry of graph.state) {
      if (entry.output === entry.input) continue;
      next.set(entry.input, outputs[entry.output]!);
      freed.set(entry.input, state.get(entry.input)!);
    }
    state = next;
    spare = freed;
    step++;
    return { loss, correct: countCorrect(outputs[graph.logits]!.data as Float32Array, labels, batch, classes, sparse) };
  };

  /** Logits of images in runs of `batch`, the last one padded. */
  const logitsOf = async (images: Float32Array, count: number, batch: number): Promise<Float32Array> => {
    const { session, graph } = await sessionFor('eval', batch);
    const logits = new Float32Array(count * classes);
    const zeros = sparse ? new BigInt64Array(batch) : new Float32Array(batch * classes);
    for (let start = 0; start < count; start += batch) {
      const n = Math.min(batch, count - start);
      const chunk = new Float32Array(batch * imageSize);
      chunk.set(images.subarray(start * imageSize, (start + n) * imageSize));
      const feeds: Record<string, unknown> = {};
      for (const entry of graph.state) feeds[entry.input] = state.get(entry.input);
      feeds[graph.images] = new Tensor('float32', chunk, [batch, height, width, channels]);
      feeds[graph.labels] = labelTensor(Tensor, zeros, batch, classes);
      const outputs = await session.run(feeds);
      logits.set((outputs[graph.logits]!.data as Float32Array).subarray(0, n * classes), start * classes);
    }
    return logits;
  };

  const evaluateArrays = async (images: Float32Array, labels: Float32Array | BigInt64Array, count: number, batch: number) => {
    const logits = await logitsOf(images, count, batch);
    return {
      lossSum: crossEntropySum(logits, labels, count, classes, sparse, settings.loss.labelSmoothing ?? 0),
      correct: countCorrect(logits, labels, count, classes, sparse),
      count,
    };
  };

  const evaluateSource = async (source: OnnxBatchSource | [Tensor, Tensor], batch: number) => {
    if (Array.isArray(source)) {
      const [images, labels] = source;
      const data = readBatch(images, labels, 'validationData', inputShape, classes, sparse);
      const result = await evaluateArrays(data.images, data.labels, data.count, batch);
      return { loss: result.lossSum / result.count, acc: result.correct / result.count };
    }
    let [lossSum, correct, count] = [0, 0, 0];
    const iterator = await source.iterator();
    for (let item = await iterator.next(); !item.done; item = await iterator.next()) {
      const { xs, ys } = item.value;
      try {
        const data = readBatch(xs, ys, 'batch', inputShape, classes, sparse);
        const result = await evaluateArrays(data.images, data.labels, data.count, Math.max(batch, data.count));
        (lossSum += result.lossSum), (correct += result.correct), (count += result.count);
      } finally {
        xs.dispose();
        ys.dispose();
      }
    }
    if (count === 0) throw new XceptionTrainingError('evaluate: the batch source yielded no batches.');
    return { loss: lossSum / count, acc: correct / count };
  };

  const syncToModel = async () => {
    const entries = first.graph.state.filter((e) => e.variable && (e.kind === 'trainable' || e.kind === 'movingStatistic'));
    if (isDisposedModel(model)) {
      throw new XceptionTrainingError(
        `syncToModel: the model '${model.name}' has been disposed; the trainer's weights have nowhere to go (predict and evaluate still work).`,
      );
    }
    // All values are computed before any variable is written: all of them change, or none.
    const values = entries.map((entry) => {
      const variable = entry.variable!;
      const { data, shape } = fromOnnxLayout(state.get(entry.input)!.data as Float32Array, entry);
      if (shape.join(',') !== variable.shape.join(',')) {
        throw new XceptionTrainingError(`syncToModel: ${variable.name} has shape [${variable.shape}], but its ONNX state ${entry.input} maps to [${shape}].`);
      }
      return data;
    });
    entries.forEach((entry, i) => {
      const value = tensor(values[i]!, entry.variable!.shape as number[], 'float32');
      entry.variable!.write(value);
      value.dispose();
    });
  };

  const fitLoop = async (
    source: { images: Float32Array; labels: Float32Array | BigInt64Array; count: number } | OnnxBatchSource,
    options: OnnxFitOptions,
  ): Promise<OnnxTrainingHistory> => {
    requireOptionsObject('fit', options, FIT_OPTIONS);
    const { epochs = 1, initialEpoch = 0, shuffle = true, callbacks = {}, verbose = 0 } = options;
    const batch = options.batchSize ?? settings.batchSize;
    checkFitOptions(epochs, initialEpoch, batch, verbose);
    const inMemory = 'count' in source;
    const stepsPerEpoch = inMemory ? Math.ceil(source.count / batch) : undefined;
    const progress = progressDisplay(verbose, options.write, epochs, stepsPerEpoch);
    const history: OnnxTrainingHistory = { epoch: [], history: {} };
    const call = async <A extends unknown[]>(callback: ((...args: A) => unknown) | undefined, ...args: A) => {
      if (!callback) return;
      inCallbacks++;
      try {
        await callback(...args);
      } finally {
        inCallbacks--;
      }
    };
    trainer.stopTraining = false;
    await call(callbacks.onTrainBegin);
    for (let e = initialEpoch; e < epochs && !trainer.stopTraining; e++) {
      epoch = e;
      await call(callbacks.onEpochBegin, e);
      progress.epochBegin(e);
      let [lossSum, correct, count, index] = [0, 0, 0, 0];
      const afterBatch = async (loss: number, right: number, n: number) => {
        (lossSum += loss * n), (correct += right), (count += n);
        const logs: OnnxTrainingLogs = { loss, acc: right / n, size: n };
        progress.batchEnd(index, lossSum / count, correct / count);
        await call(callbacks.onBatchEnd, index++, logs);
      };
      if (inMemory) {
        const order = Array.from({ length: source.count }, (_, i) => i);
        if (shuffle) shuffleInPlace(order, random);
        for (let start = 0; start < source.count && !trainer.stopTraining; start += batch) {
          const picked = order.slice(start, start + batch);
          const { images, labels } = gather(source, picked, imageSize, sparse ? 1 : classes, sparse);
          const { loss, correct: right } = await trainStep(images, labels, picked.length);
          await afterBatch(loss, right, picked.length);
        }
      } else {
        const iterator = await source.iterator();
        for (let item = await iterator.next(); !item.done && !trainer.stopTraining; item = await iterator.next()) {
          const { xs, ys } = item.value;
          try {
            const data = readBatch(xs, ys, 'batch', inputShape, classes, sparse);
            const { loss, correct: right } = await trainStep(data.images, data.labels, data.count);
            await afterBatch(loss, right, data.count);
          } finally {
            xs.dispose();
            ys.dispose();
          }
        }
      }
      if (count === 0) throw new XceptionTrainingError('fit: no batches to train on (the batch source was empty).');
      const logs: OnnxTrainingLogs = { loss: lossSum / count, acc: correct / count };
      if (options.validationData) {
        const validation = await evaluateSource(options.validationData, batch);
        (logs.val_loss = validation.loss), (logs.val_acc = validation.acc);
      }
      history.epoch.push(e);
      for (const [key, value] of Object.entries(logs)) if (value !== undefined) (history.history[key] ??= []).push(value);
      progress.epochEnd(e, logs);
      await call(callbacks.onEpochEnd, e, logs);
    }
    epoch = Math.max(epoch + 1, initialEpoch);
    await syncToModel();
    await call(callbacks.onTrainEnd);
    return history;
  };

  const trainer: OnnxTrainer = {
    inputShape,
    classes,
    get step() {
      return step;
    },
    stopTraining: false,
    trainOnBatch: (images, labels) =>
      exclusive('trainOnBatch', async () => {
        const data = readBatch(images, labels, 'trainOnBatch', inputShape, classes, sparse);
        return (await trainStep(data.images, data.labels, data.count)).loss;
      }),
    fit: ((imagesOrSource: Tensor | OnnxBatchSource, labelsOrOptions?: Tensor | OnnxFitOptions, maybeOptions?: OnnxFitOptions) =>
      exclusive('fit', async () => {
        if (isBatchSource(imagesOrSource)) return fitLoop(imagesOrSource, (labelsOrOptions as OnnxFitOptions | undefined) ?? {});
        const data = readBatch(imagesOrSource, labelsOrOptions as Tensor, 'fit', inputShape, classes, sparse);
        return fitLoop(data, maybeOptions ?? {});
      })) as OnnxTrainer['fit'],
    evaluate: ((imagesOrSource: Tensor | OnnxBatchSource, labels?: Tensor, options: OnnxEvaluateOptions = {}) =>
      exclusive('evaluate', async () => {
        requireOptionsObject('evaluate', options, EVALUATE_OPTIONS);
        const batch = options.batchSize ?? settings.batchSize;
        requireBatchSize(batch, 'evaluate');
        return evaluateSource(isBatchSource(imagesOrSource) ? imagesOrSource : [imagesOrSource, labels!], batch);
      })) as OnnxTrainer['evaluate'],
    predict: (images, options = {}) =>
      exclusive('predict', async () => {
        requireOptionsObject('predict', options, EVALUATE_OPTIONS);
        const batch = options.batchSize ?? settings.batchSize;
        requireBatchSize(batch, 'predict');
        const { values, count } = readImages(images, 'predict', inputShape);
        return tensor2d(softmaxRows(await logitsOf(values, count, batch), classes), [count, classes]);
      }),
    syncToModel: () => exclusive('syncToModel', syncToModel),
    dispose: async () => {
      if (disposed) return;
      await queue;
      if (disposed) return;
      disposed = true;
      const all = await Promise.allSettled(sessions.values());
      sessions.clear();
      state = new Map();
      spare = new Map();
      for (const result of all) if (result.status === 'fulfilled') await result.value.session.release();
    },
  };
  return trainer;
}

/** The model's input shape and class count, refusing what is not an image classifier. */
function describeModel(model: LayersModel): { inputShape: [number, number, number]; classes: number } {
  if (!model || !Array.isArray(model.inputs) || !Array.isArray(model.outputs)) {
    throw new XceptionTrainingError('createOnnxTrainer expects a tf.LayersModel (e.g. from createXception).');
  }
  if (isDisposedModel(model)) {
    throw new XceptionTrainingError(`createOnnxTrainer: the model '${model.name}' has been disposed (its weights were freed); pass a live model.`);
  }
  const input = model.inputs.length === 1 ? model.inputs[0]!.shape : [];
  const output = model.outputs.length === 1 ? model.outputs[0]!.shape : [];
  const [, height, width, channels] = input;
  if (input.length !== 4 || !height || !width || !channels) {
    throw new XceptionTrainingError(`createOnnxTrainer: the model must have one NHWC image input of fixed size; got inputs [${model.inputs.map((i) => `[${i.shape.map((d) => d ?? '?')}]`).join(', ')}].`);
  }
  if (output.length !== 2 || !output[1]) {
    throw new XceptionTrainingError(`createOnnxTrainer: the model must have one [batch, classes] output (a classifier); got outputs [${model.outputs.map((o) => `[${o.shape.map((d) => d ?? '?')}]`).join(', ')}].`);
  }
  return { inputShape: [height, width, channels], classes: output[1] };
}

/** Training state at the start: the model's variables in the graph's layout, zero slots, step 0. */
function initialState(entries: StateEntry[], Tensor: TensorConstructor): Map<string, OrtTensor> {
  const state = new Map<string, OrtTensor>();
  for (const entry of entries) {
    let data: Float32Array;
    if (entry.variable) {
      const variable = entry.variable;
      data = toOnnxLayout(variable.read().dataSync() as Float32Array, variable.shape as number[], entry);
      if (data.length !== sizeOf(entry.shape)) {
        throw new XceptionTrainingError(`${variable.name}: its value has ${data.length} elements, but the graph's ${entry.input} has shape [${entry.shape}].`);
      }
    } else {
      data = new Float32Array(sizeOf(entry.shape)).fill(entry.initial ?? 0);
    }
    state.set(entry.input, new Tensor('float32', data, entry.shape));
  }
  return state;
}

/** A tfjs value in the graph's layout: transposed by `toOnnx.perm`, then reshaped (a new array). */
function toOnnxLayout(values: Float32Array, shape: number[], entry: StateEntry): Float32Array {
  return entry.toOnnx?.perm ? permute(values, shape, entry.toOnnx.perm) : Float32Array.from(values);
}

/** An ONNX value in tfjs' layout: reshaped by `fromOnnx.reshape`, then transposed by `fromOnnx.perm`. */
function fromOnnxLayout(values: Float32Array, entry: StateEntry): { data: Float32Array; shape: number[] } {
  const shape = entry.fromOnnx?.reshape ?? entry.shape;
  const perm = entry.fromOnnx?.perm;
  return perm ? { data: permute(values, shape, perm), shape: perm.map((axis) => shape[axis]!) } : { data: Float32Array.from(values), shape: [...shape] };
}

/**
 * Transposes a row-major array of `shape` (rank ≤ 4) by `perm`, as tf.transpose does, in one
 * pass (tfjs' cpu transpose takes seconds for Xception's largest kernels).
 */
function permute(values: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  if (rank > 4 || perm.length !== rank) throw new XceptionTrainingError(`cannot permute a shape [${shape}] by [${perm}].`);
  const strides = shape.map((_, axis) => shape.slice(axis + 1).reduce((a, b) => a * b, 1));
  // Output axis k walks input axis perm[k]; pad to four axes of size 1 in front.
  const dims = [1, 1, 1, 1];
  const steps = [0, 0, 0, 0];
  perm.forEach((axis, k) => {
    dims[4 - rank + k] = shape[axis]!;
    steps[4 - rank + k] = strides[axis]!;
  });
  const [d0, d1, d2, d3] = dims as [number, number, number, number];
  const [s0, s1, s2, s3] = steps as [number, number, number, number];
  const out = new Float32Array(values.length);
  let o = 0;
  for (let a = 0; a < d0; a++) {
    for (let b = 0; b < d1; b++) {
      for (let c = 0; c < d2; c++) {
        let at = a * s0 + b * s1 + c * s2;
        for (let d = 0; d < d3; d++, at += s3) out[o++] = values[at]!;
      }
    }
  }
  return out;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function labelTensor(Tensor: TensorConstructor, labels: Float32Array | BigInt64Array, batch: number, classes: number): OrtTensor {
  return labels instanceof BigInt64Array ? new Tensor('int64', labels, [batch]) : new Tensor('float32', labels, [batch, classes]);
}

/** Reads and checks a batch of images and labels: shapes, finite values, class ids. */
function readBatch(
  images: Tensor,
  labels: Tensor,
  where: string,
  inputShape: readonly [number, number, number],
  classes: number,
  sparse: boolean,
): { images: Float32Array; labels: Float32Array | BigInt64Array; count: number } {
  const { values, count } = readImages(images, where, inputShape);
  if (!isTensor(labels)) throw new XceptionTrainingError(`${where}: labels must be a tf.Tensor; got ${describe(labels)}.`);
  requireLive(labels, `${where}: labels`);
  const expected = sparse ? `[${count}] (class ids, one per image)` : `[${count}, ${classes}] (one-hot, one row per image)`;
  const shapeOk = sparse
    ? (labels.rank === 1 && labels.shape[0] === count) || (labels.rank === 2 && labels.shape[0] === count && labels.shape[1] === 1)
    : labels.rank === 2 && labels.shape[0] === count && labels.shape[1] === classes;
  if (!shapeOk) throw new XceptionTrainingError(`${where}: labels: expected shape ${expected}; got [${labels.shape}].`);
  const raw = labels.dataSync();
  if (!sparse) {
    const bad = firstNonFinite(raw);
    if (bad >= 0) throw new XceptionTrainingError(`${where}: labels hold ${raw[bad]} at row ${Math.floor(bad / classes)}, column ${bad % classes}; labels must be finite.`);
    return { images: values, labels: Float32Array.from(raw), count };
  }
  const ids = new BigInt64Array(count);
  for (let i = 0; i < count; i++) {
    const id = Number(raw[i]);
    if (!(Number.isInteger(id) && id >= 0 && id < classes)) {
      throw new XceptionTrainingError(`${where}: labels[${i}] is ${id}; class ids must be integers from 0 to ${classes - 1}.`);
    }
    ids[i] = BigInt(id);
  }
  return { images: values, labels: ids, count };
}

function readImages(images: Tensor, where: string, inputShape: readonly [number, number, number]): { values: Float32Array; count: number } {
  if (!isTensor(images)) throw new XceptionTrainingError(`${where}: images must be a tf.Tensor; got ${describe(images)}.`);
  requireLive(images, `${where}: images`);
  const [height, width, channels] = inputShape;
  if (images.rank !== 4 || images.shape[1] !== height || images.shape[2] !== width || images.shape[3] !== channels || images.shape[0] === 0) {
    throw new XceptionTrainingError(`${where}: images: expected shape [batch ≥ 1, ${height}, ${width}, ${channels}] (NHWC, the model's input); got [${images.shape}].`);
  }
  const values = Float32Array.from(images.dataSync());
  const bad = firstNonFinite(values);
  if (bad >= 0) {
    const size = height * width * channels;
    throw new XceptionTrainingError(`${where}: images hold ${values[bad]} in image ${Math.floor(bad / size)} (element ${bad % size}); images must be finite.`);
  }
  return { values, count: images.shape[0]! };
}

function isTensor(value: unknown): value is Tensor {
  return typeof value === 'object' && value !== null && 'shape' in value && 'dataSync' in value && typeof (value as Tensor).dataSync === 'function';
}

function isBatchSource(value: unknown): value is OnnxBatchSource {
  return typeof value === 'object' && value !== null && !isTensor(value) && typeof (value as OnnxBatchSource).iterator === 'function';
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

function firstNonFinite(values: ArrayLike<number | string>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i] as number)) return i;
  return -1;
}

const FIT_OPTIONS = ['epochs', 'initialEpoch', 'batchSize', 'shuffle', 'validationData', 'callbacks', 'verbose', 'write'];
const EVALUATE_OPTIONS = ['batchSize'];

function requireLive(tensor: Tensor, what: string): void {
  if (tensor.isDisposed) throw new XceptionTrainingError(`${what} is a tf.Tensor that has been disposed; pass a live tensor.`);
}


function checkFitOptions(epochs: number, initialEpoch: number, batch: number, verbose: number): void {
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new XceptionTrainingError(`fit: epochs must be a positive integer; got ${epochs}.`);
  if (!(Number.isInteger(initialEpoch) && initialEpoch >= 0 && initialEpoch < epochs)) {
    throw new XceptionTrainingError(`fit: initialEpoch must be an integer from 0 to epochs − 1 (${epochs - 1}); got ${initialEpoch}.`);
  }
  requireBatchSize(batch, 'fit');
  if (![0, 1, 2].includes(verbose)) throw new XceptionTrainingError(`fit: verbose must be 0, 1 or 2; got ${verbose}.`);
}

/** Copies the picked images and labels into one batch. */
function gather(
  source: { images: Float32Array; labels: Float32Array | BigInt64Array },
  picked: number[],
  imageSize: number,
  labelSize: number,
  sparse: boolean,
): { images: Float32Array; labels: Float32Array | BigInt64Array } {
  const images = new Float32Array(picked.length * imageSize);
  const labels = sparse ? new BigInt64Array(picked.length) : new Float32Array(picked.length * labelSize);
  picked.forEach((from, to) => {
    images.set(source.images.subarray(from * imageSize, (from + 1) * imageSize), to * imageSize);
    if (sparse) (labels as BigInt64Array)[to] = (source.labels as BigInt64Array)[from]!;
    else (labels as Float32Array).set((source.labels as Float32Array).subarray(from * labelSize, (from + 1) * labelSize), to * labelSize);
  });
  return { images, labels };
}

function labelOf(labels: Float32Array | BigInt64Array, row: number, classes: number): number {
  if (labels instanceof BigInt64Array) return Number(labels[row]);
  let best = 0;
  for (let c = 1; c < classes; c++) if (labels[row * classes + c]! > labels[row * classes + best]!) best = c;
  return best;
}

function countCorrect(logits: Float32Array, labels: Float32Array | BigInt64Array, count: number, classes: number, _sparse: boolean): number {
  let correct = 0;
  for (let row = 0; row < count; row++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[row * classes + c]! > logits[row * classes + best]!) best = c;
    if (best === labelOf(labels, row, classes)) correct++;
  }
  return correct;
}

/** Σ over rows of the cross-entropy of softmax(logits) against the (smoothed) targets. */
function crossEntropySum(logits: Float32Array, labels: Float32Array | BigInt64Array, count: number, classes: number, sparse: boolean, smoothing: number): number {
  let sum = 0;
  for (let row = 0; row < count; row++) {
    const z = logits.subarray(row * classes, (row + 1) * classes);
    const max = Math.max(...z);
    let norm = 0;
    for (let c = 0; c < classes; c++) norm += Math.exp(z[c]! - max);
    const logNorm = Math.log(norm) + max;
    for (let c = 0; c < classes; c++) {
      const target = sparse ? (Number((labels as BigInt64Array)[row]) === c ? 1 : 0) : (labels as Float32Array)[row * classes + c]!;
      const smoothed = (1 - smoothing) * target + smoothing / classes;
      if (smoothed !== 0) sum -= smoothed * (z[c]! - logNorm);
    }
  }
  return sum;
}

function softmaxRows(logits: Float32Array, classes: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let row = 0; row < logits.length / classes; row++) {
    const z = logits.subarray(row * classes, (row + 1) * classes);
    const max = Math.max(...z);
    let norm = 0;
    for (let c = 0; c < classes; c++) norm += (out[row * classes + c] = Math.exp(z[c]! - max));
    for (let c = 0; c < classes; c++) out[row * classes + c]! /= norm;
  }
  return out;
}

/** Keep masks: 0 with probability `rate`, else 1 / (1 − rate) (inverted dropout, as Keras). */
function dropoutMask(dims: number[], rate: number, random: () => number): Float32Array {
  const mask = new Float32Array(dims.reduce((a, b) => a * b, 1));
  const keep = 1 / (1 - rate);
  for (let i = 0; i < mask.length; i++) mask[i] = random() < rate ? 0 : keep;
  return mask;
}

function shuffleInPlace(order: number[], random: () => number): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
}

/** mulberry32: a small seeded generator of uniform numbers in [0, 1). */
function seededRandom(seed: number): () => number {
  let a = Math.floor(seed) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

