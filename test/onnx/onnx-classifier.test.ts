import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { PNG } from 'pngjs';
import { createXception, decodePredictions, preprocessInput, XceptionConfigError } from '../../src/index.js';
import { createOnnxClassifier, exportOnnx, type OnnxClassifier } from '../../src/onnx/index.js';
import { writeResizedRgb } from '../../src/onnx/image-input.js';
import { writeEvalTransformedRgb } from '../../src/imagenet/eval-transform.js';
import { useBackend } from '../helpers/backend.js';
import { serveOnLoopback } from '../helpers/loopback-server.js';
import { randomize } from '../helpers/randomize.js';

let model: tf.LayersModel;
let bytes: Uint8Array;
let classifier: OnnxClassifier;
const png = PNG.sync.read(readFileSync(new URL('../../examples/images/chelsea.png', import.meta.url)));
const chelsea = { data: png.data, width: png.width, height: png.height }; // RGBA

beforeAll(async () => {
  await useBackend('wasm');
  model = createXception({ inputShape: [150, 150, 3] });
  randomize(model);
  bytes = exportOnnx(model);
  classifier = await createOnnxClassifier({ model: bytes });
});
afterAll(async () => {
  await classifier.dispose();
  model.dispose();
});

/** The same pipeline in TensorFlow.js: resizeBilinear, preprocessInput, predict, decodePredictions. */
function tfjsTop5(image: { data: ArrayLike<number>; width: number; height: number }, channels: number) {
  const probabilities = tf.tidy(() => {
    const pixels = tf.tensor3d(Float32Array.from(image.data), [image.height, image.width, channels]).slice([0, 0, 0], [-1, -1, 3]);
    const input = preprocessInput(tf.image.resizeBilinear(pixels as tf.Tensor3D, [150, 150]).expandDims(0) as tf.Tensor4D);
    return model.predict(input) as tf.Tensor;
  });
  const [top5] = decodePredictions(probabilities, 5);
  probabilities.dispose();
  return top5!;
}

describe('createOnnxClassifier', () => {
  it('reads the input size and the ImageNet labels from the model', () => {
    expect(classifier.inputSize).toEqual([150, 150]);
    expect(classifier.labels.length).toBe(1000);
    expect(classifier.labels[281]).toBe('tabby, tabby cat');
  });

  it('classifies an RGBA image of another size like the tfjs pipeline: same top-5, probabilities within 1e-4', async () => {
    const top5 = await classifier.classify(chelsea);
    const expected = tfjsTop5(chelsea, 4);
    expect(top5.map((p) => p.classIndex)).toEqual(expected.map((p) => p.classIndex));
    top5.forEach((p, i) => expect(Math.abs(p.probability - expected[i]!.probability)).toBeLessThan(1e-4));
    expect(top5[0]!.label).toBe(expected[0]!.label);
    // Sorted, best first.
    expect(top5.map((p) => p.probability)).toEqual([...top5.map((p) => p.probability)].sort((a, b) => b - a));
  });

  it('takes RGB pixels and a tfjs tensor too, and topK', async () => {
    const rgb = new Uint8Array(png.width * png.height * 3);
    for (let i = 0; i < png.width * png.height; i++) rgb.set(png.data.subarray(i * 4, i * 4 + 3), i * 3);
    const fromRgb = await classifier.classify({ data: rgb, width: png.width, height: png.height }, { topK: 3 });
    const tensor = tf.tensor3d(rgb, [png.height, png.width, 3], 'int32');
    const fromTensor = await classifier.classify(tensor, { topK: 3 });
    tensor.dispose();
    expect(fromRgb.length).toBe(3);
    expect(fromTensor).toEqual(fromRgb);
    expect(fromRgb.map((p) => p.classIndex)).toEqual(tfjsTop5(chelsea, 4).slice(0, 3).map((p) => p.classIndex));
  });

  it("evalTransform: resizes like the preset's ImageNet eval (crop 0.8975 for 'keras', bicubic), as tfjs on the same input", async () => {
    const timmStyle = await createOnnxClassifier({ model: bytes, evalTransform: 'keras' });
    const top5 = await timmStyle.classify(chelsea);
    const input = new Float32Array(150 * 150 * 3);
    writeEvalTransformedRgb(chelsea, { size: [150, 150], cropPct: 0.8975 }, input, 0, 1 / 127.5, -1);
    const probabilities = tf.tidy(() => model.predict(tf.tensor4d(input, [1, 150, 150, 3])) as tf.Tensor);
    const [expected] = decodePredictions(probabilities, 5);
    probabilities.dispose();
    expect(top5.map((p) => p.classIndex)).toEqual(expected!.map((p) => p.classIndex));
    top5.forEach((p, i) => expect(Math.abs(p.probability - expected![i]!.probability)).toBeLessThan(1e-4));
    await timmStyle.dispose();
    await expect(createOnnxClassifier({ model: bytes, evalTransform: 'postact' })).rejects.toThrow(
      `evalTransform must be a preset with ImageNet weights ('keras', 'xception41', 'xception65', 'xception71', 'xception41p', 'xception65p'); got "postact".`,
    );
  });

  it('run() returns the raw outputs of a preprocessed batch', async () => {
    const x = tf.randomUniform([2, 150, 150, 3], -1, 1, 'float32', 3);
    const out = await classifier.run(x.dataSync() as Float32Array, 2);
    const expected = model.predict(x) as tf.Tensor;
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.tensor2d(out, [2, 1000]), expected))).dataSync()[0]!);
    expect(diff).toBeLessThan(1e-5);
    tf.dispose([x, expected]);
  });

  it('loads from a file path and from a URL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xception-onnx-'));
    const path = join(dir, 'model.onnx');
    await writeFile(path, bytes);
    const server = await serveOnLoopback((req, res) => {
      if (req.url === '/model.onnx') res.end(bytes);
      else res.writeHead(404).end();
    });
    try {
      const expected = await classifier.classify(chelsea);
      for (const model of [path, `${server.base}/model.onnx`]) {
        const other = await createOnnxClassifier({ model, ort });
        expect(await other.classify(chelsea)).toEqual(expected);
        await other.dispose();
      }
      await expect(createOnnxClassifier({ model: `${server.base}/missing.onnx` })).rejects.toThrow(
        `could not fetch the ONNX model from ${server.base}/missing.onnx: HTTP 404.`,
      );
    } finally {
      await server.close();
      await rm(dir, { recursive: true });
    }
  });

  it('labels of its own for a non-ImageNet head', async () => {
    const small = createXception({ numClasses: 3, inputShape: [71, 71, 3] });
    const three = await createOnnxClassifier({ model: exportOnnx(small), labels: ['cat', 'dog', 'bird'] });
    const top = await three.classify(chelsea, { topK: 3 });
    expect(top.map((p) => p.label).sort()).toEqual(['bird', 'cat', 'dog']);
    expect(top.reduce((s, p) => s + p.probability, 0)).toBeCloseTo(1, 5);
    await three.dispose();
    const unnamed = await createOnnxClassifier({ model: exportOnnx(small) });
    expect(unnamed.labels).toEqual(['class 0', 'class 1', 'class 2']);
    await unnamed.dispose();
    await expect(createOnnxClassifier({ model: exportOnnx(small), labels: ['a'] })).rejects.toThrow(
      'labels has 1 names, but the model has 3 outputs.',
    );
    small.dispose();
  });
});

describe('createOnnxClassifier: refusals', () => {
  it('a model that is not an image classifier, or not ONNX', async () => {
    const backbone = createXception({ includeTop: false, inputShape: [71, 71, 3] });
    await expect(createOnnxClassifier({ model: exportOnnx(backbone) })).rejects.toThrow(
      'the ONNX model must have one output [batch, classes]; got 1 output(s) of shape [?, 3, 3, 2048].',
    );
    const anySize = createXception({ includeTop: false, pooling: 'avg', inputShape: [null, null, 3] });
    await expect(createOnnxClassifier({ model: exportOnnx(anySize) })).rejects.toThrow(
      'the ONNX model must have one NHWC input [batch, height, width, 3] with a fixed height and width',
    );
    await expect(createOnnxClassifier({ model: new Uint8Array([1, 2, 3, 4, 5]) })).rejects.toThrow(XceptionConfigError);
    await expect(createOnnxClassifier({ model: new Uint8Array([1, 2, 3, 4, 5]) })).rejects.toThrow('the model is not a valid ONNX file');
    await expect(createOnnxClassifier({ model: 42 as never })).rejects.toThrow('model must be ONNX bytes');
    await expect(createOnnxClassifier({ model: bytes, preprocess: 'caffe' as never })).rejects.toThrow(
      `preprocess must be 'xception' or 'none'; got "caffe".`,
    );
    tf.dispose([backbone, anySize] as never);
  });

  it('bad images and topK', async () => {
    await expect(classifier.classify(chelsea, { topK: 0 })).rejects.toThrow('topK must be an integer from 1 to 1000; got 0.');
    await expect(classifier.classify({ data: new Uint8Array(10), width: 2, height: 2 })).rejects.toThrow(
      'image data must hold width · height · 3 (RGB) or · 4 (RGBA) values; 2 × 2 needs 12 or 16, got 10.',
    );
    await expect(classifier.classify({ data: new Uint8Array(0), width: 0, height: 0 })).rejects.toThrow(
      'an image needs a positive integer width and height; got 0 × 0.',
    );
    const gray = tf.zeros([4, 4, 1]);
    await expect(classifier.classify(gray)).rejects.toThrow('an image tensor must be [height, width, 3|4] or [1, height, width, 3|4] in [0, 255]; got [4, 4, 1].');
    gray.dispose();
    await expect(classifier.run(new Float32Array(5), 1)).rejects.toThrow('run expects batch · 150 · 150 · 3 values for a batch of 1; got 5.');
  });
});

describe('writeResizedRgb', () => {
  it.each([
    [3, 37, 53, 20, 90],
    [4, 64, 48, 150, 150],
    [3, 299, 299, 299, 299],
  ])('matches tf.image.resizeBilinear (%i channels, %i×%i → %i×%i) within 1e-3', (channels, h, w, outH, outW) => {
    const data = Float32Array.from({ length: h * w * channels }, (_, i) => (i * 7919) % 256);
    const out = new Float32Array(outH * outW * 3);
    writeResizedRgb({ data, width: w, height: h }, outH, outW, out, 0, 1, 0);
    const expected = tf.tidy(() =>
      tf.image.resizeBilinear(tf.tensor3d(data, [h, w, channels]).slice([0, 0, 0], [-1, -1, 3]) as tf.Tensor3D, [outH, outW]).dataSync(),
    );
    let worst = 0;
    for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i]! - expected[i]!));
    expect(worst).toBeLessThan(1e-3);
  });
});
