import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createXception, imageDatasetFromDirectory, XceptionConfigError, XceptionDataError, type ImageDataset } from '../../src/index.js';
import { createOnnxTrainer } from '../../src/onnx/index.js';
import { useBackend } from '../helpers/backend.js';
import { jpegBytes, pngBytes, writePatternFolder } from '../helpers/image-folder.js';

beforeAll(() => useBackend('cpu'));
const root = mkdtempSync(join(tmpdir(), 'image-folder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
/** A folder of `files`: `{ 'cats/a.png': bytes }`. */
function folder(files: Record<string, Uint8Array | string>): string {
  const dir = join(root, `f${counter++}`);
  for (const [path, bytes] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    if (!path.endsWith('/')) writeFileSync(join(dir, path), bytes);
  }
  return dir;
}

async function epoch(dataset: ImageDataset): Promise<{ xs: number[][]; ys: number[][]; shapes: number[][] }> {
  const out = { xs: [] as number[][], ys: [] as number[][], shapes: [] as number[][] };
  for await (const { xs, ys } of dataset) {
    out.xs.push(Array.from(xs.dataSync()));
    out.ys.push(Array.from(ys.dataSync()));
    out.shapes.push(xs.shape);
    tf.dispose([xs, ys]);
  }
  return out;
}

const gray = (v: number) => pngBytes(2, 2, 1, () => v);

describe('imageDatasetFromDirectory', () => {
  it('sorts the class sub-folders, splits each class by the seed, and ignores hidden and non-image files', async () => {
    const files: Record<string, Uint8Array | string> = { 'notes.txt': 'x', '.hidden/a.png': gray(1), 'b/readme.md': 'x', 'b/.DS_Store': 'x' };
    for (const name of ['b', 'a', 'C']) for (let i = 0; i < 10; i++) files[`${name}/${i}.png`] = gray(i);
    const dir = folder(files);
    const load = (seed: number) => imageDatasetFromDirectory(dir, { imageSize: 2, validationSplit: 0.2, seed, batchSize: 4, labelMode: 'int' });
    const first = await load(3);
    expect(first.classNames).toEqual(['C', 'a', 'b']); // code-point order, as Python's sorted()
    expect([first.train.imageCount, first.validation!.imageCount, first.train.size]).toEqual([24, 6, 6]);
    const labels = (await epoch(first.validation!)).ys.flat();
    expect(labels).toEqual([0, 0, 1, 1, 2, 2]); // two of each class's ten, in a fixed order
    const again = await load(3);
    const other = await load(4);
    const pixels = async (d: ImageDataset) => (await epoch(d)).xs.flat();
    expect(await pixels(again.validation!)).toEqual(await pixels(first.validation!));
    expect(await pixels(other.validation!)).not.toEqual(await pixels(first.validation!));
    expect((await imageDatasetFromDirectory(dir, { imageSize: 2 })).validation).toBeUndefined();
  });

  it('converts every image to the channels asked for and resizes as tf.image.resizeBilinear (half-pixel centres)', async () => {
    const rgb = (x: number, y: number, c: number) => (x * 50 + y * 30 + c * 70) % 256;
    const dir = folder({ 'a/rgb.png': pngBytes(5, 4, 3, rgb), 'a/rgba.png': pngBytes(5, 4, 4, rgb), 'b/gray.png': pngBytes(5, 4, 1, (x, y) => x * 40 + y) });
    const { train } = await imageDatasetFromDirectory(dir, { imageSize: [3, 7], preprocess: 'none', shuffle: false, batchSize: 3 });
    const { xs, shapes } = await epoch(train);
    expect(shapes).toEqual([[3, 3, 7, 3]]);
    const source = tf.tensor3d(Array.from({ length: 20 * 3 }, (_, i) => rgb(Math.floor(i / 3) % 5, Math.floor(i / 15), i % 3)), [4, 5, 3]);
    const expected = Array.from(tf.image.resizeBilinear(source, [3, 7], false, true).dataSync());
    xs[0]!.slice(0, 63).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 3)); // rgb.png
    expect(xs[0]!.slice(63, 126)).toEqual(xs[0]!.slice(0, 63)); // rgba.png: alpha dropped
    const grayImage = xs[0]!.slice(126);
    for (let p = 0; p < 21; p++) expect(new Set(grayImage.slice(p * 3, p * 3 + 3)).size).toBe(1); // gray repeated as RGB
    const asGray = await imageDatasetFromDirectory(dir, { imageSize: [4, 5], channels: 1, preprocess: 'none', shuffle: false });
    const one = (await epoch(asGray.train)).xs[0]!;
    // rgb.png at its own size, to luminance (ITU-R 601: 0.299 R + 0.587 G + 0.114 B).
    expect(one.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => Math.round(0.299 * rgb(i % 5, Math.floor(i / 5), 0) + 0.587 * rgb(i % 5, Math.floor(i / 5), 1) + 0.114 * rgb(i % 5, Math.floor(i / 5), 2))));
    source.dispose();
  });

  it('decodes lazily, batch by batch: a file changed after the listing is read as it is when its batch comes', async () => {
    const dir = folder({ 'a/1.png': gray(10), 'b/1.png': gray(20), 'b/2.jpg': jpegBytes(2, 2, () => 200) });
    const { train } = await imageDatasetFromDirectory(dir, { imageSize: 2, preprocess: 'none', shuffle: false, batchSize: 3 });
    writeFileSync(join(dir, 'a/1.png'), gray(99));
    const { xs } = await epoch(train);
    expect(xs[0]!.slice(0, 12)).toEqual(new Array(12).fill(99));
    expect(xs[0]!.slice(12, 24)).toEqual(new Array(12).fill(20));
  });

  it('augments training images only, reproducibly: a flip mirrors the image left–right', async () => {
    const ramp = pngBytes(4, 1, 1, (x) => x * 60);
    const dir = folder({ 'a/1.png': ramp, 'b/1.png': ramp, 'b/2.png': ramp, 'a/2.png': ramp });
    const options = { imageSize: [1, 4] as [number, number], preprocess: 'none' as const, augment: { flip: true }, batchSize: 4, seed: 9, validationSplit: 0.5 };
    const { train, validation } = await imageDatasetFromDirectory(dir, options);
    const seen = new Set<string>();
    for (let e = 0; e < 4; e++) for (const image of (await epoch(train)).xs.flatMap((b) => [b.slice(0, 12), b.slice(12, 24)])) seen.add(image.filter((_, i) => i % 3 === 0).join(','));
    expect([...seen].sort()).toEqual(['0,60,120,180', '180,120,60,0']);
    const again = await imageDatasetFromDirectory(dir, options);
    expect((await epoch(again.train)).xs).toEqual((await epoch((await imageDatasetFromDirectory(dir, options)).train)).xs);
    for (let e = 0; e < 3; e++) expect((await epoch(validation!)).xs.flat().filter((_, i) => i % 3 === 0)).toEqual([0, 60, 120, 180, 0, 60, 120, 180]);
  });

  it('refuses a missing folder, one class, an empty class and too many files, naming them, before decoding anything', async () => {
    const cases: [string, Parameters<typeof imageDatasetFromDirectory>[1], RegExp][] = [
      [join(root, 'nowhere'), {}, /^cannot read the image folder .*nowhere: ENOENT/],
      [folder({ 'x.png': gray(1) }), {}, /holds no class sub-folders; expected one sub-folder per class, e\.g\. .*cats\/001\.jpg/],
      [folder({ 'cats/1.png': gray(1) }), {}, /holds one class sub-folder \('cats'\); a classifier needs at least 2 classes/],
      [folder({ 'cats/1.png': gray(1), 'dogs/notes.txt': 'x' }), {}, /dogs: the class folder 'dogs' holds no \.png, \.jpg, \.jpeg file; add images or remove the folder\./],
      [folder({ 'a/1.png': gray(1), 'a/2.png': gray(1), 'b/1.png': gray(1), 'b/2.png': gray(1) }), { maxFiles: 3 }, /holds more than 3 image files \(maxFiles\)/],
      [root, { imageSize: 0 }, /imageSize must be an integer or \[height, width\] of integers from 1 to 4096; got 0\./],
      [root, { validationSplit: 1 }, /validationSplit must be a number in \[0, 1\); got 1\./],
    ];
    for (const [dir, options, message] of cases) {
      const error = await imageDatasetFromDirectory(dir, options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(XceptionDataError);
      expect((error as Error).message).toMatch(message);
    }
    await expect(imageDatasetFromDirectory(root, { imageSize: 8, colour: 'rgb' } as never)).rejects.toThrow(
      new XceptionConfigError(`Unknown imageDatasetFromDirectory option 'colour'; valid options are 'batchSize', 'shuffle', 'seed', 'augment', 'labelMode', 'preprocess', 'imageSize', 'channels', 'validationSplit', 'skipBadFiles', 'onSkip', 'maxFiles', 'maxBytes', 'maxPixels'.`),
    );
  });

  it('names an unreadable image when its batch is read, or skips and reports it with skipBadFiles', async () => {
    const dir = folder({ 'a/1.png': gray(1), 'a/bad.png': 'not an image at all', 'b/1.png': gray(2), 'b/big.png': pngBytes(40, 30, 1, () => 5) });
    const strict = await imageDatasetFromDirectory(dir, { imageSize: 2, shuffle: false });
    const error = await epoch(strict.train).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XceptionDataError);
    expect((error as Error).message).toMatch(/a\/bad\.png: .*Pass skipBadFiles: true to leave such files out and list them\.$/);
    const reported: string[] = [];
    const lenient = await imageDatasetFromDirectory(dir, { imageSize: 2, shuffle: false, skipBadFiles: true, maxPixels: 1000, onSkip: (f) => reported.push(f.path) });
    const before = tf.memory().numTensors;
    expect((await epoch(lenient.train)).shapes).toEqual([[2, 2, 2, 3]]);
    await epoch(lenient.train);
    expect(tf.memory().numTensors).toBe(before);
    expect(lenient.skipped.map((s) => s.path)).toEqual([join(dir, 'a/bad.png'), join(dir, 'b/big.png')]);
    expect(reported).toEqual(lenient.skipped.map((s) => s.path)); // once each, not once per epoch
    expect(lenient.skipped[1]!.reason).toMatch(/40×30.* over the pixel cap of 1[,.]?000/);
    const small = await imageDatasetFromDirectory(dir, { imageSize: 2, skipBadFiles: true, maxBytes: 100 });
    await epoch(small.train);
    expect(small.skipped.find((s) => s.path.endsWith('big.png'))?.reason).toMatch(/big\.png: \d+ bytes, over the file-size cap of 100 \(maxBytes; IMAGE_LIMITS\.maxBytes by default\): nothing was read\./);
  });

  it('feeds the ONNX trainer and model.fitDataset, leaving no tensor behind', async () => {
    const dir = join(root, 'patterns');
    writePatternFolder(dir, { classes: 3, perClass: 8, size: 32 });
    const { train, validation, classNames } = await imageDatasetFromDirectory(dir, { imageSize: 32, batchSize: 8, validationSplit: 0.25, augment: true });
    expect([train.imageCount, validation!.imageCount, classNames]).toEqual([18, 6, ['checks', 'disc', 'stripes']]);
    const model = createXception({ preset: 'tiny', inputShape: [32, 32, 3], numClasses: 3 });
    const before = tf.memory().numTensors;
    const trainer = await createOnnxTrainer(model, { batchSize: 8 });
    const { history } = await trainer.fit(train, { epochs: 2, validationData: validation });
    await trainer.dispose();
    expect(history['val_acc']).toHaveLength(2);
    expect(history['loss']!.every(Number.isFinite)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    // tfjs' fitDataset (a small dense model: the tiny Xception trains slowly on the cpu backend).
    const dense = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [32, 32, 3] }), tf.layers.dense({ units: 3, activation: 'softmax' })] });
    dense.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const fitted = await dense.fitDataset(train, { epochs: 1, validationData: validation, verbose: 0 });
    expect(fitted.history['val_loss']).toHaveLength(1);
    const withOptimizer = tf.memory().numTensors; // Adam's slots now exist
    await dense.fitDataset(train, { epochs: 1, validationData: validation, verbose: 0 });
    expect(tf.memory().numTensors).toBe(withOptimizer);
    dense.dispose();
  });
});
