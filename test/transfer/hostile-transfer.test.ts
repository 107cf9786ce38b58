import { beforeAll, describe, expect, it } from 'vitest';
import { createXception, freezeBackbone, unfreeze, XceptionConfigError } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';

beforeAll(() => useBackend('cpu'));

/** `call` throws an XceptionConfigError whose message contains `message`. */
function expectThrown(call: () => unknown, message: string) {
  expect(call).toThrow(XceptionConfigError);
  expect(call).toThrow(message);
}

describe('freezeBackbone and unfreeze refuse hostile arguments and change nothing', () => {
  it('unknown (misspelt) options leave every layer as it was', () => {
    const model = createXception({ preset: 'mini', inputShape: [32, 32, 1], numClasses: 3 });
    const fresh = model.layers.map((layer) => layer.trainable);
    expectThrown(() => freezeBackbone(model, { upto: 'block2_pool' } as never), "Unknown freezeBackbone option 'upto'; valid options are 'upTo', 'keepBatchNormFrozen'");
    expect(model.layers.map((layer) => layer.trainable)).toEqual(fresh);
    freezeBackbone(model);
    const frozen = model.layers.map((layer) => layer.trainable);
    expectThrown(() => unfreeze(model, { keepBN: false } as never), "Unknown unfreeze option 'keepBN'; valid options are 'keepBatchNormFrozen'");
    expect(model.layers.map((layer) => layer.trainable)).toEqual(frozen);
    model.dispose();
  });

  it('a disposed model', () => {
    const model = createXception({ preset: 'mini', inputShape: [32, 32, 1], numClasses: 3 });
    const fresh = model.layers.map((layer) => layer.trainable);
    model.dispose();
    expectThrown(() => freezeBackbone(model), "freezeBackbone: model 'xception' has been disposed (its weights were freed); pass a live model");
    expectThrown(() => unfreeze(model), "unfreeze: model 'xception' has been disposed");
    expect(model.layers.map((layer) => layer.trainable)).toEqual(fresh);
  });
});
