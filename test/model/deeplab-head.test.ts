import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createDeepLab } from '../helpers/deeplab-head.js';
import { useBackend } from '../helpers/backend.js';

beforeAll(() => useBackend('wasm'));

describe('the segmentation guide’s DeepLab head', () => {
  it('builds on xception65 at output stride 16 and predicts per-pixel logits', () => {
    const model = createDeepLab(128, 21);
    expect(model.getLayer('aspp2').getClassName()).toBe('XceptionAtrousSeparableConv2D');
    expect(model.getLayer('aspp2').getConfig()).toMatchObject({ dilationRate: [12, 12] });
    const logits = tf.tidy(() => model.predict(tf.randomUniform([1, 128, 128, 3], -1, 1)) as tf.Tensor);
    expect(logits.shape).toEqual([1, 128, 128, 21]);
    expect(Array.from(logits.dataSync()).every(Number.isFinite)).toBe(true);
    logits.dispose();
    model.dispose();
  });
});
