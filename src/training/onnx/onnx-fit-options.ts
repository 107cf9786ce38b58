import type * as tf from '@tensorflow/tfjs-core';

/**
 * What {@link OnnxTrainer.fit}'s callbacks and history report: the mean loss
 * and accuracy over the batches (or the epoch), and after an epoch with
 * validation data `val_loss` and `val_acc` — the names TensorFlow.js' `History` uses.
 *
 * @example
 * ```ts
 * const onEpochEnd = (epoch: number, logs: OnnxTrainingLogs) =>
 *   console.log(`epoch ${epoch + 1}: loss ${logs.loss.toFixed(3)}, val_acc ${logs.val_acc?.toFixed(3)}`);
 * ```
 * @category Training
 */
export interface OnnxTrainingLogs {
  /** Mean loss (the graph's loss: cross-entropy, with label smoothing when set). */
  loss: number;
  /** Fraction of images whose highest logit is their label. */
  acc: number;
  /** Loss on the validation data (after an epoch, when `validationData` is set). */
  val_loss?: number;
  /** Accuracy on the validation data (after an epoch, when `validationData` is set). */
  val_acc?: number;
  /** Images in the batch (`onBatchEnd` only). */
  size?: number;
}

/**
 * Callbacks of {@link OnnxTrainer.fit}; each may be async (fit awaits it). Set
 * `trainer.stopTraining = true` in one to end `fit` after the current batch.
 *
 * @example
 * ```ts
 * const callbacks: OnnxTrainingCallbacks = {
 *   onBatchEnd: (batch, logs) => console.log(batch, logs.loss),
 *   onEpochEnd: async (epoch, logs) => { if (logs.val_acc! > 0.99) trainer.stopTraining = true; },
 * };
 * ```
 * @category Training
 */
export interface OnnxTrainingCallbacks {
  /** Before the first epoch. */
  onTrainBegin?: () => void | Promise<void>;
  /** Before each epoch (0-based, counted from `initialEpoch`). */
  onEpochBegin?: (epoch: number) => void | Promise<void>;
  /** After each training step: the batch's index in the epoch and its loss and accuracy. */
  onBatchEnd?: (batch: number, logs: OnnxTrainingLogs) => void | Promise<void>;
  /** After each epoch (and its validation): the epoch's mean loss and accuracy, and `val_*`. */
  onEpochEnd?: (epoch: number, logs: OnnxTrainingLogs) => void | Promise<void>;
  /** After the last epoch, once the weights are back in the tfjs model. */
  onTrainEnd?: () => void | Promise<void>;
}

/**
 * Batches for {@link OnnxTrainer.fit} and {@link OnnxTrainer.evaluate}: a
 * `tf.data` dataset (or any async-iterable source with an `iterator()`) of
 * `{ xs, ys }` batches, as `model.fitDataset` takes. `fit` disposes the
 * tensors of each batch after using them.
 *
 * @example
 * ```ts
 * const batches: OnnxBatchSource = tf.data.zip({ xs: images, ys: labels }).batch(16);
 * ```
 * @category Training
 */
export interface OnnxBatchSource {
  /** A fresh iterator over the batches (called once per epoch). */
  iterator(): Promise<OnnxBatchIterator>;
}

/**
 * What {@link OnnxBatchSource.iterator} resolves to (a `tf.data` iterator has this shape).
 *
 * @example
 * ```ts
 * const iterator: OnnxBatchIterator = await dataset.iterator();
 * for (let item = await iterator.next(); !item.done; item = await iterator.next()) console.log(item.value.xs.shape);
 * ```
 * @category Training
 */
export interface OnnxBatchIterator {
  /** The next batch, or `{ done: true }` after the last. */
  next(): Promise<IteratorResult<OnnxBatch>>;
}

/**
 * One batch of an {@link OnnxBatchSource}.
 *
 * @example
 * ```ts
 * const batch: OnnxBatch = { xs: tf.zeros([8, 32, 32, 3]), ys: tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32'), 4) };
 * ```
 * @category Training
 */
export interface OnnxBatch {
  /** Images NHWC `[batch, height, width, channels]`. */
  xs: tf.Tensor;
  /** Labels: one-hot `[batch, classes]`, or class ids `[batch]` with the sparse loss. */
  ys: tf.Tensor;
}

/**
 * Options of {@link OnnxTrainer.fit}.
 *
 * @example
 * ```ts
 * const options: OnnxFitOptions = { epochs: 10, batchSize: 16, validationData: [valImages, valLabels], verbose: 1 };
 * ```
 * @category Training
 */
export interface OnnxFitOptions {
  /** Epochs to train (up to, with `initialEpoch`). Default 1. */
  epochs?: number;
  /** The epoch to start from, when resuming (epochs are numbered from it). Default 0. */
  initialEpoch?: number;
  /** Images per step (tensor input only; a dataset is already batched). Default: the trainer's `batchSize`. */
  batchSize?: number;
  /** Shuffle the images each epoch (tensor input only), with the trainer's seed. Default true. */
  shuffle?: boolean;
  /** `[images, labels]` or a batch source, evaluated after each epoch (`val_loss`, `val_acc`). */
  validationData?: [tf.Tensor, tf.Tensor] | OnnxBatchSource;
  /** See {@link OnnxTrainingCallbacks}. */
  callbacks?: OnnxTrainingCallbacks;
  /**
   * Progress display: 0 none, 1 a line per epoch plus a bar updated in place
   * while it runs (on a terminal; elsewhere the line only), 2 a line per
   * epoch. Written to `write` (default: `process.stderr` in Node, `console.log`
   * elsewhere). Default 0.
   */
  verbose?: 0 | 1 | 2;
  /** Where the progress display goes. Default: see `verbose`. */
  write?: (text: string) => void;
}

/**
 * {@link OnnxTrainer.fit}'s result, shaped like TensorFlow.js' `History`: the
 * epochs trained and, per key of {@link OnnxTrainingLogs}, one value per epoch.
 *
 * @example
 * ```ts
 * const { history } = await trainer.fit(images, labels, { epochs: 5 });
 * console.log(history.loss, history.val_acc);
 * ```
 * @category Training
 */
export interface OnnxTrainingHistory {
  /** The epochs trained, e.g. `[0, 1, 2]`. */
  epoch: number[];
  /** `loss`, `acc` and (with validation data) `val_loss`, `val_acc`, one value per epoch. */
  history: Record<string, number[]>;
}

/**
 * Options of {@link OnnxTrainer.evaluate} and {@link OnnxTrainer.predict}.
 *
 * @example
 * ```ts
 * const { loss, acc } = await trainer.evaluate(testImages, testLabels, { batchSize: 64 });
 * ```
 * @category Training
 */
export interface OnnxEvaluateOptions {
  /** Images per session run. Default: the trainer's `batchSize`. */
  batchSize?: number;
}

/**
 * {@link OnnxTrainer.evaluate}'s result.
 *
 * @example
 * ```ts
 * const { loss, acc }: OnnxEvaluation = await trainer.evaluate(testImages, testLabels);
 * ```
 * @category Training
 */
export interface OnnxEvaluation {
  /** Mean loss over the images (with label smoothing when the trainer's loss has it). */
  loss: number;
  /** Fraction of images whose highest logit is their label. */
  acc: number;
}
