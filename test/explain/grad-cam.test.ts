import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createXception, gradCam, XceptionConfigError } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';

beforeAll(() => useBackend('cpu'));

/** input [h, w, 3] → conv 'conv' → ReLU 'act' → GAP → Dense(classes, softmax). */
function smallModel(size: number, classes: number, kernel?: tf.Tensor4D, dense?: [tf.Tensor2D, tf.Tensor1D]): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 3], name: 'image' });
  const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, name: 'conv' });
  let x = conv.apply(input) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: 'act' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const head = tf.layers.dense({ units: classes, activation: 'softmax', name: 'head' });
  const model = tf.model({ inputs: input, outputs: head.apply(x) as tf.SymbolicTensor });
  if (kernel) conv.setWeights([kernel]);
  if (dense) head.setWeights(dense);
  return model;
}

/**
 * Grad-CAM for a feature map followed by GAP → Dense: d logit_c / d A_k(i, j)
 * = W[k, c] / (h·w) everywhere, so the channel weights are W[:, c] / (h·w).
 */
function closedFormCam(features: tf.Tensor4D, kernel: tf.Tensor2D, classIndex: number): Float32Array {
  return tf.tidy(() => {
    const [, h, w] = features.shape;
    const weights = kernel.slice([0, classIndex], [-1, 1]).reshape([1, 1, 1, -1]).div(h * w);
    const cam = tf.relu(features.mul(weights).sum([0, 3]));
    const peak = cam.max().dataSync()[0]!;
    return (peak > 0 ? cam.div(peak) : cam).dataSync() as Float32Array;
  });
}

describe('gradCam', () => {
  it('equals the closed form on a small model, for the top class and a chosen one', () => {
    const model = smallModel(8, 3);
    const image = tf.randomUniform([8, 8, 3], -1, 1, 'float32', 7) as tf.Tensor3D;
    const features = tf.model({ inputs: model.inputs, outputs: model.getLayer('act').output }).predict(image.expandDims(0)) as tf.Tensor4D;
    const [kernel, bias] = model.getLayer('head').getWeights() as [tf.Tensor2D, tf.Tensor1D];
    const logits = tf.tidy(() => features.mean([1, 2]).matMul(kernel).add(bias));
    const top = logits.argMax(1).dataSync()[0]!;

    const auto = gradCam(model, image);
    expect(auto.classIndex).toBe(top);
    expect(auto.score).toBeCloseTo(logits.dataSync()[top]!, 5);
    expect(auto.heatmap.shape).toEqual([8, 8]);
    const expected = closedFormCam(features, kernel, top);
    Array.from(auto.heatmap.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));

    const other = (top + 1) % 3;
    const chosen = gradCam(model, image.expandDims(0) as tf.Tensor4D, { classIndex: other, layerName: 'act' });
    expect(chosen.classIndex).toBe(other);
    expect(chosen.score).toBeCloseTo(logits.dataSync()[other]!, 5);
    const expectedOther = closedFormCam(features, kernel, other);
    Array.from(chosen.heatmap.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expectedOther[i]!, 5));
    tf.dispose([image, features, logits, auto.heatmap, chosen.heatmap]);
    model.dispose();
  });

  it('equals tf.grad by hand on a feature map inside a residual graph', () => {
    // image → conv 'c1' → ReLU 'r1' → conv 'c2' → add(r1, c2) 'sum' → GAP → Dense(linear)
    const input = tf.input({ shape: [6, 6, 3] });
    const r1 = tf.layers.activation({ activation: 'relu', name: 'r1' }).apply(
      tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c1', kernelInitializer: tf.initializers.glorotUniform({ seed: 11 }) }).apply(input),
    ) as tf.SymbolicTensor;
    // Seeded weights: with unseeded ones, one draw in a few dozen gives an all-zero map (nothing to compare).
    const c2Layer = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c2', kernelInitializer: tf.initializers.glorotUniform({ seed: 12 }) });
    const sumLayer = tf.layers.add({ name: 'sum' });
    const summed = sumLayer.apply([r1, c2Layer.apply(r1) as tf.SymbolicTensor]) as tf.SymbolicTensor;
    const denseLayer = tf.layers.dense({ units: 2, name: 'logits', kernelInitializer: tf.initializers.glorotUniform({ seed: 13 }) });
    const out = denseLayer.apply(tf.layers.globalAveragePooling2d({}).apply(summed)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const image = tf.randomNormal([1, 6, 6, 3], 0, 1, 'float32', 3) as tf.Tensor4D;

    // By hand: A = r1's output; logit_1(A) = Dense(GAP(A + c2(A))).
    const features = tf.model({ inputs: input, outputs: r1 }).predict(image) as tf.Tensor4D;
    const head = (a: tf.Tensor) => (denseLayer.apply(tf.mean(sumLayer.apply([a, c2Layer.apply(a) as tf.Tensor]) as tf.Tensor, [1, 2])) as tf.Tensor).slice([0, 1], [1, 1]).sum();
    const expected = tf.tidy(() => {
      const grad = tf.grad(head)(features);
      const cam = tf.relu(features.mul(grad.mean([1, 2], true)).sum([0, 3]));
      return cam.div(cam.max());
    });
    expect(tf.tidy(() => expected.isNaN().any().dataSync()[0])).toBe(0);
    const { heatmap } = gradCam(model, image, { layerName: 'r1', classIndex: 1 });
    expect(heatmap.shape).toEqual([6, 6]);
    const want = expected.dataSync();
    Array.from(heatmap.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    tf.dispose([image, features, expected, heatmap]);
    model.dispose();
  });

  it('lights the quadrant that holds the evidence, and is all zero for a class with none', () => {
    // Every conv filter sums its 3×3×3 window; class 1 counts brightness, class 0 counts against it.
    const kernel = tf.ones([3, 3, 3, 4]) as tf.Tensor4D;
    const dense: [tf.Tensor2D, tf.Tensor1D] = [tf.tensor2d([[-1, 1], [-1, 1], [-1, 1], [-1, 1]]), tf.zeros([2])];
    const model = smallModel(16, 2, kernel, dense);
    const bright = tf.buffer([16, 16, 3]);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) for (let c = 0; c < 3; c++) bright.set(1, y, x, c);
    const image = bright.toTensor() as tf.Tensor3D;

    const { heatmap, classIndex } = gradCam(model, image);
    expect(classIndex).toBe(1);
    const quadrant = (y: number, x: number) => heatmap.slice([y, x], [8, 8]).mean().dataSync()[0]!;
    expect(quadrant(0, 0)).toBeGreaterThan(0.7);
    for (const [y, x] of [[0, 8], [8, 0], [8, 8]] as const) expect(quadrant(y, x)).toBeLessThan(0.06);
    expect(heatmap.max().dataSync()[0]).toBeCloseTo(1, 6);

    const against = gradCam(model, image, { classIndex: 0 });
    expect(Array.from(against.heatmap.dataSync()).every((v) => v === 0)).toBe(true);
    tf.dispose([kernel, ...dense, image, heatmap, against.heatmap]);
    model.dispose();
  });

  it('explains Xception presets at block14 by default and leaks no tensor', { timeout: 60_000 }, () => {
    for (const preset of ['keras', 'xception41'] as const) {
      const model = createXception({ preset, inputShape: [71, 71, 3], numClasses: 5, ...(preset === 'keras' ? { middleFlowRepeats: 1 } : {}) });
      const image = tf.randomUniform([71, 71, 3], -1, 1, 'float32', 1) as tf.Tensor3D;
      const last = [...model.layers].reverse().find((l) => (l.outputShape as number[]).length === 4)!;
      // One middle unit: the exit flow's last block is block 7.
      expect(last.name).toBe(preset === 'keras' ? 'block7_sepconv2_act' : 'block14_sepconv3_pointwise_act');
      const features = tf.model({ inputs: model.inputs, outputs: last.output as tf.SymbolicTensor }).predict(image.expandDims(0)) as tf.Tensor4D;
      const kernel = model.getLayer('predictions').getWeights()[0] as tf.Tensor2D;
      const before = tf.memory().numTensors;
      const { heatmap, classIndex } = gradCam(model, image);
      expect(tf.memory().numTensors).toBe(before + 1);
      // The top class by logit (mean features · kernel + bias); softmax probabilities of a random
      // model can tie within rounding, logits do not.
      const bias = model.getLayer('predictions').getWeights()[1] as tf.Tensor1D;
      const top = tf.tidy(() => features.mean([1, 2]).matMul(kernel).add(bias).argMax(1).dataSync()[0]);
      expect(classIndex).toBe(top);
      expect(heatmap.shape).toEqual([3, 3]);
      const expected = closedFormCam(features, kernel, classIndex);
      Array.from(heatmap.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
      tf.dispose([image, features, heatmap]);
      model.dispose();
    }
  });

  it('refuses bad layers, images and class indices with typed errors and no leak', () => {
    const model = smallModel(8, 3);
    const image = tf.zeros([8, 8, 3]) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    const fail = (call: () => unknown) => {
      try {
        call();
      } catch (error) {
        expect(error).toBeInstanceOf(XceptionConfigError);
        return (error as Error).message;
      }
      throw new Error('did not throw');
    };
    expect(fail(() => gradCam(model, image, { layerName: 'nope' }))).toBe(
      `gradCam: layerName "nope" is not a layer of '${model.name}'; the last feature maps are 'image', 'conv', 'act'.`,
    );
    expect(fail(() => gradCam(model, image, { layerName: 'gap' }))).toBe(
      "gradCam: layer 'gap' outputs [N, 4]; it needs a 4D feature map [batch, h, w, channels].",
    );
    expect(fail(() => gradCam(model, image, { classIndex: 3 }))).toBe('gradCam: classIndex must be an integer in [0, 2]; got 3.');
    const wrong = tf.zeros([2, 8, 8, 3]) as tf.Tensor4D;
    expect(fail(() => gradCam(model, wrong))).toBe(
      `gradCam takes one preprocessed image [8, 8, 3] or [1, 8, 8, 3] for '${model.name}'; got a tensor of shape [2, 8, 8, 3].`,
    );
    wrong.dispose();
    expect(tf.memory().numTensors).toBe(before);
    image.dispose();
    model.dispose();
  });
});
