import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { decodePredictions, IMAGENET_LABELS, preprocessInput, XceptionConfigError } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';

beforeAll(() => useBackend('cpu'));

describe('ImageNet helpers', () => {
  it('ships the 1000 labels of @tensorflow-models/mobilenet, in class order', () => {
    const { IMAGENET_CLASSES } = createRequire(import.meta.url)('@tensorflow-models/mobilenet/dist/imagenet_classes.js');
    expect(IMAGENET_LABELS).toHaveLength(1000);
    expect(IMAGENET_LABELS).toEqual(Array.from({ length: 1000 }, (_, i) => IMAGENET_CLASSES[i]));
    expect([IMAGENET_LABELS[0], IMAGENET_LABELS[281], IMAGENET_LABELS[999]]).toEqual([
      'tench, Tinca tinca', 'tabby, tabby cat', 'toilet tissue, toilet paper, bathroom tissue',
    ]);
  });

  it('preprocessInput maps [0, 255] to [-1, 1] for int and float, 3D and 4D, without leaks', () => {
    const before = tf.memory().numTensors;
    const pixels = tf.tensor3d([0, 127.5, 255, 51], [1, 2, 2]);
    const ints = tf.tensor4d([0, 255, 128, 64], [1, 1, 2, 2], 'int32');
    const a = preprocessInput(pixels);
    const b = preprocessInput(ints);
    expect(a.dtype).toBe('float32');
    expect(Array.from(a.dataSync())).toEqual([-1, 0, 1, 51 / 127.5 - 1].map((v) => Math.fround(v)));
    expect(b.shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(b.dataSync())).toEqual([0, 255, 128, 64].map((v) => Math.fround(Math.fround(v / 127.5) - 1)));
    tf.dispose([pixels, ints, a, b]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => preprocessInput(tf.zeros([4, 4]) as never)).toThrow(XceptionConfigError);
  });

  it('decodePredictions returns the top-k per image, best first, with labels', () => {
    const probs = tf.tidy(() => {
      const rows = tf.buffer([2, 1000]);
      rows.set(0.6, 0, 281); rows.set(0.3, 0, 285); rows.set(0.1, 0, 7);
      rows.set(0.9, 1, 0); rows.set(0.05, 1, 1);
      return rows.toTensor();
    });
    const [first, second] = decodePredictions(probs, 3);
    expect(first).toEqual([
      { classIndex: 281, label: 'tabby, tabby cat', probability: Math.fround(0.6) },
      { classIndex: 285, label: 'Egyptian cat', probability: Math.fround(0.3) },
      { classIndex: 7, label: 'cock', probability: Math.fround(0.1) },
    ]);
    expect(second!.map((p) => p.classIndex)).toEqual([0, 1, 2]); // ties broken by class index
    expect(decodePredictions(probs)[0]).toHaveLength(5);
    expect(() => decodePredictions(tf.zeros([1, 10]))).toThrow('decodePredictions expects ImageNet outputs of shape [batch, 1000] or [1000]; got [1,10].');
    expect(() => decodePredictions(probs, 0)).toThrow('topK must be an integer from 1 to 1000; got 0.');
    probs.dispose();
  });
});
