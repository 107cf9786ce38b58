import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception, createXceptionBackbone, middleFlow, XCEPTION_LIMITS, XceptionConfigError } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';

// Issue 14, finding 5: declared sizes are checked against one table before
// anything is allocated. Before, numClasses 1e6, middleFlowRepeats 1e6 or 1e6
// channels allocated 8-21 GB and numClasses 1e9 threw a raw RangeError.
beforeAll(() => useBackend('cpu'));

/** Calls `build`, expecting an XceptionConfigError with `message`, fast and with no tensor left behind. */
function refuses(build: () => unknown, message: string): void {
  const tensors = tf.memory().numTensors;
  const start = performance.now();
  let error: unknown;
  try {
    build();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(XceptionConfigError);
  expect((error as Error).message).toBe(message);
  expect(performance.now() - start).toBeLessThan(200); // refused up front, not after allocating
  expect(tf.memory().numTensors).toBe(tensors);
}

describe('XCEPTION_LIMITS', () => {
  it('is one frozen table with generous limits', () => {
    expect(XCEPTION_LIMITS).toEqual({ maxNumClasses: 100_000, maxMiddleFlowRepeats: 64, maxInputSize: 4096, maxInputChannels: 4096 });
    expect(Object.isFrozen(XCEPTION_LIMITS)).toBe(true);
    // The stated memory of the largest classifier: 2048 × 100000 float32.
    expect(2048 * XCEPTION_LIMITS.maxNumClasses * 4).toBe(819_200_000);
  });

  it.each([
    [{ numClasses: 1e6 }, 'numClasses 1000000 is above 100000, the largest xception-ts accepts (XCEPTION_LIMITS.maxNumClasses: a 2048 × 100000 float32 classifier already takes 819 MB).'],
    [{ numClasses: 1e9 }, 'numClasses 1000000000 is above 100000, the largest xception-ts accepts (XCEPTION_LIMITS.maxNumClasses: a 2048 × 100000 float32 classifier already takes 819 MB).'],
    [{ numClasses: 100_001 }, 'numClasses 100001 is above 100000, the largest xception-ts accepts (XCEPTION_LIMITS.maxNumClasses: a 2048 × 100000 float32 classifier already takes 819 MB).'],
    [{ middleFlowRepeats: 1e6 }, 'middleFlowRepeats 1000000 is above 64, the largest xception-ts accepts (XCEPTION_LIMITS.maxMiddleFlowRepeats: 64 middle units already hold 104 M parameters).'],
    [{ inputShape: [299, 299, 1e6] }, 'inputShape [299,299,1000000]: channels 1000000 is above 4096, the largest xception-ts accepts (XCEPTION_LIMITS.maxInputChannels: far more bands than any real image has).'],
    [{ inputShape: [100_000, 299, 3] }, 'inputShape [100000,299,3]: height 100000 is above 4096, the largest xception-ts accepts (XCEPTION_LIMITS.maxInputSize: a 4096 × 4096 image already takes 201 MB as float32 input).'],
    [{ includeTop: false, inputShape: [null, 4097, 3] }, 'inputShape [null,4097,3]: width 4097 is above 4096, the largest xception-ts accepts (XCEPTION_LIMITS.maxInputSize: a 4096 × 4096 image already takes 201 MB as float32 input).'],
  ])('createXception(%j) is refused before anything is built', (options, message) => {
    refuses(() => createXception(options as never), message);
  });

  it('createXceptionBackbone and middleFlow share the table', () => {
    refuses(
      () => createXceptionBackbone({ inputShape: [null, null, 1e6] }),
      'inputShape [null,null,1000000]: channels 1000000 is above 4096, the largest xception-ts accepts (XCEPTION_LIMITS.maxInputChannels: far more bands than any real image has).',
    );
    refuses(
      () => createXceptionBackbone({ middleFlowRepeats: 65 }),
      'middleFlowRepeats 65 is above 64, the largest xception-ts accepts (XCEPTION_LIMITS.maxMiddleFlowRepeats: 64 middle units already hold 104 M parameters).',
    );
    const x = tf.input({ shape: [19, 19, 728] });
    refuses(
      () => middleFlow(x, { repeats: 1e6 }),
      'middleFlow: repeats 1000000 is above 64, the largest xception-ts accepts (XCEPTION_LIMITS.maxMiddleFlowRepeats: 64 middle units already hold 104 M parameters).',
    );
  });

  it('the limits themselves are accepted (symbolic models at the limit build)', () => {
    const tensors = tf.memory().numTensors;
    // No top, no middle units: cheap to build at the largest input and channel count.
    const model = createXception({ includeTop: false, middleFlowRepeats: 0, inputShape: [4096, 71, 4096] });
    expect(model.inputs[0]!.shape).toEqual([null, 4096, 71, 4096]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
  });
});
