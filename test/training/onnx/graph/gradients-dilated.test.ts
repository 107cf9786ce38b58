import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception, type XceptionOptions } from '../../../../src/index.js';
import { buildTrainingGraph } from '../../../../src/training/onnx/graph/build-training-graph.js';
import { useBackend } from '../../../helpers/backend.js';
import { useFastCpuFilterGradient } from '../../../helpers/fast-cpu-filter-gradient.js';
import { compareGradients, worst, randomizeSeeded } from '../../../helpers/onnx-training.js';

beforeAll(async () => {
  await useBackend('cpu');
  useFastCpuFilterGradient();
});

/*
 * The training graph's gradient of every trainable weight against tfjs'
 * tf.variableGrads at output stride 16 and 8, where the later units keep
 * their resolution and dilate their depthwise convolutions (tfjs runs them
 * through space-to-batch, the ONNX graph as dilated convolutions: two
 * independent computations). 40×40, batch 2, one middle unit.
 * Error: max |onnx − tfjs| / max |tfjs| per weight, ≤ 1e-4.
 */
describe('training graph gradients equal tfjs with dilated convolutions', () => {
  it.each<[string, XceptionOptions]>([
    ['keras, output stride 16', { preset: 'keras', middleFlowRepeats: 1, outputStride: 16 }],
    ['keras, output stride 8', { preset: 'keras', middleFlowRepeats: 1, outputStride: 8 }],
  ])('%s', async (_, options) => {
    const model = createXception({ inputShape: [40, 40, 3], numClasses: 5, classifierActivation: 'linear', allowSmallInput: true, ...options });
    randomizeSeeded(model);
    const before = tf.memory().numTensors;
    const { loss, errors } = await compareGradients(model, (batchSize) => buildTrainingGraph(model, { optimizer: { type: 'sgd' }, batchSize, outputGradients: true }), { batchSize: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(errors.size).toBe(model.trainableWeights.length);
    expect(Math.abs(loss[0] - loss[1]) / loss[1]).toBeLessThan(1e-5);
    expect(worst(errors)[1]).toBeLessThan(1e-4);
    model.dispose();
  }, 120_000);
});
