// Data sets as lists of items, streamed through tf.data.generator (async): images are decoded,
// resized and augmented one at a time, so a folder larger than memory trains fine.
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** One example: where to get its pixels, and its class index. */
export interface Item {
  label: number;
  /** A file to decode, or a seed for a generated image. */
  source: { file: string } | { seed: number; classes: number };
}

export interface DataSet {
  classNames: string[];
  items: Item[];
}

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png']);

/** A folder with one sub-folder per class, each holding JPEG or PNG files. */
export async function folderDataSet(dir: string): Promise<DataSet> {
  const entries = await readdir(dir, { withFileTypes: true });
  const classNames = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  if (classNames.length < 2) throw new Error(`--data ${dir}: expected one sub-folder per class (at least 2); found ${classNames.length}.`);
  const items: Item[] = [];
  for (const [label, name] of classNames.entries()) {
    const files = (await readdir(join(dir, name))).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort();
    if (files.length === 0) throw new Error(`--data ${dir}: class folder '${name}' has no .jpg, .jpeg or .png files.`);
    for (const file of files) items.push({ label, source: { file: join(dir, name, file) } });
  }
  return { classNames, items };
}

/**
 * A generated, learnable data set: class k is a pattern of stripes at angle k·90°/(classes − 1),
 * with a random phase, frequency, colour, brightness and noise per image. (Angles stay within
 * [0°, 90°] so that a horizontal flip, θ → 180° − θ, never turns one class into another.)
 */
export function syntheticDataSet(classes: number, samples: number): DataSet {
  if (!(Number.isInteger(classes) && classes >= 2)) throw new Error(`--classes must be an integer ≥ 2; got ${classes}.`);
  const items = Array.from({ length: samples }, (_, i) => ({ label: i % classes, source: { seed: i + 1, classes } }));
  return { classNames: Array.from({ length: classes }, (_, k) => `stripes-${Math.round((k * 90) / (classes - 1))}deg`), items };
}

/** A deterministic shuffle and split into training and validation items (stratified by class). */
export function split(items: Item[], validationFraction: number, seed = 42): { train: Item[]; validation: Item[] } {
  const random = mulberry32(seed);
  const train: Item[] = [];
  const validation: Item[] = [];
  const byClass = new Map<number, Item[]>();
  for (const item of items) byClass.set(item.label, [...(byClass.get(item.label) ?? []), item]);
  for (const group of byClass.values()) {
    const shuffled = shuffle(group, random);
    const count = Math.max(1, Math.round(shuffled.length * validationFraction));
    validation.push(...shuffled.slice(0, count));
    train.push(...shuffled.slice(count));
  }
  return { train: shuffle(train, random), validation };
}

/**
 * A batched tf.data pipeline: decode or generate each image, resize to `size · 1.15`, then
 * (training) random-crop `size` and flip horizontally at random, or (validation) centre-crop;
 * scale to [-1, 1] as Xception expects; one-hot labels.
 */
export function pipeline(items: Item[], options: { size: number; classes: number; batchSize: number; augment: boolean; seed?: number }): tf.data.Dataset<tf.TensorContainer> {
  const { size, classes, batchSize, augment } = options;
  const loadSize = Math.round(size * 1.15);
  let epoch = 0;
  return tf.data
    .generator(async function* () {
      // A new order and new augmentations each epoch, reproducible from the seed.
      const random = mulberry32((options.seed ?? 7) + epoch++);
      for (const item of augment ? shuffle(items, random) : items) {
        const pixels = await loadPixels(item, loadSize);
        const xs = tf.tidy(() => {
          // Generated images come at loadSize already; decoded files get resized.
          const [height, width] = pixels.shape;
          let image: tf.Tensor3D = height === loadSize && width === loadSize ? pixels : tf.image.resizeBilinear(pixels, [loadSize, loadSize]);
          const top = augment ? Math.floor(random() * (loadSize - size + 1)) : (loadSize - size) >> 1;
          const left = augment ? Math.floor(random() * (loadSize - size + 1)) : (loadSize - size) >> 1;
          image = image.slice([top, left, 0], [size, size, 3]);
          if (augment && random() < 0.5) image = image.reverse(1);
          return image.div(127.5).sub(1);
        });
        pixels.dispose();
        yield { xs, ys: tf.oneHot(item.label, classes) };
      }
    })
    .batch(batchSize);
}

async function loadPixels(item: Item, size: number): Promise<tf.Tensor3D> {
  if ('seed' in item.source) return stripes(item.label, item.source.classes, item.source.seed, size);
  const bytes = await readFile(item.source.file);
  const ext = extname(item.source.file).toLowerCase();
  const { width, height, data } = ext === '.png' ? PNG.sync.read(bytes) : jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  return tf.tidy(() => tf.tensor3d(new Uint8Array(data), [height, width, 4], 'int32').slice([0, 0, 0], [height, width, 3]).toFloat());
}

/** Class `label`'s pattern: stripes at the class' angle; everything else random per seed. */
function stripes(label: number, classes: number, seed: number, size: number): tf.Tensor3D {
  const random = mulberry32(seed * 9973);
  const angle = (label * Math.PI) / 2 / (classes - 1) + (random() - 0.5) * 0.1;
  const frequency = (2 * Math.PI) / (size / (3 + random() * 3));
  const phase = random() * 2 * Math.PI;
  const colour = [random(), random(), random()].map((c) => 80 + 150 * c);
  const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
  const data = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const wave = 0.5 + 0.5 * Math.sin((x * dx + y * dy) * frequency + phase);
      for (let c = 0; c < 3; c++) data[(y * size + x) * 3 + c] = Math.min(255, Math.max(0, colour[c]! * wave + 40 * (random() - 0.5)));
    }
  }
  return tf.tensor3d(data, [size, size, 3]);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
