// The IDX reader and the batches of the Fashion-MNIST path, on small hand-made files.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { firstImages, imageBatches, readFashionMnist, readIdx } from '../src/fashion-mnist.js';

tf.env().set('PROD', true); // no "install tfjs-node" banner

/** An IDX file of unsigned bytes: magic 0 0 8 rank, big-endian sizes, values. */
function idx(dims: number[], values: number[]): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  header.set([0, 0, 0x08, dims.length]);
  const view = new DataView(header.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  return new Uint8Array([...header, ...values]);
}

const dir = mkdtempSync(join(tmpdir(), 'fashion-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('readIdx reads the header and values, gzipped or not, and refuses what is not IDX', () => {
  const raw = idx([2, 2, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]);
  for (const bytes of [raw, new Uint8Array(gzipSync(raw))]) {
    const { dims, values } = readIdx(bytes, 'x');
    assert.deepEqual(dims, [2, 2, 3]);
    assert.deepEqual(Array.from(values), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]);
  }
  assert.throws(() => readIdx(raw.subarray(0, raw.length - 1), 'short.idx'), { message: 'short.idx: the header says [2,2,3] (12 values) but 11 follow.' });
  assert.throws(() => readIdx(new Uint8Array([1, 2, 3, 4]), 'png.idx'), { message: 'png.idx is not an IDX file (it must start with two zero bytes).' });
  assert.throws(() => readIdx(new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 0]), 'float.idx'), { message: 'float.idx: IDX element type 0xd is not supported (only 0x08, unsigned bytes).' });
});

test('readFashionMnist pairs images with labels; imageBatches centres, scales to [-1, 1] and one-hot encodes', async () => {
  // Three 2×2 images: all 0, all 255, and a gradient; labels 9, 0, 4.
  writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(idx([3, 2, 2], [0, 0, 0, 0, 255, 255, 255, 255, 0, 85, 170, 255])));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(idx([3], [9, 0, 4])));
  const set = await readFashionMnist(dir, 'train');
  assert.equal(set.count, 3);
  assert.deepEqual(Array.from(set.labels), [9, 0, 4]);
  assert.equal(firstImages(set, 2).count, 2);
  const iterator = await imageBatches(set, { size: 4, channels: 1, batchSize: 2, augment: false }).iterator();
  const first = (await iterator.next()).value as { xs: tf.Tensor; ys: tf.Tensor };
  assert.deepEqual(first.xs.shape, [2, 4, 4, 1]);
  const x = Array.from(first.xs.dataSync());
  // Image 1 (all 255) sits in the centre 2×2 of its 4×4 canvas (background −1).
  const second = x.slice(16, 32);
  assert.deepEqual(second, [-1, -1, -1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1, -1, -1, -1]);
  assert.deepEqual(Array.from(first.ys.dataSync()).slice(0, 10), [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  const last = (await iterator.next()).value as typeof first;
  assert.deepEqual(last.xs.shape, [1, 4, 4, 1]);
  assert.deepEqual(Array.from(last.xs.dataSync()).filter((v) => v > -1).map((v) => Math.round(v * 1000) / 1000), [-0.333, 0.333, 1]);
  assert.equal(Array.from(last.ys.dataSync()).indexOf(1), 4);
  await assert.rejects(readFashionMnist(dir, 't10k'), /t10k-images-idx3-ubyte\(\.gz\) is missing \(Debian: apt-get install dataset-fashion-mnist\)\./);
});
