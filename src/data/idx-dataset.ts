import { requireKnownOptions } from '../model/xception-options.js';
import { XceptionDataError } from '../errors.js';
import { importNode, isNode } from '../platform/node-import.js';
import { parseIdx, type IdxArray } from './idx-file.js';
import { createImageDataset, IMAGE_BATCH_OPTIONS, resolveBatchOptions, type ImageBatchOptions, type ImageDataset } from './image-dataset.js';
import { requireImageSize } from './image-size.js';

/**
 * Options of {@link loadIdxDataset}: the batch options, and how the IDX
 * images become the model's input.
 *
 * @example
 * ```ts
 * const options: IdxDatasetOptions = { imageSize: 32, channels: 1, batchSize: 64, augment: true, maxImages: 10_000 };
 * ```
 * @category Data
 */
export interface IdxDatasetOptions extends ImageBatchOptions {
  /** Output size, `size` or `[height, width]`. @defaultValue the files' own (28×28 for MNIST) */
  imageSize?: number | readonly [number, number];
  /** 1 (gray, as stored) or 3 (gray repeated as RGB). @defaultValue `1` */
  channels?: 1 | 3;
  /**
   * `'pad'` centres each image on a larger canvas of zeros (28×28 on 32×32
   * keeps every pixel), `'resize'` stretches it (bilinear). An output smaller
   * than the images is always resized. @defaultValue `'pad'`
   */
  fit?: 'pad' | 'resize';
  /** Transpose each image: EMNIST stores its images column by column. @defaultValue `false` */
  transpose?: boolean;
  /** Use only the first N images of each split. @defaultValue all */
  maxImages?: number;
  /** Names of the classes, in label order. @defaultValue `'0'`, `'1'`, … up to the largest label */
  classNames?: readonly string[];
  /** The largest file (and, gzipped, the largest inflated content) accepted, in bytes. @defaultValue 1 GiB */
  maxBytes?: number;
}

/**
 * The files of an IDX data set, for {@link loadIdxDataset}: training images
 * and labels, and optionally the test split.
 *
 * @example
 * ```ts
 * const files: IdxFiles = { images: 'emnist-letters-train-images-idx3-ubyte.gz', labels: 'emnist-letters-train-labels-idx1-ubyte.gz' };
 * ```
 * @category Data
 */
export interface IdxFiles {
  /** The training images, e.g. `train-images-idx3-ubyte.gz`. */
  images: string;
  /** Their labels, e.g. `train-labels-idx1-ubyte.gz`. */
  labels: string;
  /** The test images (optional), e.g. `t10k-images-idx3-ubyte.gz`. */
  testImages?: string;
  /** Their labels (with `testImages`). */
  testLabels?: string;
}

/**
 * What {@link loadIdxDataset} returns: the training split and, when its files
 * are there, the test split, as {@link ImageDataset}s.
 *
 * @example
 * ```ts
 * const { train, test, classNames }: IdxDataset = await loadIdxDataset('/usr/share/datasets/fashion-mnist');
 * ```
 * @category Data
 */
export interface IdxDataset {
  /** The training images (shuffled and augmented as the options say). */
  train: ImageDataset;
  /** The test images (`t10k-…` or `test-…` files), in file order; undefined when absent. */
  test: ImageDataset | undefined;
  /** The class names, in label order. */
  classNames: readonly string[];
}

const KNOWN_OPTIONS = [...IMAGE_BATCH_OPTIONS, 'imageSize', 'channels', 'fit', 'transpose', 'maxImages', 'classNames', 'maxBytes'];
const DEFAULT_MAX_BYTES = 2 ** 30;

/**
 * Loads a data set in the IDX format of MNIST, Fashion-MNIST, KMNIST and
 * EMNIST (gzipped or not) from a folder holding `train-images-idx3-ubyte(.gz)`,
 * `train-labels-idx1-ubyte(.gz)` and optionally `t10k-…` (or `test-…`) files,
 * or from the files named one by one. The bytes stay in memory (47 MB for
 * Fashion-MNIST); images become float32 only batch by batch. Node only.
 *
 * @param source - A folder, or {@link IdxFiles}.
 * @param options - See {@link IdxDatasetOptions}.
 * @throws {@link XceptionDataError} for a missing file, a header that is not
 *   IDX's or does not match the file's length, images and labels that do not
 *   pair up, a file above `maxBytes`, or a bad option value; {@link XceptionConfigError} for an unknown option.
 *
 * @example
 * ```ts
 * import { createXception, loadIdxDataset } from 'xception-ts';
 * import { createOnnxTrainer } from 'xception-ts/onnx';
 *
 * const { train, test } = await loadIdxDataset('/usr/share/datasets/fashion-mnist', { imageSize: 32, batchSize: 64, augment: true });
 * const model = createXception({ preset: 'tiny', inputShape: [32, 32, 1], numClasses: 10 });
 * const trainer = await createOnnxTrainer(model, { batchSize: 64 });
 * await trainer.fit(train, { epochs: 1, validationData: test });
 * ```
 * @category Data
 */
export async function loadIdxDataset(source: string | IdxFiles, options: IdxDatasetOptions = {}): Promise<IdxDataset> {
  requireKnownOptions('loadIdxDataset', options, KNOWN_OPTIONS);
  const batch = resolveBatchOptions('loadIdxDataset', options);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!(Number.isSafeInteger(maxBytes) && maxBytes > 0)) throw new XceptionDataError(`loadIdxDataset: maxBytes must be a positive integer; got ${JSON.stringify(options.maxBytes)}.`);
  const maxImages = options.maxImages ?? Number.POSITIVE_INFINITY;
  if (!(maxImages === Number.POSITIVE_INFINITY || (Number.isInteger(maxImages) && maxImages >= 1))) {
    throw new XceptionDataError(`loadIdxDataset: maxImages must be a positive integer; got ${JSON.stringify(options.maxImages)}.`);
  }
  if (!isNode()) throw new XceptionDataError('loadIdxDataset reads files, which needs Node.');
  const files = typeof source === 'string' ? await findIdxFiles(source) : source;
  const trainSplit = await readSplit(files.images, files.labels, maxBytes, maxImages);
  const testSplit = files.testImages && files.testLabels ? await readSplit(files.testImages, files.testLabels, maxBytes, maxImages) : undefined;
  if (testSplit && (testSplit.rows !== trainSplit.rows || testSplit.columns !== trainSplit.columns)) {
    throw new XceptionDataError(`${files.testImages}: images of ${testSplit.rows}×${testSplit.columns}, but the training images are ${trainSplit.rows}×${trainSplit.columns}.`);
  }
  const largest = Math.max(trainSplit.largestLabel, testSplit?.largestLabel ?? 0);
  const classNames = options.classNames ? [...options.classNames] : Array.from({ length: largest + 1 }, (_, i) => String(i));
  if (largest >= classNames.length) {
    throw new XceptionDataError(`${files.labels}: label ${largest} is beyond the ${classNames.length} classNames given (labels count from 0).`);
  }
  const [rows, columns] = options.transpose ? [trainSplit.columns, trainSplit.rows] : [trainSplit.rows, trainSplit.columns];
  const [height, width] = options.imageSize === undefined ? [rows, columns] : requireImageSize('loadIdxDataset', options.imageSize);
  const channels = options.channels ?? 1;
  if (channels !== 1 && channels !== 3) throw new XceptionDataError(`loadIdxDataset: channels must be 1 or 3; got ${JSON.stringify(options.channels)}.`);
  const fit = options.fit ?? 'pad';
  if (fit !== 'pad' && fit !== 'resize') throw new XceptionDataError(`loadIdxDataset: fit must be 'pad' or 'resize'; got ${JSON.stringify(options.fit)}.`);
  const dataset = (split: Split, training: boolean) =>
    createImageDataset(
      {
        classNames,
        indices: Array.from({ length: split.count }, (_, i) => i),
        labelOf: (i) => split.labels[i]!,
        load: async (i) => ({ data: imageAt(split, i, options.transpose === true), width: columns, height: rows, channels: 1 }),
        imageShape: [height, width, channels],
        fit,
        training,
      },
      batch,
    );
  return { train: dataset(trainSplit, true), test: testSplit && dataset(testSplit, false), classNames };
}


interface Split {
  count: number;
  rows: number;
  columns: number;
  pixels: Uint8Array;
  labels: Uint8Array;
  largestLabel: number;
}

function imageAt(split: Split, index: number, transpose: boolean): Uint8Array {
  const size = split.rows * split.columns;
  const image = split.pixels.subarray(index * size, (index + 1) * size);
  if (!transpose) return image;
  const out = new Uint8Array(size);
  for (let r = 0; r < split.rows; r++) for (let c = 0; c < split.columns; c++) out[c * split.rows + r] = image[r * split.columns + c]!;
  return out;
}

async function readSplit(imagesPath: string, labelsPath: string, maxBytes: number, maxImages: number): Promise<Split> {
  const images = await readIdxFile(imagesPath, maxBytes);
  const labels = await readIdxFile(labelsPath, maxBytes);
  if (images.dims.length !== 3) throw new XceptionDataError(`${imagesPath}: expected images of 3 dimensions [count, rows, columns]; got [${images.dims.join(', ')}].`);
  if (labels.dims.length !== 1) throw new XceptionDataError(`${labelsPath}: expected labels of 1 dimension [count]; got [${labels.dims.join(', ')}].`);
  const [count, rows, columns] = images.dims as [number, number, number];
  if (count === 0 || rows === 0 || columns === 0) throw new XceptionDataError(`${imagesPath}: holds no images ([${images.dims.join(', ')}]).`);
  if (labels.dims[0] !== count) {
    throw new XceptionDataError(`${imagesPath} holds ${count} images but ${labelsPath} holds ${labels.dims[0]} labels; they must pair up one to one.`);
  }
  const used = Math.min(count, maxImages);
  const labelValues = labels.values.subarray(0, used);
  let largestLabel = 0;
  for (const label of labelValues) if (label > largestLabel) largestLabel = label;
  return { count: used, rows, columns, pixels: images.values.subarray(0, used * rows * columns), labels: labelValues, largestLabel };
}

async function readIdxFile(path: string, maxBytes: number): Promise<IdxArray> {
  const { readFile, stat } = await importNode<typeof import('node:fs/promises')>('node:fs/promises');
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new XceptionDataError(`${path}: not a file.`);
    if (info.size > maxBytes) throw new XceptionDataError(`${path}: ${info.size} bytes, above maxBytes (${maxBytes}).`);
    return parseIdx(await readFile(path), path, maxBytes);
  } catch (error) {
    if (error instanceof XceptionDataError) throw error;
    throw new XceptionDataError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

const TRAIN_IMAGES = /(^|[-_.])train-images-idx3-ubyte(\.gz)?$/;
const TEST_IMAGES = /(^|[-_.])(t10k|test)-images-idx3-ubyte(\.gz)?$/;

/** The IDX files of a folder: one training pair, optionally one test pair. */
async function findIdxFiles(dir: string): Promise<IdxFiles> {
  const { readdir } = await importNode<typeof import('node:fs/promises')>('node:fs/promises');
  const { join } = await importNode<typeof import('node:path')>('node:path');
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (error) {
    throw new XceptionDataError(`cannot read the IDX folder ${dir}: ${(error as Error).message}`, { cause: error });
  }
  const one = (pattern: RegExp, what: string, required: boolean): string | undefined => {
    const found = names.filter((n) => pattern.test(n));
    // The same file gzipped and not: take the gzipped one.
    const distinct = found.filter((n) => !(n.endsWith('.gz') ? false : found.includes(`${n}.gz`)));
    if (distinct.length > 1) {
      throw new XceptionDataError(`${dir} holds several ${what} files (${distinct.join(', ')}); pass the files to use as { images, labels, testImages, testLabels }.`);
    }
    if (distinct.length === 0 && required) {
      throw new XceptionDataError(`${dir} holds no ${what} file (e.g. train-images-idx3-ubyte.gz, as MNIST and Fashion-MNIST name them).`);
    }
    return distinct[0];
  };
  /** The labels beside an images file, gzipped or not. */
  const labelsOf = (images: string): string => {
    const name = images.replace(/-images-idx3-ubyte/, '-labels-idx1-ubyte');
    const base = name.replace(/\.gz$/, '');
    const found = [name, `${base}.gz`, base].find((n) => names.includes(n));
    if (!found) throw new XceptionDataError(`${dir} holds ${images} but not its labels, ${base}(.gz).`);
    return found;
  };
  const images = one(TRAIN_IMAGES, 'training-image', true)!;
  const testImages = one(TEST_IMAGES, 'test-image', false);
  const labels = labelsOf(images);
  const testLabels = testImages && labelsOf(testImages);
  return {
    images: join(dir, images),
    labels: join(dir, labels),
    ...(testImages && testLabels ? { testImages: join(dir, testImages), testLabels: join(dir, testLabels) } : {}),
  };
}
