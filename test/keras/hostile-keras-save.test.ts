import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception, saveKerasModel, saveKerasWeights, XceptionConfigError } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';

beforeAll(() => useBackend('cpu'));

/** `promise` rejects with an XceptionConfigError whose message contains `message`. */
async function expectRejected(promise: Promise<unknown>, message: string) {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(XceptionConfigError);
  expect((error as Error).message).toContain(message);
}

describe('saving a disposed model', () => {
  it('saveKerasWeights and saveKerasModel say the model was disposed, leaking nothing', async () => {
    const model = createXception({ preset: 'mini', inputShape: [32, 32, 1], numClasses: 3 });
    model.dispose();
    const before = tf.memory().numTensors;
    await expectRejected(saveKerasWeights(model), "saveKerasWeights: model 'xception' has been disposed (its weights were freed); pass a live model");
    await expectRejected(saveKerasWeights(model, { format: 'keras3' }), "saveKerasWeights: model 'xception' has been disposed");
    await expectRejected(saveKerasModel(model), "saveKerasModel: model 'xception' has been disposed (its weights were freed); pass a live model");
    expect(tf.memory().numTensors).toBe(before);
  });
});
