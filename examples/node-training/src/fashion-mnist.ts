// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) from its IDX files: 60,000 training and 10,000
// test images, 28×28 grayscale, 10 classes. Debian's dataset-fashion-mnist package installs them
// in /usr/share/datasets/fashion-mnist/ as {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** Images as bytes (row-major, `count × rows × columns`) and their labels. */
export interface ImageSet {
  count: number;
  rows: number;
  columns: number;
  pixels: Uint8Array;
  labels: Uint8Array;
}

/**
 * Reads an IDX file (Y. LeCun's MNIST format, gzipped or not): a big-endian header — two zero
 * bytes, the element type (0x08: unsigned byte), the number of dimensions — then one 32-bit size
 * per dimension, then the values.
 */
export function readIdx(bytes: Uint8Array, file: string): { dims: number[]; values: Uint8Array } {
  const data = bytes[0] === 0x1f && bytes[1] === 0x8b ? new Uint8Array(gunzipSync(bytes)) : bytes;
  if (data.length < 4 || data[0] !== 0 || data[1] !== 0) throw new Error(`${file} is not an IDX file (it must start with two zero bytes).`);
  if (data[2] !== 0x08) throw new Error(`${file}: IDX element type 0x${data[2]!.toString(16)} is not supported (only 0x08, unsigned bytes).`);
  const rank = data[3]!;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const offset = 4 + 4 * rank;
  const size = dims.reduce((a, b) => a * b, 1);
  if (data.length !== offset + size) throw new Error(`${file}: the header says [${dims}] (${size} values) but ${data.length - offset} follow.`);
  return { dims, values: data.subarray(offset) };
}

/** Reads one split ('train' or 't10k') from `dir`. */
export async function readFashionMnist(dir: string, split: 'train' | 't10k'): Promise<ImageSet> {
  const file = async (name: string) => {
    for (const candidate of [`${name}.gz`, name]) {
      try {
        return { path: join(dir, candidate), bytes: new Uint8Array(await readFile(join(dir, candidate))) };
      } catch {
        // try the next name
      }
    }
    throw new Error(`--data fashion-mnist: ${join(dir, name)}(.gz) is missing (Debian: apt-get install dataset-fashion-mnist).`);
  };
  const images = await file(`${split}-images-idx3-ubyte`);
  const labels = await file(`${split}-labels-idx1-ubyte`);
  const x = readIdx(images.bytes, images.path);
  const y = readIdx(labels.bytes, labels.path);
  if (x.dims.length !== 3 || y.dims.length !== 1 || x.dims[0] !== y.dims[0]) {
    throw new Error(`--data fashion-mnist: ${images.path} [${x.dims}] and ${labels.path} [${y.dims}] do not describe the same images.`);
  }
  for (const label of y.values) if (label > 9) throw new Error(`${labels.path}: label ${label} is not a class from 0 to 9.`);
  return { count: x.dims[0]!, rows: x.dims[1]!, columns: x.dims[2]!, pixels: x.values, labels: y.values };
}

/** The first `count` images of a set (a slice, for quick runs). */
export function firstImages(set: ImageSet, count: number): ImageSet {
  const n = Math.min(count, set.count);
  return { ...set, count: n, pixels: set.pixels.subarray(0, n * set.rows * set.columns), labels: set.labels.subarray(0, n) };
}

/**
 * Batches of an image set, `[batch, size, size, channels]` in [-1, 1] and one-hot labels: each
 * image centred on a `size × size` canvas (28 → 32: two pixels of padding), repeated over
 * `channels`. Training batches are shuffled each epoch, shifted by up to `shift` pixels and
 * flipped horizontally at random (a flipped shirt is a shirt).
 */
export function imageBatches(
  set: ImageSet,
  options: { size: number; channels: number; batchSize: number; augment: boolean; shift?: number; seed?: number },
): tf.data.Dataset<tf.TensorContainer> {
  const { size, channels, batchSize, augment, shift = 2 } = options;
  if (size < set.rows || size < set.columns) throw new Error(`--input-size ${size} is smaller than the images (${set.rows}×${set.columns}).`);
  const top = (size - set.rows) >> 1;
  const left = (size - set.columns) >> 1;
  const pixelsPerImage = set.rows * set.columns;
  let epoch = 0;
  return tf.data.generator(function* () {
    const random = mulberry32((options.seed ?? 11) + epoch++);
    const order = Array.from({ length: set.count }, (_, i) => i);
    if (augment) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
    }
    for (let start = 0; start < set.count; start += batchSize) {
      const picked = order.slice(start, start + batchSize);
      const xs = new Float32Array(picked.length * size * size * channels).fill(-1);
      const ys = new Float32Array(picked.length * 10);
      picked.forEach((index, b) => {
        const dy = augment ? Math.floor(random() * (2 * shift + 1)) - shift : 0;
        const dx = augment ? Math.floor(random() * (2 * shift + 1)) - shift : 0;
        const flip = augment && random() < 0.5;
        const source = index * pixelsPerImage;
        for (let r = 0; r < set.rows; r++) {
          const y = r + top + dy;
          if (y < 0 || y >= size) continue;
          for (let c = 0; c < set.columns; c++) {
            const x = (flip ? set.columns - 1 - c : c) + left + dx;
            if (x < 0 || x >= size) continue;
            const value = set.pixels[source + r * set.columns + c]! / 127.5 - 1;
            const at = ((b * size + y) * size + x) * channels;
            for (let k = 0; k < channels; k++) xs[at + k] = value;
          }
        }
        ys[b * 10 + set.labels[index]!] = 1;
      });
      yield { xs: tf.tensor4d(xs, [picked.length, size, size, channels]), ys: tf.tensor2d(ys, [picked.length, 10]) };
    }
  });
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
