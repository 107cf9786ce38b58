import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { decodePredictions, preprocessInput, XceptionConfigError } from '../../src/index.js';
import { useBackend } from '../helpers/backend.js';

beforeAll(() => useBackend('cpu'));

/** A tensor that was disposed after it was made. */
function disposedTensor(shape: number[]): tf.Tensor {
  const t = tf.zeros(shape);
  t.dispose();
  return t;
}

/** `call` throws an XceptionConfigError with exactly `message`, and leaves no tensor behind. */
function expectRefused(call: () => unknown, message: string) {
  const before = tf.memory().numTensors;
  let thrown: unknown;
  try {
    call();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(XceptionConfigError);
  expect((thrown as Error).message).toBe(message);
  expect(tf.memory().numTensors).toBe(before);
}

describe('preprocessInput refuses what is not a live pixel tensor', () => {
  it.each([
    ['null', () => null, 'preprocessInput: images must be a tf.Tensor; got null.'],
    ['undefined', () => undefined, 'preprocessInput: images must be a tf.Tensor; got undefined.'],
    ['{}', () => ({}), 'preprocessInput: images must be a tf.Tensor; got [object Object].'],
    ['a plain array', () => [[0, 1]], 'preprocessInput: images must be a tf.Tensor; got an array of length 1.'],
    ['a disposed tensor', () => disposedTensor([2, 2, 3]), 'preprocessInput: images is a tf.Tensor that has been disposed; pass a live tensor.'],
  ])('%s', (_label, make, message) => {
    const value = make();
    expectRefused(() => preprocessInput(value as never), message);
  });

  it('a string tensor', () => {
    const strings = tf.tensor(['a', 'b', 'c', 'd'], [1, 2, 2]);
    expectRefused(() => preprocessInput(strings as never), "preprocessInput takes a float32 or int32 tensor of pixels; got dtype 'string'.");
    strings.dispose();
  });
});

describe('decodePredictions refuses what is not a live tensor of 1000 numbers', () => {
  it.each([
    ['null', () => null, 'decodePredictions: probabilities must be a tf.Tensor; got null.'],
    ['{}', () => ({}), 'decodePredictions: probabilities must be a tf.Tensor; got [object Object].'],
    ['a Float32Array', () => new Float32Array(1000), 'decodePredictions: probabilities must be a tf.Tensor; got a Float32Array.'],
    ['a disposed tensor', () => disposedTensor([1, 1000]), 'decodePredictions: probabilities is a tf.Tensor that has been disposed; pass a live tensor.'],
  ])('%s', (_label, make, message) => {
    const value = make();
    expectRefused(() => decodePredictions(value as never), message);
  });

  it('NaN outputs (their order would be arbitrary) name the image and class', () => {
    const probabilities = tf.tidy(() => {
      const rows = tf.buffer([2, 1000]);
      rows.set(0.5, 0, 3);
      rows.set(Number.NaN, 1, 17);
      return rows.toTensor();
    });
    expectRefused(
      () => decodePredictions(probabilities),
      'decodePredictions: probabilities hold NaN (first at image 1, class 17); the model produced no valid output for that image (check its input for NaN or Infinity).',
    );
    probabilities.dispose();
  });

  it('an int32 tensor', () => {
    const ints = tf.zeros([1, 1000], 'int32');
    expectRefused(() => decodePredictions(ints), "decodePredictions expects float32 outputs; got dtype 'int32'.");
    ints.dispose();
  });
});
