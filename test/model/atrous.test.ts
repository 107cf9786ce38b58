import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { atrousDepthwiseConv2d, atrousStep } from '../../src/model/atrous.js';
import { useBackend } from '../helpers/backend.js';
import { zeroInserted } from '../helpers/zero-inserted-kernel.js';

beforeAll(() => useBackend('cpu'));

const max = (t: tf.Tensor) => tf.max(tf.abs(t)).dataSync()[0]!;

describe('atrousDepthwiseConv2d (space-to-batch)', () => {
  it.each([
    [7, 7, 2], [10, 9, 2], [5, 6, 4], [19, 19, 4], [3, 3, 2], [13, 8, 3],
  ])('%i×%i at rate %i: equals tf.depthwiseConv2d with dilations, and its gradient equals the zero-inserted kernel’s', (h, w, rate) => {
    tf.tidy(() => {
      const x = tf.randomNormal([2, h, w, 4], 0, 1, 'float32', h * w) as tf.Tensor4D;
      const kernel = tf.randomNormal([3, 3, 4, 1], 0, 1, 'float32', rate) as tf.Tensor4D;
      const reference = tf.depthwiseConv2d(x, kernel, 1, 'same', 'NHWC', rate);
      const actual = atrousDepthwiseConv2d(x, kernel, [rate, rate]);
      expect(actual.shape).toEqual(reference.shape);
      expect(max(tf.sub(actual, reference))).toBeLessThan(1e-5);

      // tfjs has no gradient for the dilated op itself; an undilated convolution
      // with a zero-inserted kernel computes the same function and has one.
      const weights = tf.randomNormal(reference.shape, 0, 1, 'float32', 3);
      const loss = (f: (k: tf.Tensor4D) => tf.Tensor) => (k: tf.Tensor) => tf.sum(tf.mul(f(k as tf.Tensor4D), weights));
      const [gradX, gradK] = tf.grads((xx: tf.Tensor, k: tf.Tensor) => tf.sum(tf.mul(atrousDepthwiseConv2d(xx as tf.Tensor4D, k as tf.Tensor4D, [rate, rate]), weights)))([x, kernel]);
      const refK = tf.grad(loss((k) => tf.depthwiseConv2d(x, zeroInserted(k, [rate, rate]), 1, 'same')))(kernel);
      const refX = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(xx as tf.Tensor4D, zeroInserted(kernel, [rate, rate]), 1, 'same'), weights)))(x);
      expect(max(tf.sub(gradK!, refK))).toBeLessThan(1e-3);
      expect(max(tf.sub(gradX!, refX))).toBeLessThan(1e-4);
    });
  });
});

describe("atrousStep (DeepLab's output-stride rule)", () => {
  it("gives the 'keras' units their strides and rates at output stride 8, 16, 32", () => {
    // stem 2, blocks 2–4 stride 2, 8 middle units, block 13 stride 2, block 14.
    const strides = [2, 2, 2, 2, ...Array(8).fill(1), 2, 1];
    const plan = (outputStride: number) => {
      let reduction = 1;
      return strides.map((s) => {
        const step = atrousStep(reduction, s, outputStride);
        reduction = step.reductionAfter;
        return `${step.stride}/${step.rate}`;
      });
    };
    expect(plan(32)).toEqual(['2/1', '2/1', '2/1', '2/1', ...Array(8).fill('1/1'), '2/1', '1/1']);
    expect(plan(16)).toEqual(['2/1', '2/1', '2/1', '2/1', ...Array(8).fill('1/1'), '1/1', '1/2']);
    expect(plan(8)).toEqual(['2/1', '2/1', '2/1', '1/1', ...Array(8).fill('1/2'), '1/2', '1/4']);
  });
});
