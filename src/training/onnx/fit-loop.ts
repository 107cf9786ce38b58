// The epochs of OnnxTrainer.fit: batches, callbacks, validation, history, progress.
import { XceptionTrainingError } from '../../errors.js';
import { gather, readBatch, type LabelledArrays } from './batch-input.js';
import type { OnnxBatchSource, OnnxFitOptions, OnnxTrainingHistory, OnnxTrainingLogs } from './onnx-fit-options.js';
import { requireBatchSize, requireOptionsObject } from './onnx-trainer-options.js';
import { shuffleInPlace } from './seeded-random.js';
import type { TrainingEngine } from './training-engine.js';
import { progressDisplay } from './training-progress.js';

/** What the fit loop needs from the trainer around it. @internal */
export interface FitContext {
  engine: TrainingEngine;
  /** The batch size when `fit`'s options name none. */
  defaultBatchSize: number;
  /** The generator that shuffles each epoch. */
  random: () => number;
  /** The flag a callback sets to end training after the current batch. */
  control: { stopTraining: boolean };
  /** Runs a user callback (the trainer lets evaluate/predict/syncToModel through meanwhile). */
  runCallback<A extends unknown[]>(callback: ((...args: A) => unknown) | undefined, ...args: A): Promise<void>;
}

const FIT_OPTIONS = ['epochs', 'initialEpoch', 'batchSize', 'shuffle', 'validationData', 'callbacks', 'verbose', 'write'];

/**
 * Trains for `options.epochs` over in-memory arrays (shuffled each epoch) or a batch source
 * (re-iterated each epoch), then writes the weights back into the model. @internal
 */
export async function runFit(context: FitContext, source: LabelledArrays | OnnxBatchSource, options: OnnxFitOptions): Promise<OnnxTrainingHistory> {
  const { engine, control, random, runCallback: call } = context;
  requireOptionsObject('fit', options, FIT_OPTIONS);
  const { epochs = 1, initialEpoch = 0, shuffle = true, callbacks = {}, verbose = 0 } = options;
  const batch = options.batchSize ?? context.defaultBatchSize;
  checkFitOptions(epochs, initialEpoch, batch, verbose);
  const inMemory = 'count' in source;
  const stepsPerEpoch = inMemory ? Math.ceil(source.count / batch) : undefined;
  const progress = progressDisplay(verbose, options.write, epochs, stepsPerEpoch);
  const history: OnnxTrainingHistory = { epoch: [], history: {} };
  const [height, width, channels] = engine.spec.inputShape;
  const imageSize = height * width * channels;
  control.stopTraining = false;
  await call(callbacks.onTrainBegin);
  for (let e = initialEpoch; e < epochs && !control.stopTraining; e++) {
    engine.epoch = e;
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
      for (let start = 0; start < source.count && !control.stopTraining; start += batch) {
        const picked = order.slice(start, start + batch);
        const { images, labels } = gather(source, picked, imageSize, engine.spec.classes);
        const { loss, correct: right } = await engine.trainStep(images, labels, picked.length);
        await afterBatch(loss, right, picked.length);
      }
    } else {
      const iterator = await source.iterator();
      for (let item = await iterator.next(); !item.done && !control.stopTraining; item = await iterator.next()) {
        const { xs, ys } = item.value;
        try {
          const data = readBatch(xs, ys, 'batch', engine.spec);
          const { loss, correct: right } = await engine.trainStep(data.images, data.labels, data.count);
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
      const validation = await engine.evaluate(options.validationData, batch);
      (logs.val_loss = validation.loss), (logs.val_acc = validation.acc);
    }
    history.epoch.push(e);
    for (const [key, value] of Object.entries(logs)) if (value !== undefined) (history.history[key] ??= []).push(value);
    progress.epochEnd(e, logs);
    await call(callbacks.onEpochEnd, e, logs);
  }
  engine.epoch = Math.max(engine.epoch + 1, initialEpoch);
  await engine.syncToModel();
  await call(callbacks.onTrainEnd);
  return history;
}

function checkFitOptions(epochs: number, initialEpoch: number, batch: number, verbose: number): void {
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new XceptionTrainingError(`fit: epochs must be a positive integer; got ${epochs}.`);
  if (!(Number.isInteger(initialEpoch) && initialEpoch >= 0 && initialEpoch < epochs)) {
    throw new XceptionTrainingError(`fit: initialEpoch must be an integer from 0 to epochs − 1 (${epochs - 1}); got ${initialEpoch}.`);
  }
  requireBatchSize(batch, 'fit');
  if (![0, 1, 2].includes(verbose)) throw new XceptionTrainingError(`fit: verbose must be 0, 1 or 2; got ${verbose}.`);
}
