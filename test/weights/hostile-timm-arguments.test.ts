import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception, loadTimmWeights, XceptionConfigError } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';
import { writeSafetensors } from '../helpers/safetensors-writer.js';

beforeAll(() => useBackend('cpu'));

/** `promise` rejects with an XceptionConfigError whose message contains `message`. */
async function expectRejected(promise: Promise<unknown>, message: string) {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(XceptionConfigError);
  expect((error as Error).message).toContain(message);
}

const file = writeSafetensors([{ name: 'stem.0.conv.weight', dtype: 'F32', shape: [1], data: [1] }]);
const load = loadTimmWeights as (model: unknown, source: unknown, options?: unknown) => Promise<unknown>;

describe('loadTimmWeights refuses a bad model or bad options before reading the file', () => {
  it('null, {} and a disposed model', async () => {
    await expectRejected(load(null, file), 'loadTimmWeights: model must be a tf.LayersModel (e.g. from createXception or tf.model); got null');
    await expectRejected(load({}, file), 'loadTimmWeights: model must be a tf.LayersModel');
    const model = createXception({ preset: 'mini', inputShape: [32, 32, 1], numClasses: 3 });
    model.dispose();
    await expectRejected(load(model, file), "loadTimmWeights: model 'xception' has been disposed (its weights were freed); pass a live model");
  });

  it("options that are not an object, unknown keys, 'false' for a boolean", async () => {
    const model = createXception({ preset: 'mini', inputShape: [32, 32, 1], numClasses: 3 });
    const before = model.getWeights().map((w) => w.dataSync().slice());
    const count = tf.memory().numTensors;
    await expectRejected(load(model, file, 'skip'), 'loadTimmWeights options must be an object; got "skip"');
    await expectRejected(load(model, file, { skipMismatches: true }), "Unknown loadTimmWeights option 'skipMismatches'; valid options are 'skipMismatch', 'allowNonFinite'");
    await expectRejected(load(model, file, { skipMismatch: 'false' }), 'loadTimmWeights: skipMismatch must be true or false; got "false"');
    await expectRejected(load(model, file, { allowNonFinite: 1 }), 'loadTimmWeights: allowNonFinite must be true or false; got 1');
    expect(tf.memory().numTensors).toBe(count);
    model.getWeights().forEach((w, i) => expect(w.dataSync()).toEqual(before[i]));
    model.dispose();
  });
});
