import { requireKnownOptions } from '../model/xception-options.js';
import { XceptionDataError } from '../errors.js';
import { isNode } from '../platform/node-import.js';
import { decodeImageBytes } from './decode-image.js';
import { IMAGE_LIMITS } from './image-limits.js';
import { createImageDataset, IMAGE_BATCH_OPTIONS, resolveBatchOptions, type ImageBatchOptions, type ImageDataset } from './image-dataset.js';
import type { SourcePixels } from './image-sampler.js';
import { requireImageSize } from './image-size.js';
import { listImageFolder } from './list-image-folder.js';
import { readImageFile } from './read-image-file.js';
import { seededRandom, shuffleInPlace } from '../training/onnx/seeded-random.js';

/**
 * Options of {@link imageDatasetFromDirectory}: Keras'
 * `image_dataset_from_directory` arguments, and the caps that bound what a
 * folder can make it read.
 *
 * @example
 * ```ts
 * const options: ImageFolderOptions = { imageSize: 128, validationSplit: 0.2, seed: 42, augment: true, skipBadFiles: true };
 * ```
 * @category Data
 */
export interface ImageFolderOptions extends ImageBatchOptions {
  /** Output size, `size` or `[height, width]`: every image is resized to it (bilinear). @defaultValue `256` (Keras') */
  imageSize?: number | readonly [number, number];
  /** 1 (gray) or 3 (RGB): every image is converted, whatever it holds (as Keras' `color_mode`). @defaultValue `3` */
  channels?: 1 | 3;
  /** Fraction of each class held out for validation, in [0, 1). @defaultValue `0` (no validation set) */
  validationSplit?: number;
  /**
   * Leave out files that cannot be read or decoded instead of failing: each
   * goes to {@link ImageFolderDataset.skipped} and `onSkip`. @defaultValue `false`
   */
  skipBadFiles?: boolean;
  /** Called once per skipped file (with `skipBadFiles`). */
  onSkip?: (file: SkippedImage) => void;
  /** Most image files the folder may hold; listing stops past it. @defaultValue `2_000_000` (ImageNet-1k's 1.28 M fit) */
  maxFiles?: number;
  /** Largest image file, in bytes, checked before reading it. @defaultValue `IMAGE_LIMITS.maxBytes` (256 MiB) */
  maxBytes?: number;
  /** Largest width × height an image may declare, checked before decoding it. @defaultValue `IMAGE_LIMITS.maxPixels` (50,000,000) */
  maxPixels?: number;
}

/**
 * A file {@link imageDatasetFromDirectory} left out (with `skipBadFiles`).
 *
 * @example
 * ```ts
 * const onSkip = (file: SkippedImage) => console.warn(`skipped ${file.path}: ${file.reason}`);
 * ```
 * @category Data
 */
export interface SkippedImage {
  /** The file. */
  path: string;
  /** Why: the decoder's or the file system's message. */
  reason: string;
}

/**
 * What {@link imageDatasetFromDirectory} returns.
 *
 * @example
 * ```ts
 * const { train, validation, classNames, skipped }: ImageFolderDataset = await imageDatasetFromDirectory('./photos', { validationSplit: 0.2 });
 * ```
 * @category Data
 */
export interface ImageFolderDataset {
  /** The training images: shuffled each epoch and augmented as the options say. */
  train: ImageDataset;
  /** The held-out images, in a fixed order; undefined when `validationSplit` is 0. */
  validation: ImageDataset | undefined;
  /** The class names (sub-folder names, sorted); label `i` is `classNames[i]`. */
  classNames: readonly string[];
  /** Files left out so far (with `skipBadFiles`): found as they are decoded, so complete after one epoch. */
  skipped: readonly SkippedImage[];
}

const KNOWN_OPTIONS = [...IMAGE_BATCH_OPTIONS, 'imageSize', 'channels', 'validationSplit', 'skipBadFiles', 'onSkip', 'maxFiles', 'maxBytes', 'maxPixels'];
const DEFAULTS = { imageSize: 256, channels: 3, maxFiles: 2_000_000 } as const;

/**
 * Keras' `image_dataset_from_directory` for Node: a folder with one
 * sub-folder per class (class names sorted, label `i` for the `i`-th), its
 * PNG and JPEG files split per class into training and validation sets by a
 * seeded shuffle, then decoded, converted to `channels` and resized batch by
 * batch as training asks for them — so the folder may be larger than memory.
 * Both datasets feed `model.fitDataset` and the ONNX trainer's `fit`.
 *
 * @param dir - The folder, e.g. `photos/` holding `photos/cats/*.jpg`, `photos/dogs/*.jpg`.
 * @param options - See {@link ImageFolderOptions}.
 * @throws {@link XceptionDataError} for a missing folder, fewer than two
 *   classes, an empty class, more than `maxFiles` images (all before anything
 *   is decoded), a bad option value ({@link XceptionConfigError} for an unknown option); while iterating, for a file that cannot be
 *   read or decoded (naming it) unless `skipBadFiles` is set.
 *
 * @example
 * ```ts
 * import { createXception, imageDatasetFromDirectory } from 'xception-ts';
 * import { createOnnxTrainer } from 'xception-ts/onnx';
 *
 * const { train, validation, classNames } = await imageDatasetFromDirectory('./photos', {
 *   imageSize: 96, batchSize: 32, validationSplit: 0.2, seed: 42, augment: true,
 * });
 * const model = createXception({ preset: 'mini', inputShape: [96, 96, 3], numClasses: classNames.length });
 * const trainer = await createOnnxTrainer(model, { batchSize: 32 });
 * await trainer.fit(train, { epochs: 10, validationData: validation });
 * ```
 * @category Data
 */
export async function imageDatasetFromDirectory(dir: string, options: ImageFolderOptions = {}): Promise<ImageFolderDataset> {
  requireKnownOptions('imageDatasetFromDirectory', options, KNOWN_OPTIONS);
  const batch = resolveBatchOptions('imageDatasetFromDirectory', options);
  const [height, width] = requireImageSize('imageDatasetFromDirectory', options.imageSize ?? DEFAULTS.imageSize);
  const channels = options.channels ?? DEFAULTS.channels;
  if (channels !== 1 && channels !== 3) throw fail(`channels must be 1 or 3; got ${JSON.stringify(options.channels)}.`);
  const split = options.validationSplit ?? 0;
  if (!(typeof split === 'number' && split >= 0 && split < 1)) throw fail(`validationSplit must be a number in [0, 1); got ${JSON.stringify(options.validationSplit)}.`);
  const maxFiles = positiveInteger('maxFiles', options.maxFiles ?? DEFAULTS.maxFiles);
  const maxBytes = positiveInteger('maxBytes', options.maxBytes ?? IMAGE_LIMITS.maxBytes);
  const maxPixels = positiveInteger('maxPixels', options.maxPixels ?? IMAGE_LIMITS.maxPixels);
  if (options.onSkip !== undefined && typeof options.onSkip !== 'function') throw fail('onSkip must be a function.');
  if (!isNode()) throw fail('it reads a folder, which needs Node.');

  const { classNames, files } = await listImageFolder(dir, maxFiles);
  const paths = files.flat();
  const labels = files.flatMap((group, label) => group.map(() => label));
  const { train, validation } = splitPerClass(files, split, batch.seed);
  const skipped: SkippedImage[] = [];
  const skippedPaths = new Set<string>();
  const load = async (index: number): Promise<SourcePixels | undefined> => {
    const path = paths[index]!;
    if (skippedPaths.has(path)) return undefined;
    try {
      return await decodeImageBytes(await readImageFile(path, maxBytes), { channels, maxPixels, name: path });
    } catch (error) {
      const reason = (error as Error).message;
      if (!options.skipBadFiles) {
        throw new XceptionDataError(`${reason} Pass skipBadFiles: true to leave such files out and list them.`, { cause: error });
      }
      skippedPaths.add(path);
      const file = { path, reason };
      skipped.push(file);
      options.onSkip?.(file);
      return undefined;
    }
  };
  const dataset = (indices: number[], training: boolean) =>
    createImageDataset({ classNames, indices, labelOf: (i) => labels[i]!, load, imageShape: [height, width, channels], fit: 'resize', training }, batch);
  return { train: dataset(train, true), validation: validation.length ? dataset(validation, false) : undefined, classNames, skipped };
}

function fail(message: string): XceptionDataError {
  return new XceptionDataError(`imageDatasetFromDirectory: ${message}`);
}

function positiveInteger(name: string, value: unknown): number {
  if (!(Number.isSafeInteger(value) && (value as number) >= 1)) throw fail(`${name} must be a positive integer; got ${JSON.stringify(value)}.`);
  return value as number;
}


/**
 * Indices (into the flattened file list) of the training and validation
 * images: each class shuffled by the seed, its first round(n · split) held
 * out (at least one when split > 0, never all of it).
 */
function splitPerClass(files: string[][], split: number, seed: number): { train: number[]; validation: number[] } {
  const random = seededRandom(seed);
  const train: number[] = [];
  const validation: number[] = [];
  let start = 0;
  for (const group of files) {
    const indices = Array.from({ length: group.length }, (_, i) => start + i);
    shuffleInPlace(indices, random);
    const held = split === 0 ? 0 : Math.min(group.length - 1, Math.max(1, Math.round(group.length * split)));
    validation.push(...indices.slice(0, held).sort((a, b) => a - b));
    train.push(...indices.slice(held).sort((a, b) => a - b));
    start += group.length;
  }
  return { train, validation };
}
