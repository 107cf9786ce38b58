// The Fashion-MNIST path (xception-ts' loadIdxDataset behind fashionMnist), on small hand-made IDX files.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { fashionMnist } from '../src/fashion-mnist.js';

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

test('fashionMnist pairs images with labels, centres the test images, scales to [-1, 1] and one-hot encodes', async () => {
  await assert.rejects(fashionMnist(dir, { size: 4, channels: 1, batchSize: 2, samples: 3, testSamples: 3 }), {
    message: `--data fashion-mnist: ${join(dir, 'train-images-idx3-ubyte')}(.gz) is missing (Debian: apt-get install dataset-fashion-mnist).`,
  });
  // Three 2×2 images: all 0, all 255, and a gradient; labels 9, 0, 4 (training and test alike).
  for (const split of ['train', 't10k']) {
    writeFileSync(join(dir, `${split}-images-idx3-ubyte.gz`), gzipSync(idx([3, 2, 2], [0, 0, 0, 0, 255, 255, 255, 255, 0, 85, 170, 255])));
    writeFileSync(join(dir, `${split}-labels-idx1-ubyte.gz`), gzipSync(idx([3], [9, 0, 4])));
  }
  await assert.rejects(fashionMnist(dir, { size: 4, channels: 1, batchSize: 2, samples: 3, testSamples: 3 }), /--input-size 4 is smaller than the images \(28×28\)\./);
  const { train, test: testSet } = await fashionMnist(dir, { size: 28, channels: 3, batchSize: 2, samples: 2, testSamples: 3 });
  assert.equal(train.imageCount, 2);
  assert.equal(testSet.imageCount, 3);
  const first = (await (await testSet.iterator()).next()).value!;
  assert.deepEqual(first.xs.shape, [3, 28, 28, 3]);
  const x = Array.from(first.xs.dataSync() as Float32Array);
  // Image 1 (all 255) sits in the centre 2×2 of its 28×28 canvas (background −1), in every channel.
  const second = x.slice(28 * 28 * 3, 2 * 28 * 28 * 3);
  assert.deepEqual(second.filter((v) => v > -1), new Array(12).fill(1));
  assert.deepEqual(second.slice((13 * 28 + 13) * 3, (13 * 28 + 15) * 3), [1, 1, 1, 1, 1, 1]);
  assert.deepEqual(Array.from(first.ys.dataSync()).slice(0, 10), [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(Array.from(first.ys.dataSync()).slice(20, 30).indexOf(1), 4);
  tf.dispose([first.xs, first.ys]);
});
