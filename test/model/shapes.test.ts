import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception, type XceptionOptions } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';

// Real forward passes on the wasm backend: the kernels must agree with the
// symbolic shapes tfjs-layers computes.
beforeAll(() => useBackend('wasm'));

/** Builds, checks the symbolic output shape, runs one image through, disposes. */
function forwardShape(options: XceptionOptions, input: number[]): number[] {
  const model = createXception(options);
  try {
    const x = tf.randomUniform([1, ...input], -1, 1);
    const y = model.predict(x) as tf.Tensor;
    const shape = y.shape;
    const symbolic = model.outputs[0]!.shape.slice(1);
    expect(symbolic.map((d, i) => d ?? shape[i + 1])).toEqual(shape.slice(1));
    tf.dispose([x, y]);
    return shape;
  } finally {
    model.dispose();
  }
}

// Final feature-map size per input size, worked out by hand:
// 'keras'  : valid 3×3/2 stem, valid 3×3, then four 'same' stride-2 pools
//            (299 → 149 → 147 → 74 → 37 → 19 → 10; 32 → 15 → 13 → 7 → 4 → 2 → 1).
// 'postact': 'same' stem (ceil(s/2)), then four 'same' stride-2 pools
//            (299 → 150 → 75 → 38 → 19 → 10). Both end at the same sizes here.
const finalSize: Record<'keras' | 'postact', Record<number, number>> = {
  keras: { 299: 10, 224: 7, 150: 5, 71: 3, 32: 1 },
  postact: { 299: 10, 224: 7, 150: 5, 71: 3, 32: 1 },
};

describe('output shapes without the top (wasm forward pass)', () => {
  for (const preset of ['keras', 'postact'] as const) {
    it.each([299, 224, 150, 71, 32])(`${preset} at %i px`, (size) => {
      const shape = forwardShape(
        { preset, includeTop: false, inputShape: [size, size, 3], allowSmallInput: size < 71 },
        [size, size, 3],
      );
      const s = finalSize[preset][size]!;
      expect(shape).toEqual([1, s, s, 2048]);
    });
  }

  it('accepts 1- and 4-channel inputs', () => {
    expect(forwardShape({ includeTop: false, inputShape: [71, 71, 1] }, [71, 71, 1])).toEqual([1, 3, 3, 2048]);
    expect(forwardShape({ includeTop: false, inputShape: [71, 71, 4] }, [71, 71, 4])).toEqual([1, 3, 3, 2048]);
  });

  it('handles non-square inputs', () => {
    expect(forwardShape({ includeTop: false, inputShape: [299, 150, 3] }, [299, 150, 3])).toEqual([1, 10, 5, 2048]);
  });

  it('runs any size when height and width are null', () => {
    const model = createXception({ includeTop: false, inputShape: [null, null, 3] });
    expect(model.outputs[0]!.shape).toEqual([null, null, null, 2048]);
    for (const [size, out] of [[71, 3], [96, 3], [128, 4]] as const) {
      const y = tf.tidy(() => model.predict(tf.zeros([1, size, size, 3])) as tf.Tensor);
      expect(y.shape).toEqual([1, out, out, 2048]);
      y.dispose();
    }
    model.dispose();
  });

  it("pooling 'avg' and 'max' give [batch, 2048] equal to the mean and max of the feature map", () => {
    const features = createXception({ includeTop: false, inputShape: [71, 71, 3] });
    const avg = createXception({ includeTop: false, inputShape: [71, 71, 3], pooling: 'avg' });
    const max = createXception({ includeTop: false, inputShape: [71, 71, 3], pooling: 'max' });
    avg.setWeights(features.getWeights());
    max.setWeights(features.getWeights());
    tf.tidy(() => {
      const x = tf.randomUniform([2, 71, 71, 3], -1, 1);
      const map = features.predict(x) as tf.Tensor4D;
      const pooledAvg = avg.predict(x) as tf.Tensor;
      const pooledMax = max.predict(x) as tf.Tensor;
      expect(pooledAvg.shape).toEqual([2, 2048]);
      expect(pooledMax.shape).toEqual([2, 2048]);
      expect(tf.max(tf.abs(tf.sub(pooledAvg, tf.mean(map, [1, 2])))).dataSync()[0]).toBeLessThan(1e-5);
      expect(tf.max(tf.abs(tf.sub(pooledMax, tf.max(map, [1, 2])))).dataSync()[0]).toBe(0);
    });
    expect(avg.getLayer('avg_pool').getClassName()).toBe('GlobalAveragePooling2D');
    expect(max.getLayer('max_pool').getClassName()).toBe('GlobalMaxPooling2D');
    [features, avg, max].forEach((m) => m.dispose());
  });

  it('gives softmax probabilities with the top, logits with a linear classifier', () => {
    const probs = createXception({ numClasses: 7, inputShape: [71, 71, 3] });
    const logits = createXception({ numClasses: 7, inputShape: [71, 71, 3], classifierActivation: 'linear' });
    logits.setWeights(probs.getWeights());
    tf.tidy(() => {
      const x = tf.randomUniform([3, 71, 71, 3], -1, 1);
      const p = probs.predict(x) as tf.Tensor;
      const z = logits.predict(x) as tf.Tensor;
      expect(p.shape).toEqual([3, 7]);
      expect(Array.from(tf.sum(p, 1).dataSync()).every((s) => Math.abs(s - 1) < 1e-5)).toBe(true);
      expect(tf.max(tf.abs(tf.sub(p, tf.softmax(z)))).dataSync()[0]).toBeLessThan(1e-6);
    });
    probs.dispose();
    logits.dispose();
  });

  it("follows the keras progression 299 → 149 → 147 → 74 → 37 → 19 → 10", () => {
    const model = createXception();
    const spatial = (name: string) => (model.getLayer(name).outputShape as number[])[1];
    expect(['block1_conv1', 'block1_conv2', 'block2_add', 'block3_add', 'block4_add', 'block12_add', 'block13_add', 'block14_sepconv2_act'].map(spatial))
      .toEqual([149, 147, 74, 37, 19, 19, 10, 10]);
    model.dispose();
  });

  it("follows the postact progression 299 → 150 → 75 → 38 → 19 → 10", () => {
    const model = createXception({ preset: 'postact', numClasses: 100 });
    const spatial = (name: string) => (model.getLayer(name).outputShape as number[])[1];
    expect(['block1_conv1', 'block1_conv2', 'block2_add', 'block3_add', 'block4_add', 'block12_add', 'block13_add', 'block14_sepconv2_act'].map(spatial))
      .toEqual([150, 150, 75, 38, 19, 19, 10, 10]);
    expect(model.outputs[0]!.shape).toEqual([null, 100]);
    model.dispose();
  });
});
