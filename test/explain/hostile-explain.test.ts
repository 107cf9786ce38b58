import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception, gradCam, overlayHeatmap, XceptionConfigError } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';

/** `call` throws an XceptionConfigError whose message contains `message`. */
function expectThrown(call: () => unknown, message: string) {
  expect(call).toThrow(XceptionConfigError);
  expect(call).toThrow(message);
}

beforeAll(() => useBackend('cpu'));

describe('gradCam refuses hostile arguments, computing nothing', () => {
  it('a disposed model, a disposed image, an unknown option', () => {
    const model = createXception({ preset: 'mini', inputShape: [32, 32, 1], numClasses: 3 });
    const image = tf.zeros([32, 32, 1]);
    const dead = tf.zeros([32, 32, 1]);
    dead.dispose();
    const before = tf.memory().numTensors;
    expectThrown(() => gradCam(model, dead as tf.Tensor3D), 'gradCam: image is a tf.Tensor that has been disposed; pass a live tensor');
    expectThrown(() => gradCam(model, image as tf.Tensor3D, { clasIndex: 1 } as never), "Unknown gradCam option 'clasIndex'; valid options are 'layerName', 'classIndex'");
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    expectThrown(() => gradCam(model, image as tf.Tensor3D), "gradCam: model 'xception' has been disposed (its weights were freed); pass a live model");
    image.dispose();
  });
});

describe('overlayHeatmap refuses hostile arguments', () => {
  const pixels = { data: new Uint8Array(2 * 2 * 4), width: 2, height: 2 };
  it('a disposed heatmap tensor', () => {
    const heatmap = tf.ones([2, 2]);
    heatmap.dispose();
    expectThrown(() => overlayHeatmap(pixels, heatmap as tf.Tensor2D), 'overlayHeatmap: heatmap is a tf.Tensor that has been disposed; pass a live tensor');
  });
  it('an image too large to allocate its RGBA output', () => {
    const huge = { data: { length: 1e5 * 1e5 * 4 } as ArrayLike<number>, width: 1e5, height: 1e5 };
    expectThrown(() => overlayHeatmap(huge, { data: [1], width: 1, height: 1 }), 'overlayHeatmap: image 100000 × 100000 has 10000000000 pixels, above the 268435456');
  });
  it('image data that is not numbers, heatmap values that are not finite, unknown options', () => {
    expectThrown(
      () => overlayHeatmap({ data: 'abcdefghijklmnop' as unknown as ArrayLike<number>, width: 2, height: 2 }, { data: [1], width: 1, height: 1 }),
      'overlayHeatmap: image data must be an array or typed array of numbers (e.g. ImageData.data); got a string',
    );
    expectThrown(() => overlayHeatmap(pixels, { data: [0, NaN, 1, 1], width: 2, height: 2 }), 'overlayHeatmap: heatmap value 1 is NaN; heatmap values must be finite (gradCam gives [0, 1])');
    expectThrown(() => overlayHeatmap(pixels, { data: [1], width: 1, height: 1 }, { alfa: 0.5 } as never), "Unknown overlayHeatmap option 'alfa'; valid options are 'alpha', 'colormap'");
  });
});
