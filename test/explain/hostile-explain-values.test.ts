// Issue 21, rows 11–13: gradCam on an int32 or string image (a raw tfjs error
// before), on an image full of NaN (a NaN heatmap and score before, though the
// docs promise [0, 1]) or with a model whose weights are NaN; overlayHeatmap of
// an empty [0, 4] heatmap (a black image before).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { gradCam, overlayHeatmap, XceptionConfigError } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';

beforeAll(() => useBackend('cpu'));

/** 8×8×3 → conv (the feature map) → global average pool → 3-way softmax. */
function tinyCnn(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3] });
  const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', name: 'features' }).apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(conv) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 3, activation: 'softmax' }).apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: 'tiny_cnn' });
}

/** `call` throws an XceptionConfigError matching `message` and leaves no tensor behind. */
function expectRefused(call: () => unknown, message: RegExp) {
  const before = tf.memory().numTensors;
  let error: unknown = null;
  try {
    call();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(XceptionConfigError);
  expect((error as Error).message).toMatch(message);
  expect(tf.memory().numTensors).toBe(before);
}

describe('gradCam: images it cannot explain are typed errors', () => {
  it('int32 and string images', () => {
    const model = tinyCnn();
    const int = tf.zeros([8, 8, 3], 'int32') as tf.Tensor3D;
    const text = tf.fill([8, 8, 3], 'a', 'string') as tf.Tensor3D;
    expectRefused(() => gradCam(model, int), /^gradCam: image must be a float32 tensor \(preprocessed pixels, e\.g\. from preprocessInput\); got int32\.$/);
    expectRefused(() => gradCam(model, text), /got string\.$/);
    tf.dispose([int, text]);
    model.dispose();
  });

  it('NaN or Infinity in the image, or a model whose weights make the score NaN', () => {
    const model = tinyCnn();
    const nan = tf.fill([8, 8, 3], Number.NaN) as tf.Tensor3D;
    const inf = tf.tidy(() => tf.zeros([1, 8, 8, 3]).add(tf.oneHot([5], 8 * 8 * 3).reshape([1, 8, 8, 3]).mul(Infinity))) as tf.Tensor4D;
    expectRefused(() => gradCam(model, nan), /^gradCam: image holds NaN or ±Infinity; Grad-CAM needs finite, preprocessed pixels\.$/);
    expectRefused(() => gradCam(model, inf), /image holds NaN or ±Infinity/);
    const image = tf.randomUniform([8, 8, 3], -1, 1, 'float32', 3) as tf.Tensor3D;
    const finite = gradCam(model, image);
    expect(Number.isFinite(finite.score)).toBe(true);
    expect(finite.heatmap.max().dataSync()[0]).toBeLessThanOrEqual(1);
    finite.heatmap.dispose();
    const dense = model.layers.at(-1)!;
    dense.setWeights(dense.getWeights().map((w) => tf.fill(w.shape, Number.NaN)));
    expectRefused(() => gradCam(model, image), /^gradCam: the class score \(NaN\) or the heatmap of 'tiny_cnn' is not finite for this \(finite\) image/);
    tf.dispose([nan, inf, image]);
    model.dispose();
  });
});

describe('overlayHeatmap: an empty heatmap', () => {
  it('[0, 4] and [4, 0] tensors are refused', () => {
    const pixels = { data: new Uint8Array(2 * 2 * 3).fill(200), width: 2, height: 2 };
    for (const shape of [[0, 4], [4, 0]] as [number, number][]) {
      const empty = tf.zeros(shape) as tf.Tensor2D;
      expectRefused(() => overlayHeatmap(pixels, empty), new RegExp(`heatmap must be a 2D tensor \\[h, w\\] with h and w at least 1; got shape \\[${shape.join(', ')}\\]`));
      empty.dispose();
    }
  });
});
