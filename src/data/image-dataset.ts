import { tensor1d, tensor2d, tensor4d, type Tensor, type Tensor4D } from '@tensorflow/tfjs-core';
import { XceptionDataError } from '../errors.js';
import { CENTRED, sampleImage, type Placement, type PixelScale, type SourcePixels } from './image-sampler.js';
import { seededRandom, shuffleInPlace } from '../training/onnx/seeded-random.js';

/**
 * One batch of an {@link ImageDataset}: images NHWC `[batch, height, width,
 * channels]` and labels, one-hot `[batch, classes]` (or class ids `[batch]`
 * with `labelMode: 'int'`). Whoever takes a batch disposes it (`model.fitDataset`
 * and the ONNX trainer's `fit` do).
 *
 * @example
 * ```ts
 * const { value } = await (await dataset.iterator()).next();
 * console.log(value.xs.shape, value.ys.shape); // [32, 64, 64, 3] [32, 5]
 * ```
 * @category Data
 */
export interface ImageBatch {
  /** Images, `[batch, height, width, channels]`, float32, scaled as `preprocess` says. */
  xs: Tensor4D;
  /** Labels: one-hot `[batch, classes]` float32, or class ids `[batch]` int32. */
  ys: Tensor;
}

/**
 * What {@link ImageDataset.iterator} resolves to: the batches of one epoch.
 *
 * @example
 * ```ts
 * const iterator: ImageBatchIterator = await dataset.iterator();
 * for (let item = await iterator.next(); !item.done; item = await iterator.next()) item.value.xs.dispose();
 * ```
 * @category Data
 */
export interface ImageBatchIterator {
  /** The next batch, or `{ done: true }` after the last. */
  next(): Promise<IteratorResult<ImageBatch>>;
}

/**
 * Labelled images served in batches, decoded and resized as they are asked
 * for. It is a `tf.data`-like dataset: pass it to `model.fitDataset` (tfjs)
 * or to the ONNX trainer's `fit`/`evaluate` as it is; each `iterator()` is a
 * new epoch (a new seeded order and new augmentations when shuffling).
 * `toTensors()` loads it whole for `model.fit`.
 *
 * @example
 * ```ts
 * import { imageDatasetFromDirectory } from 'xception-ts';
 *
 * const { train, validation } = await imageDatasetFromDirectory('./photos', { imageSize: 64, validationSplit: 0.2 });
 * await model.fitDataset(train, { epochs: 5, validationData: validation });
 * ```
 * @category Data
 */
export interface ImageDataset {
  /** The class names, in label order. */
  readonly classNames: readonly string[];
  /**
   * Images per epoch (before any bad file is skipped). (Not `count`: the ONNX
   * trainer's `fit` reads an object with `count` as in-memory arrays.)
   */
  readonly imageCount: number;
  /** Batches per epoch: what `model.fitDataset` reads as the dataset's size. */
  readonly size: number;
  /** Images per batch (the last batch may hold fewer). */
  readonly batchSize: number;
  /** `[height, width, channels]` of every image. */
  readonly imageShape: readonly [number, number, number];
  /** The batches of a new epoch. */
  iterator(): Promise<ImageBatchIterator>;
  /** The same, for `for await (const { xs, ys } of dataset)`. */
  [Symbol.asyncIterator](): AsyncIterator<ImageBatch>;
  /**
   * Every image and label at once (one epoch, in the dataset's order), for
   * `model.fit`; refuses more than 1 GiB of float32 images.
   */
  toTensors(): Promise<ImageBatch>;
}

/**
 * How the images of a dataset become batches; shared by
 * {@link imageDatasetFromDirectory} and {@link loadIdxDataset}.
 *
 * @example
 * ```ts
 * const options: ImageBatchOptions = { batchSize: 64, seed: 7, augment: { flip: true, crop: 0.1 }, labelMode: 'categorical' };
 * ```
 * @category Data
 */
export interface ImageBatchOptions {
  /** Images per batch. @defaultValue `32` (Keras') */
  batchSize?: number;
  /** Shuffle the training images each epoch (validation data is never shuffled). @defaultValue `true` */
  shuffle?: boolean;
  /** Seed of the split, the shuffling and the augmentations. @defaultValue `1` */
  seed?: number;
  /**
   * Augment the training images (never the validation ones): `flip` mirrors
   * half of them left–right; `crop` zooms by up to 1 + crop and cuts the
   * output at a random place (or, for images centred on a larger canvas,
   * shifts them by up to crop·size/2 pixels). `true` is `{ flip: true, crop: 0.1 }`.
   * @defaultValue `false`
   */
  augment?: boolean | {
    /** Mirror half of the images left–right. @defaultValue `false` */
    flip?: boolean;
    /** Zoom by up to 1 + crop and cut at a random place, from 0 (none) to 1. @defaultValue `0` */
    crop?: number;
  };
  /** `'categorical'`: one-hot `[batch, classes]`; `'int'`: class ids `[batch]`. @defaultValue `'categorical'` */
  labelMode?: 'categorical' | 'int';
  /** `'xception'`: pixels scaled to [−1, 1] (Xception's `preprocessInput`); `'none'`: 0–255, as Keras yields them. @defaultValue `'xception'` */
  preprocess?: 'xception' | 'none';
}

/** The option names of {@link ImageBatchOptions}. @internal */
export const IMAGE_BATCH_OPTIONS = ['batchSize', 'shuffle', 'seed', 'augment', 'labelMode', 'preprocess'] as const;

/** {@link ImageBatchOptions} with defaults applied and checked. @internal */
export interface ResolvedBatchOptions {
  batchSize: number;
  shuffle: boolean;
  seed: number;
  augment: { flip: boolean; crop: number } | undefined;
  labelMode: 'categorical' | 'int';
  preprocess: PixelScale;
}

const MAX_BATCH_SIZE = 65_536;
const MAX_IN_MEMORY_BYTES = 2 ** 30;

/** Applies the defaults of {@link ImageBatchOptions}, refusing bad values in `what`'s terms. @internal */
export function resolveBatchOptions(what: string, options: ImageBatchOptions): ResolvedBatchOptions {
  const { batchSize = 32, shuffle = true, seed = 1, augment = false, labelMode = 'categorical', preprocess = 'xception' } = options;
  const fail = (message: string) => new XceptionDataError(`${what}: ${message}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= MAX_BATCH_SIZE)) {
    throw fail(`batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}; got ${JSON.stringify(batchSize)}.`);
  }
  if (typeof shuffle !== 'boolean') throw fail(`shuffle must be true or false; got ${JSON.stringify(shuffle)}.`);
  if (!Number.isFinite(seed)) throw fail(`seed must be a finite number; got ${JSON.stringify(seed)}.`);
  if (labelMode !== 'categorical' && labelMode !== 'int') throw fail(`labelMode must be 'categorical' or 'int'; got ${JSON.stringify(labelMode)}.`);
  if (preprocess !== 'xception' && preprocess !== 'none') throw fail(`preprocess must be 'xception' or 'none'; got ${JSON.stringify(preprocess)}.`);
  let resolved: ResolvedBatchOptions['augment'];
  if (augment === true) resolved = { flip: true, crop: 0.1 };
  else if (augment !== false && augment !== undefined) {
    if (typeof augment !== 'object' || augment === null || Object.keys(augment).some((k) => k !== 'flip' && k !== 'crop')) {
      throw fail(`augment must be true, false or { flip?: boolean, crop?: number }; got ${JSON.stringify(augment)}.`);
    }
    const crop = augment.crop ?? 0;
    if (!(typeof crop === 'number' && crop >= 0 && crop <= 1)) throw fail(`augment.crop must be a number from 0 to 1; got ${JSON.stringify(augment.crop)}.`);
    resolved = { flip: augment.flip === true, crop };
  }
  return { batchSize, shuffle, seed, augment: resolved, labelMode, preprocess };
}

/** What a dataset is made of: its images by index, their labels, and how to fit them. @internal */
export interface DatasetParts {
  classNames: readonly string[];
  /** The images' indices into `load` and `labelOf`, in the dataset's order. */
  indices: readonly number[];
  labelOf(index: number): number;
  /** The image's pixels at `channels`, or undefined when it was skipped (a bad file). */
  load(index: number): Promise<SourcePixels | undefined>;
  imageShape: readonly [number, number, number];
  fit: 'resize' | 'pad';
  /** Whether this is training data (shuffled and augmented as the options say). */
  training: boolean;
}

/** Builds an {@link ImageDataset} over `parts`. @internal */
export function createImageDataset(parts: DatasetParts, options: ResolvedBatchOptions): ImageDataset {
  const [height, width, channels] = parts.imageShape;
  const classes = parts.classNames.length;
  const perImage = height * width * channels;
  const { batchSize, labelMode, preprocess } = options;
  const augment = parts.training ? options.augment : undefined;
  let epoch = 0;

  /** Fills the images of `order[from…]` into `xs`/`ys` until `limit` are filled; returns [filled, next position]. */
  const fill = async (order: readonly number[], from: number, limit: number, xs: Float32Array, ys: Float32Array | Int32Array, random: () => number) => {
    let filled = 0;
    let at = from;
    while (filled < limit && at < order.length) {
      const wanted = Math.min(limit - filled, order.length - at);
      const picked = order.slice(at, at + wanted);
      at += wanted;
      const images = await Promise.all(picked.map((index) => parts.load(index)));
      images.forEach((image, k) => {
        if (!image) return;
        const placement: Placement = augment
          ? { zoom: 1 + augment.crop, top: random(), left: random(), flip: augment.flip && random() < 0.5 }
          : CENTRED;
        sampleImage(image, xs, filled * perImage, { height, width, channels }, placement, parts.fit, preprocess);
        const label = parts.labelOf(picked[k]!);
        if (labelMode === 'int') ys[filled] = label;
        else ys[filled * classes + label] = 1;
        filled++;
      });
    }
    return [filled, at] as const;
  };

  const labels = (n: number) => (labelMode === 'int' ? new Int32Array(n) : new Float32Array(n * classes));
  const labelTensor = (ys: Float32Array | Int32Array, n: number) =>
    labelMode === 'int' ? tensor1d(ys.subarray(0, n) as Int32Array, 'int32') : tensor2d(ys.subarray(0, n * classes) as Float32Array, [n, classes]);

  const iterator = async (): Promise<ImageBatchIterator> => {
    const random = seededRandom(options.seed + 7919 * epoch++);
    const order = ordered(parts, options.shuffle, random);
    let position = 0;
    return {
      async next() {
        if (position >= order.length) return { done: true, value: undefined };
        const xs = new Float32Array(batchSize * perImage);
        const ys = labels(batchSize);
        const [filled, next] = await fill(order, position, batchSize, xs, ys, random);
        position = next;
        if (filled === 0) return { done: true, value: undefined };
        return { done: false, value: { xs: tensor4d(xs.subarray(0, filled * perImage), [filled, height, width, channels]), ys: labelTensor(ys, filled) } };
      },
    };
  };

  return {
    classNames: parts.classNames,
    imageCount: parts.indices.length,
    size: Math.ceil(parts.indices.length / batchSize),
    batchSize,
    imageShape: parts.imageShape,
    iterator,
    [Symbol.asyncIterator]() {
      let current: Promise<ImageBatchIterator> | undefined;
      return { next: async () => (await (current ??= iterator())).next() };
    },
    async toTensors() {
      const count = parts.indices.length;
      if (count * perImage * 4 > MAX_IN_MEMORY_BYTES) {
        throw new XceptionDataError(
          `toTensors: ${count} images of ${height}×${width}×${channels} take ${Math.ceil((count * perImage * 4) / 2 ** 20)} MiB as float32, above 1 GiB; train from the dataset itself (model.fitDataset, or the ONNX trainer's fit) instead.`,
        );
      }
      const random = seededRandom(options.seed + 7919 * epoch++);
      const order = ordered(parts, options.shuffle, random);
      const xs = new Float32Array(count * perImage);
      const ys = labels(count);
      const [filled] = await fill(order, 0, count, xs, ys, random);
      return { xs: tensor4d(xs.subarray(0, filled * perImage), [filled, height, width, channels]), ys: labelTensor(ys, filled) };
    },
  };
}

/** The epoch's order of the images: shuffled for training data (when asked), else as given. */
function ordered(parts: DatasetParts, shuffle: boolean, random: () => number): readonly number[] {
  if (!(parts.training && shuffle)) return parts.indices;
  const order = [...parts.indices];
  shuffleInPlace(order, random);
  return order;
}
