import { beforeAll, describe, it } from 'vitest';
import { useBackend } from '../helpers/backend.js';
import { expectEveryWeightLearns } from '../helpers/expect-every-weight-learns.js';

// The aligned presets dilate their depthwise convolutions through space-to-batch
// (see gradients-dilated-keras.test.ts). xception41 at 32×32: the last feature
// map is 2×2 at output stride 16 and 4×4 at 8.
beforeAll(() => useBackend('cpu'));

// Conv kernels: stem 2 + 4 shortcuts; 13 units × 3 separable convs × (depthwise, pointwise);
// BN: stem 2 + 39 × 2 + 4 shortcuts, × (gamma, beta); dense kernel and bias.
const VARIABLES = 6 + 39 * 2 + 84 * 2 + 2;

describe('gradients of the dilated xception41', () => {
  it.each([16, 8] as const)('output stride %i: every trainable weight receives a non-zero, finite gradient', (outputStride) => {
    expectEveryWeightLearns({ preset: 'xception41', outputStride, inputShape: [32, 32, 3] }, VARIABLES);
  }, 300_000);
});
