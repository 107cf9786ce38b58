import { beforeAll, describe, expect, it } from 'vitest';
import { countParameters, createXception, type XceptionOptions } from '../../src/index.js';
import { sizeOf, useBackend } from '../helpers/backend.js';

beforeAll(() => useBackend('cpu'));

// Keras Applications' published counts (../shared/reference/README.md). The
// post-activation variant has the same weights, so the same counts.
const BN_NON_TRAINABLE = 54_528;
const cases: [string, XceptionOptions, number][] = [];
for (const preset of ['keras', 'postact'] as const) {
  cases.push(
    [`${preset}, 1000-class top`, { preset }, 22_910_480],
    [`${preset}, no top`, { preset, includeTop: false }, 20_861_480],
    [`${preset}, no top, avg pooling`, { preset, includeTop: false, pooling: 'avg' }, 20_861_480],
    [`${preset}, 100-class top`, { preset, numClasses: 100 }, 21_066_380],
  );
}

describe('parameter counts', () => {
  it.each(cases)('%s', (_label, options, total) => {
    const model = createXception(options);
    try {
      // Independent of countParameters: tfjs' own count and a sum over weight shapes.
      expect(model.countParams()).toBe(total);
      const trainable = model.trainableWeights.reduce((n, w) => n + sizeOf(w.shape), 0);
      const nonTrainable = model.nonTrainableWeights.reduce((n, w) => n + sizeOf(w.shape), 0);
      expect(nonTrainable).toBe(BN_NON_TRAINABLE);
      expect(trainable).toBe(total - BN_NON_TRAINABLE);
      expect(countParameters(model)).toEqual({ total, trainable, nonTrainable });
    } finally {
      model.dispose();
    }
  });

  it('matches the Keras split 22,855,952 trainable + 54,528 non-trainable', () => {
    const model = createXception();
    expect(countParameters(model)).toEqual({ total: 22_910_480, trainable: 22_855_952, nonTrainable: 54_528 });
    model.dispose();
  });

  it('grows by 3 × (728·9 + 728·728 + 4·728) per extra middle unit', () => {
    const perUnit = 3 * (728 * 9 + 728 * 728 + 4 * 728);
    const model = createXception({ includeTop: false, middleFlowRepeats: 9 });
    expect(model.countParams()).toBe(20_861_480 + perUnit);
    model.dispose();
  });
});
