// Reading and checking the images and labels handed to the trainer, and gathering batches of them.
import type { Tensor } from '@tensorflow/tfjs-core';
import { XceptionTrainingError } from '../../errors.js';
import type { OnnxBatchSource } from './onnx-fit-options.js';

/** Images (NHWC float32, row-major) and labels (one-hot float32 or int64 class ids) of `count` examples. @internal */
export interface LabelledArrays {
  images: Float32Array;
  labels: Float32Array | BigInt64Array;
  count: number;
}

/** What a batch must look like: the model's input and class count, and the loss' label form. @internal */
export interface BatchSpec {
  inputShape: readonly [number, number, number];
  classes: number;
  sparse: boolean;
}

/** Reads and checks a batch of images and labels: shapes, finite values, class ids. @internal */
export function readBatch(images: Tensor, labels: Tensor, where: string, spec: BatchSpec): LabelledArrays {
  const { inputShape, classes, sparse } = spec;
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

/** Reads and checks a batch of NHWC images of the model's input shape, all finite. @internal */
export function readImages(images: Tensor, where: string, inputShape: readonly [number, number, number]): { values: Float32Array; count: number } {
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

/** Copies the picked examples into one batch. @internal */
export function gather(source: LabelledArrays, picked: number[], imageSize: number, classes: number): { images: Float32Array; labels: Float32Array | BigInt64Array } {
  const sparse = source.labels instanceof BigInt64Array;
  const labelSize = sparse ? 1 : classes;
  const images = new Float32Array(picked.length * imageSize);
  const labels = sparse ? new BigInt64Array(picked.length) : new Float32Array(picked.length * labelSize);
  picked.forEach((from, to) => {
    images.set(source.images.subarray(from * imageSize, (from + 1) * imageSize), to * imageSize);
    if (sparse) (labels as BigInt64Array)[to] = (source.labels as BigInt64Array)[from]!;
    else (labels as Float32Array).set((source.labels as Float32Array).subarray(from * labelSize, (from + 1) * labelSize), to * labelSize);
  });
  return { images, labels };
}

/** Whether a value is a tfjs tensor (duck-typed: two copies of tfjs-core may be loaded). @internal */
export function isTensor(value: unknown): value is Tensor {
  return typeof value === 'object' && value !== null && 'shape' in value && 'dataSync' in value && typeof (value as Tensor).dataSync === 'function';
}

/** Whether a value is a batch source (an object with `iterator()`, e.g. a tf.data dataset). @internal */
export function isBatchSource(value: unknown): value is OnnxBatchSource {
  return typeof value === 'object' && value !== null && !isTensor(value) && typeof (value as OnnxBatchSource).iterator === 'function';
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

/** The index of the first value that is not a finite number, or −1. @internal */
export function firstNonFinite(values: ArrayLike<number | string>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i] as number)) return i;
  return -1;
}

function requireLive(tensor: Tensor, what: string): void {
  if (tensor.isDisposed) throw new XceptionTrainingError(`${what} is a tf.Tensor that has been disposed; pass a live tensor.`);
}
