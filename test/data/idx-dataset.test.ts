import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIdxDataset, XceptionConfigError, XceptionDataError } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';

beforeAll(() => useBackend('cpu'));
const root = mkdtempSync(join(tmpdir(), 'idx-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An IDX file of unsigned bytes: 0 0 8 rank, big-endian sizes, values. */
function idx(dims: number[], values: ArrayLike<number>, type = 0x08): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  header.set([0, 0, type, dims.length]);
  const view = new DataView(header.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + values.length);
  out.set(header);
  out.set(Array.from(values), header.length);
  return out;
}

/** A folder with train (and test) files. */
function folder(name: string, files: Record<string, Uint8Array>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, bytes] of Object.entries(files)) writeFileSync(join(dir, file), bytes);
  return dir;
}

async function batches(dataset: { iterator(): Promise<{ next(): Promise<IteratorResult<{ xs: tf.Tensor; ys: tf.Tensor }>> }> }) {
  const out: { xs: number[]; xsShape: number[]; ys: number[]; ysShape: number[] }[] = [];
  const iterator = await dataset.iterator();
  for (let item = await iterator.next(); !item.done; item = await iterator.next()) {
    out.push({ xs: Array.from(item.value.xs.dataSync()), xsShape: item.value.xs.shape, ys: Array.from(item.value.ys.dataSync()), ysShape: item.value.ys.shape });
    tf.dispose([item.value.xs, item.value.ys]);
  }
  return out;
}

// Three 2×2 images: all 0, all 255, a ramp 0 85 170 255; labels 2, 0, 1.
const IMAGES = [0, 0, 0, 0, 255, 255, 255, 255, 0, 85, 170, 255];
const LABELS = [2, 0, 1];

describe('loadIdxDataset', () => {
  it('reads gzipped and plain files alike, pads onto a larger canvas, scales to [-1, 1] and one-hot encodes', async () => {
    const gz = folder('gz', {
      'train-images-idx3-ubyte.gz': gzipSync(idx([3, 2, 2], IMAGES)),
      'train-labels-idx1-ubyte.gz': gzipSync(idx([3], LABELS)),
    });
    const plain = folder('plain', { 'train-images-idx3-ubyte': idx([3, 2, 2], IMAGES), 'train-labels-idx1-ubyte': idx([3], LABELS) });
    for (const dir of [gz, plain]) {
      const before = tf.memory().numTensors;
      const { train, test, classNames } = await loadIdxDataset(dir, { imageSize: 4, batchSize: 2, shuffle: false });
      expect(test).toBeUndefined();
      expect(classNames).toEqual(['0', '1', '2']);
      expect([train.imageCount, train.size, train.imageShape]).toEqual([3, 2, [4, 4, 1]]);
      const [first, last] = await batches(train);
      expect(first!.xsShape).toEqual([2, 4, 4, 1]);
      // The second image (all 255 → 1) sits in the centre of a canvas of −1.
      expect(first!.xs.slice(16, 32)).toEqual([-1, -1, -1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1, -1, -1, -1]);
      expect(first!.ys).toEqual([0, 0, 1, 1, 0, 0]);
      expect(last!.xsShape).toEqual([1, 4, 4, 1]);
      expect(last!.xs.filter((v) => v > -1).map((v) => Math.round(v * 1000) / 1000)).toEqual([-0.333, 0.333, 1]);
      expect(last!.ys).toEqual([0, 1, 0]);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('resizes as tf.image.resizeBilinear with half-pixel centres, repeats gray as RGB, and gives int labels', async () => {
    const values = Array.from({ length: 2 * 5 * 5 }, (_, i) => (i * 37) % 256);
    const dir = folder('resize', { 'train-images-idx3-ubyte': idx([2, 5, 5], values), 'train-labels-idx1-ubyte': idx([2], [1, 0]) });
    const { train } = await loadIdxDataset(dir, { imageSize: [3, 7], fit: 'resize', channels: 3, labelMode: 'int', preprocess: 'none', shuffle: false, batchSize: 2 });
    const [batch] = await batches(train);
    const expected = tf.tidy(() => {
      const gray = tf.tensor4d(values, [2, 5, 5, 1]);
      return Array.from(tf.image.resizeBilinear(gray, [3, 7], false, true).tile([1, 1, 1, 3]).dataSync());
    });
    expect(batch!.xsShape).toEqual([2, 3, 7, 3]);
    batch!.xs.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 3));
    expect(batch!.ys).toEqual([1, 0]);
    expect(batch!.ysShape).toEqual([2]);
  });

  it('finds the test split (t10k), shuffles training batches reproducibly from the seed, and feeds model.fitDataset', async () => {
    const pixels = Array.from({ length: 8 * 4 * 4 }, (_, i) => (i % 16) * 16);
    const dir = folder('split', {
      'train-images-idx3-ubyte.gz': gzipSync(idx([8, 4, 4], pixels)),
      'train-labels-idx1-ubyte.gz': gzipSync(idx([8], [0, 1, 0, 1, 0, 1, 0, 1])),
      't10k-images-idx3-ubyte.gz': gzipSync(idx([2, 4, 4], pixels.slice(0, 32))),
      't10k-labels-idx1-ubyte.gz': gzipSync(idx([2], [1, 0])),
    });
    const load = () => loadIdxDataset(dir, { batchSize: 3, seed: 5 });
    const a = await load();
    const b = await load();
    expect(a.test!.imageCount).toBe(2);
    const labelsOf = async (d: typeof a.train) => (await batches(d)).flatMap((x) => x.ys);
    const [epoch1, epoch2] = [await labelsOf(a.train), await labelsOf(a.train)];
    expect(epoch1).toEqual(await labelsOf(b.train)); // same seed, same order
    expect(epoch1).not.toEqual(epoch2); // a new order each epoch
    expect((await batches(a.test!)).flatMap((x) => x.ys)).toEqual([0, 1, 1, 0]); // file order

    const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [4, 4, 1] }), tf.layers.dense({ units: 2, activation: 'softmax' })] });
    model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const before = tf.memory().numTensors;
    const history = await model.fitDataset(a.train, { epochs: 2, validationData: a.test, verbose: 0 });
    expect(history.history['loss']).toHaveLength(2);
    expect(history.history['val_loss']).toHaveLength(2);
    expect(tf.memory().numTensors).toBe(before);
    const { xs, ys } = await a.train.toTensors();
    expect([xs.shape, ys.shape]).toEqual([[8, 4, 4, 1], [8, 2]]);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it("reads EMNIST's names and column-major images (transpose), and asks for the files when a folder holds several sets", async () => {
    // One 2×3 image stored column by column: rows 0 1 2 / 3 4 5 read as columns.
    const dir = folder('emnist', {
      'emnist-letters-train-images-idx3-ubyte.gz': gzipSync(idx([1, 3, 2], [0, 3, 1, 4, 2, 5])),
      'emnist-letters-train-labels-idx1-ubyte.gz': gzipSync(idx([1], [26])),
      'emnist-letters-test-images-idx3-ubyte.gz': gzipSync(idx([1, 3, 2], [5, 5, 5, 5, 5, 5])),
      'emnist-letters-test-labels-idx1-ubyte.gz': gzipSync(idx([1], [1])),
    });
    const { train, test, classNames } = await loadIdxDataset(dir, { transpose: true, preprocess: 'none', labelMode: 'int' });
    expect([train.imageShape, test!.imageCount, classNames.length]).toEqual([[2, 3, 1], 1, 27]);
    const [batch] = await batches(train);
    expect([batch!.xs, batch!.ys]).toEqual([[0, 1, 2, 3, 4, 5], [26]]);
    writeFileSync(join(dir, 'emnist-digits-train-images-idx3-ubyte.gz'), gzipSync(idx([1, 1, 1], [0])));
    await expect(loadIdxDataset(dir)).rejects.toThrow(
      /holds several training-image files \(emnist-digits-train-images-idx3-ubyte\.gz, emnist-letters-train-images-idx3-ubyte\.gz\); pass the files to use as \{ images, labels, testImages, testLabels \}\./,
    );
    const named = await loadIdxDataset(
      { images: join(dir, 'emnist-letters-train-images-idx3-ubyte.gz'), labels: join(dir, 'emnist-letters-train-labels-idx1-ubyte.gz') },
      { classNames: Array.from({ length: 27 }, (_, i) => (i ? String.fromCharCode(96 + i) : 'n/a')) },
    );
    expect([named.test, named.classNames[26]]).toEqual([undefined, 'z']);
    await expect(loadIdxDataset(dir.replace('emnist', 'gz'), { classNames: ['a', 'b'] })).rejects.toThrow(/label 2 is beyond the 2 classNames given \(labels count from 0\)\./);
  });

  it('refuses what is not IDX, naming the file and what is allowed', async () => {
    const cases: [string, Uint8Array, Uint8Array, RegExp][] = [
      ['magic', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]), idx([1], [0]), /train-images-idx3-ubyte is not an IDX file: IDX files start with two zero bytes; got 0x89 0x50\./],
      ['float', idx([1, 1, 1], [0, 0, 0, 0], 0x0d), idx([1], [0]), /IDX element type 0x0d \(float32\) is not supported; images and labels must be unsigned bytes \(0x08\)/],
      ['short', idx([2, 2, 2], [1, 2, 3]), idx([2], [0, 1]), /the IDX header declares \[2, 2, 2\] \(8 values\), but 3 follow; the file is truncated or not IDX\./],
      ['pairs', idx([2, 1, 1], [1, 2]), idx([3], [0, 1, 0]), /train-images-idx3-ubyte holds 2 images but .*train-labels-idx1-ubyte holds 3 labels; they must pair up one to one\./],
      ['rank', idx([2, 2], [1, 2, 3, 4]), idx([2], [0, 1]), /expected images of 3 dimensions \[count, rows, columns\]; got \[2, 2\]\./],
    ];
    for (const [name, images, labels, message] of cases) {
      const dir = folder(`bad-${name}`, { 'train-images-idx3-ubyte': images, 'train-labels-idx1-ubyte': labels });
      const error = await loadIdxDataset(dir).catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(XceptionDataError);
      expect((error as Error).message, name).toMatch(message);
    }
    await expect(loadIdxDataset(join(root, 'missing'))).rejects.toThrow(/cannot read the IDX folder .*missing: ENOENT/);
    await expect(loadIdxDataset(folder('empty', {}))).rejects.toThrow(/holds no training-image file \(e\.g\. train-images-idx3-ubyte\.gz/);
    const unknown = await loadIdxDataset(root, { imageSize: 32, colour: true } as never).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(XceptionConfigError);
    expect((unknown as Error).message).toMatch(/^Unknown loadIdxDataset option 'colour'; valid options are 'batchSize', .*'maxBytes'\.$/);
  });

  it('checks the size a header declares against maxBytes before allocating it, gzipped or not', async () => {
    // 60,000 × 28 × 28 declared in a 20-byte file, and a gzip stream that inflates past its header.
    const huge = idx([60_000, 28, 28], []);
    const bomb = gzipSync(idx([1, 2, 2], new Array(1_000_000).fill(7)));
    for (const [name, images, message] of [
      ['huge', huge, /declares \[60000, 28, 28\], 47040016 bytes, above maxBytes \(1000000\); raise maxBytes if the file is genuine\./],
      ['bomb', bomb, /declares \[1, 2, 2\] \(4 values\), but \d+ follow/],
    ] as const) {
      const dir = folder(`cap-${name}`, { 'train-images-idx3-ubyte.gz': new Uint8Array(images), 'train-labels-idx1-ubyte': idx([1], [0]) });
      await expect(loadIdxDataset(dir, { maxBytes: 1_000_000 })).rejects.toThrow(message);
    }
    const corrupt = gzipSync(idx([1, 1, 1], [5]));
    corrupt[corrupt.length - 12]! ^= 0xff;
    const dir = folder('corrupt', { 'train-images-idx3-ubyte.gz': corrupt, 'train-labels-idx1-ubyte': idx([1], [0]) });
    await expect(loadIdxDataset(dir)).rejects.toThrow(XceptionDataError);
  });

  it.runIf(existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz'))(
    "reads Debian's Fashion-MNIST: 60,000 training and 10,000 test images of 28×28, 10 classes",
    async () => {
      const { train, test, classNames } = await loadIdxDataset('/usr/share/datasets/fashion-mnist', { shuffle: false, batchSize: 4, labelMode: 'int' });
      expect([train.imageCount, test!.imageCount, classNames.length, train.imageShape]).toEqual([60_000, 10_000, 10, [28, 28, 1]]);
      const { value } = await (await train.iterator()).next();
      // The first four training labels of Fashion-MNIST: ankle boot, T-shirt, T-shirt, dress.
      expect(Array.from(value!.ys.dataSync())).toEqual([9, 0, 0, 3]);
      tf.dispose([value!.xs, value!.ys]);
    },
  );
});
