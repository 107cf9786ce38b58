import { beforeAll, describe, it } from 'vitest';
import { useBackend } from '../helpers/backend.js';
import { expectEveryWeightLearns } from '../helpers/expect-every-weight-learns.js';

// Dilated backbones must train: tfjs has no gradient for a dilated depthwise
// convolution, so xception-ts dilates through space-to-batch. The full model at
// 32×32: its last feature map is 2×2 at output stride 16 and 4×4 at 8.
beforeAll(() => useBackend('cpu'));

// 6 conv kernels + 34 separable convs × 2 kernels + 40 BN × (gamma, beta) + dense kernel and bias.
const VARIABLES = 6 + 34 * 2 + 40 * 2 + 2;

describe("gradients of the dilated 'keras' preset", () => {
  it.each([16, 8] as const)('output stride %i: every trainable weight receives a non-zero, finite gradient', (outputStride) => {
    expectEveryWeightLearns({ preset: 'keras', outputStride, inputShape: [32, 32, 3] }, VARIABLES);
  }, 300_000);
});
