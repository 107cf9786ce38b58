import { beforeAll, describe, it } from 'vitest';
import { useBackend } from '../helpers/backend.js';
import { expectEveryWeightLearns } from '../helpers/expect-every-weight-learns.js';

beforeAll(() => useBackend('cpu'));

describe('gradients', () => {
  it("'keras': every trainable weight receives a non-zero, finite gradient", () => {
    // 6 conv kernels + 34 separable convs × 2 kernels + 40 BN × (gamma, beta) + dense kernel and bias.
    expectEveryWeightLearns({ preset: 'keras' }, 6 + 34 * 2 + 40 * 2 + 2);
  }, 300_000);
});
