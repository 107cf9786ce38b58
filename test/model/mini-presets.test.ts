import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  countParameters,
  createXception,
  createXceptionBackbone,
  getPreset,
  loadKerasWeights,
  XceptionConfigError,
} from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { kerasFilePath, maxAbsDiff, MINI_XCEPTION_FILES, readF32 } from '../helpers/keras-reference-files.js';

beforeAll(() => useBackend('cpu'));

/**
 * Counts by hand from cnn.py's layer list at 64×64×1, 7 classes: stem convs
 * 3·3·cin·c (no bias) + BN 4c each; a module cin → c: 1×1 residual cin·c +
 * BN, two separable convs (9·cin + cin·c, 9·c + c·c) + BN each; top conv 9·c·7 + 7.
 */
function handCount(stem: [number, number], modules: number[]): { total: number; nonTrainable: number } {
  let total = 9 * 1 * stem[0] + 4 * stem[0] + 9 * stem[0] * stem[1] + 4 * stem[1];
  let nonTrainable = 2 * stem[0] + 2 * stem[1];
  let cin = stem[1];
  for (const c of modules) {
    total += cin * c + 4 * c + (9 * cin + cin * c) + 4 * c + (9 * c + c * c) + 4 * c;
    nonTrainable += 6 * c;
    cin = c;
  }
  return { total: total + 9 * cin * 7 + 7, nonTrainable };
}

describe('mini-Xception presets', () => {
  it.each([
    ['mini', 58_423, handCount([8, 8], [16, 32, 64, 128])],
    ['tiny', 18_314, handCount([5, 5], [8, 16, 32, 64])],
    ['big', 208_871, handCount([32, 64], [128, 256])],
  ] as const)('%s has %i parameters at 64×64×1 with 7 classes', (preset, total, hand) => {
    expect(hand.total).toBe(total);
    const model = createXception({ preset, inputShape: [64, 64, 1], numClasses: 7 });
    expect(model.countParams()).toBe(total);
    expect(countParameters(model)).toEqual({ total, trainable: total - hand.nonTrainable, nonTrainable: hand.nonTrainable });
    const out = model.predict(tf.ones([1, 64, 64, 1])) as tf.Tensor;
    expect(out.shape).toEqual([1, 7]);
    expect(out.sum().dataSync()[0]).toBeCloseTo(1, 5); // softmax
    out.dispose();
    model.dispose();
  });

  it("big_XCEPTION keeps Keras' names for the layers cnn.py names", () => {
    const model = createXception({ preset: 'big', inputShape: [64, 64, 1], numClasses: 7 });
    const names = model.layers.map((l) => l.name);
    for (const name of ['block1_conv1_bn', 'block1_conv1_act', 'block1_conv2_bn', 'block2_sepconv1_bn', 'block2_sepconv2_act',
      'block2_sepconv2_bn', 'block3_sepconv1_act', 'block3_sepconv1_bn', 'block3_sepconv2_act', 'block3_sepconv2_bn', 'predictions']) {
      expect(names).toContain(name);
    }
    expect(names).not.toContain('block2_sepconv1_act'); // block 2 starts without a ReLU
    model.dispose();
  });

  it('without the top ends at the last module, 128 channels at 1/16 for mini', () => {
    const model = createXception({ preset: 'mini', inputShape: [64, 64, 1], includeTop: false });
    // 64 → 60 (two valid 3×3) → 30 → 15 → 8 → 4
    expect(model.outputs[0]!.shape).toEqual([null, 4, 4, 128]);
    model.dispose();
  });

  it('refuses what the family does not have, with typed errors', () => {
    const before = tf.memory().numTensors;
    expect(() => createXception({ preset: 'mini', inputShape: [64, 64, 1], outputStride: 16 })).toThrow(XceptionConfigError);
    expect(() => createXception({ preset: 'mini', inputShape: [64, 64, 1], outputStride: 16 })).toThrow(/no dilated variant/);
    expect(() => createXception({ preset: 'tiny', inputShape: [4, 4, 1] })).toThrow(/below 5/);
    expect(() => createXception({ preset: 'big', inputShape: [6, 6, 1] })).toThrow(/below 7/);
    expect(() => createXception({ preset: 'mini', middleFlowRepeats: 2 })).toThrow(/fixes its units \(4 after the stem\)/);
    expect(() => createXceptionBackbone({ preset: 'mini' })).toThrow(/no five-level feature pyramid/);
    expect(tf.memory().numTensors).toBe(before);
    expect(getPreset('mini').family).toBe('mini');
  });
});

describe('real Keras 2.0.5 files load into the mini preset by order', () => {
  it.each(MINI_XCEPTION_FILES)('$stem: outputs within 1e-4 of the independent forward pass', async ({ stem, numClasses }) => {
    const model = createXception({ preset: 'mini', inputShape: [64, 64, 1], numClasses });
    const result = await loadKerasWeights(model, kerasFilePath(`${stem}.hdf5`));
    expect(result).toMatchObject({ layout: 'keras2', layersLoaded: 29 });
    const input = readF32(`${stem}.input.f32`);
    const expected = readF32(`${stem}.output.f32`);
    expect(input.length).toBe(2 * 64 * 64);
    expect(expected.length).toBe(2 * numClasses);
    const out = tf.tidy(() => (model.predict(tf.tensor4d(input, [2, 64, 64, 1])) as tf.Tensor).dataSync());
    expect(maxAbsDiff(out, expected)).toBeLessThan(1e-4);
    model.dispose();
  });
});
