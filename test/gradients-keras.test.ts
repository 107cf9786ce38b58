import { beforeAll, describe, it } from 'vitest';
import { useBackend } from './helpers/backend.js';
import { expectEveryWeightLearns } from './helpers/expect-every-weight-learns.js';

// One file per preset, so that the two slow cpu gradient checks run in parallel.
beforeAll(() => useBackend('cpu'));

describe('gradients', () => {
  it("'keras': every trainable weight receives a non-zero, finite gradient", () => {
    expectEveryWeightLearns('keras');
  }, 300_000);
});
