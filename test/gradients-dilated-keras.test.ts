import { beforeAll, describe, it } from 'vitest';
import { useBackend } from './helpers/backend.js';
import { expectEveryWeightLearns } from './helpers/expect-every-weight-learns.js';

// Dilated backbones must train: tfjs has no gradient for a dilated depthwise
// convolution, so xception-ts dilates through space-to-batch. One middle unit
// keeps the slow cpu gradient affordable; every kind of layer is still there
// (the stride-1 block-4 unit at output stride 8, dilated middle, block 13 and 14).
beforeAll(() => useBackend('cpu'));

// 6 conv kernels + 13 separable convs × 2 kernels + 19 BN × (gamma, beta) + dense kernel and bias.
const VARIABLES = 6 + 13 * 2 + 19 * 2 + 2;

describe("gradients of the dilated 'keras' preset", () => {
  it.each([16, 8] as const)('output stride %i: every trainable weight receives a non-zero, finite gradient', (outputStride) => {
    expectEveryWeightLearns({ preset: 'keras', middleFlowRepeats: 1, outputStride, inputShape: [32, 32, 3] }, VARIABLES);
  }, 300_000);
});
