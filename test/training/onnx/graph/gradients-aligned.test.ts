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
 * tf.variableGrads on the aligned xception41 (BN after every depthwise conv,
 * stride on the third separable conv of a unit, eight middle units), 40×40, batch 2.
 *
 * A depthwise BN's beta is followed by a linear 1×1 conv and a training-mode BN,
 * which removes any per-channel shift: its exact gradient is 0, and both tfjs and
 * ONNX return float32 rounding noise (about 1e-9). There the error is measured
 * against the gradient scale of the same layer's gamma instead, and tfjs' own
 * value must be that small too.
 * Error: max |onnx − tfjs| / max |tfjs| per weight, ≤ 1e-4.
 */
describe('training graph gradients equal tfjs on an aligned preset', () => {
  it.each<[string, XceptionOptions]>([
    ['xception41', { preset: 'xception41' }],
  ])('%s', async (_, options) => {
    const model = createXception({ inputShape: [40, 40, 3], numClasses: 5, classifierActivation: 'linear', allowSmallInput: true, ...options });
    randomizeSeeded(model, 2); // seed 1 puts a ReLU input of block13 within 1e-5 of 0 (see compareGradients)
    const before = tf.memory().numTensors;
    const { loss, errors, absoluteErrors, scales } = await compareGradients(model, (batchSize) => buildTrainingGraph(model, { optimizer: { type: 'sgd' }, batchSize, outputGradients: true }), { batchSize: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(errors.size).toBe(model.trainableWeights.length);
    expect(Math.abs(loss[0] - loss[1]) / loss[1]).toBeLessThan(1e-5);
    // Units that start with a ReLU have no ReLU between the depthwise BN and the pointwise conv.
    const layerNames = new Set(model.layers.map((layer) => layer.name));
    const shiftInvariant = [...errors.keys()].filter((name) => name.endsWith('_depthwise_bn/beta') && !layerNames.has(name.replace('_bn/beta', '_act')));
    expect(shiftInvariant).toHaveLength(12 * 3); // 12 of the 13 units, three separable convs each
    for (const beta of shiftInvariant) {
      const gammaScale = scales.get(beta.replace(/beta$/, 'gamma'))!;
      expect(scales.get(beta)! / gammaScale).toBeLessThan(1e-3);
      expect(absoluteErrors.get(beta)! / gammaScale).toBeLessThan(1e-4);
      errors.delete(beta);
    }
    expect(worst(errors)[1]).toBeLessThan(1e-4);
    model.dispose();
  }, 120_000);
});
