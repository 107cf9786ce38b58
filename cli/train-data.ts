/*
 * `train`'s data: a folder of class sub-folders (imageDatasetFromDirectory) or
 * an IDX folder (loadIdxDataset; its test split validates).
 */
import { basename } from 'node:path';
import { imageDatasetFromDirectory, loadIdxDataset, XceptionDataError, type ImageDataset, type SkippedImage } from '../src/index.js';
import type { TrainSettings } from './train-options.js';

/** The batches `train` trains and validates on. */
export interface TrainData {
  train: ImageDataset;
  validation: ImageDataset | undefined;
  classNames: readonly string[];
  /** Files left out so far (--skip-bad-files). */
  skipped: readonly SkippedImage[];
  /** One line saying what was read. */
  summary: string;
}

const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** Reads the data the settings name (lazily: images are decoded batch by batch). */
export async function loadTrainData(settings: TrainSettings): Promise<TrainData> {
  const common = { imageSize: settings.inputSize, channels: settings.channels, batchSize: settings.batchSize, seed: settings.seed, augment: settings.augment };
  const { path } = settings.source;
  if (settings.source.kind === 'idx') {
    // Fashion-MNIST's folder (Debian's dataset-fashion-mnist) gets its class names; other IDX sets are numbered.
    const fashion = /fashion/i.test(basename(path.replace(/\/+$/, '')));
    const { train, test, classNames } = await loadIdxDataset(path, {
      ...common,
      ...(settings.maxImages ? { maxImages: settings.maxImages } : {}),
      ...(fashion ? { classNames: FASHION_MNIST_CLASSES } : {}),
    });
    const summary = `${train.imageCount.toLocaleString('en-US')} training and ${(test?.imageCount ?? 0).toLocaleString('en-US')} test images (IDX, ${path}) in ${classNames.length} classes`;
    return { train, validation: test, classNames, skipped: [], summary };
  }
  const data = await imageDatasetFromDirectory(path, {
    ...common,
    validationSplit: settings.validationSplit,
    skipBadFiles: settings.skipBadFiles,
    ...(settings.maxFiles ? { maxFiles: settings.maxFiles } : {}),
  });
  const held = data.validation?.imageCount ?? 0;
  const summary = `${(data.train.imageCount + held).toLocaleString('en-US')} images in ${data.classNames.length} classes (${data.train.imageCount} training, ${held} validation) from ${path}`;
  return { train: data.train, validation: data.validation, classNames: data.classNames, skipped: data.skipped, summary };
}

/** A dataset error in train's flag terms (maxFiles → --max-files, skipBadFiles → --skip-bad-files); other errors as they are. */
export function inTrainFlagTerms(error: unknown): unknown {
  if (!(error instanceof XceptionDataError)) return error;
  const message = error.message
    .replace(/Pass skipBadFiles: true to leave such files out and list them\./, 'Pass --skip-bad-files to leave such files out and list them.')
    .replace(/\(maxFiles\); raise maxFiles/, '(--max-files); raise --max-files');
  return message === error.message ? error : new XceptionDataError(message, { cause: error });
}
