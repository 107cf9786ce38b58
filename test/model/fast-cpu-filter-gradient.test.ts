import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../helpers/backend.js';
import { useFastCpuFilterGradient, useTfjsCpuFilterGradient } from '../helpers/fast-cpu-filter-gradient.js';

beforeAll(() => useBackend('cpu'));
afterAll(() => useTfjsCpuFilterGradient());

/** The kernel gradient of sum(conv2d(x, w) * weights), with whichever kernel is registered. */
function filterGradient(x: tf.Tensor4D, w: tf.Tensor4D, stride: number, pad: 'same' | 'valid', weights: tf.Tensor): Float32Array {
  return tf.tidy(() => tf.grad((k: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, k as tf.Tensor4D, stride, pad), weights)))(w).dataSync() as Float32Array);
}

describe("the test suite's fast cpu Conv2DBackpropFilter", () => {
  it.each([
    [1, 5, 5, 3, 4, 1, 1, 'same'], [2, 9, 7, 8, 6, 1, 2, 'same'], [2, 8, 8, 4, 5, 3, 1, 'same'],
    [1, 11, 10, 3, 2, 3, 2, 'valid'], [2, 12, 12, 5, 7, 3, 2, 'same'], [1, 7, 7, 16, 16, 1, 1, 'valid'],
  ] as const)('equals tfjs\' own for x [%i,%i,%i,%i], %i filters of %i×%i, stride %i, %s', (n, h, wd, c, f, k, s, pad) => {
    const x = tf.randomNormal([n, h, wd, c], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal([k, k, c, f], 0, 1, 'float32', 2) as tf.Tensor4D;
    const weights = tf.randomNormal(tf.conv2d(x, w, s, pad).shape, 0, 1, 'float32', 3);
    useTfjsCpuFilterGradient();
    const expected = filterGradient(x, w, s, pad, weights);
    useFastCpuFilterGradient();
    const actual = filterGradient(x, w, s, pad, weights);
    expect(actual.length).toBe(expected.length);
    const maxDiff = actual.reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i]!)), 0);
    expect(maxDiff).toBeLessThan(1e-4);
    tf.dispose([x, w, weights]);
  });
});
