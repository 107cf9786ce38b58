import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXception, XceptionTrainingError } from '../../../../src/index.js';
import { buildEvaluationGraph } from '../../../../src/training/onnx/graph/build-evaluation-graph.js';
import { buildTrainingGraph, type BuildTrainingGraphOptions } from '../../../../src/training/onnx/graph/build-training-graph.js';
import { useBackend } from '../../../helpers/backend.js';

beforeAll(() => useBackend('cpu'));

type S = tf.SymbolicTensor;
const sgd = { optimizer: { type: 'sgd' }, batchSize: 2 } as const;

/** images → conv → `middle` → global pooling → dense(3). */
function modelWith(middle: (x: S) => S, name = 'm'): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3], name: 'images' });
  const x = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv' }).apply(input) as S;
  const pooled = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(middle(x)) as S;
  return tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3, name: 'logits' }).apply(pooled) as S, name });
}

function expectTrainingError(build: () => unknown, message: RegExp): void {
  let error: unknown;
  try {
    build();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(XceptionTrainingError);
  expect((error as Error).name).toBe('XceptionTrainingError');
  expect((error as Error).message).toMatch(message);
}

describe('training graph errors', () => {
  it('names a layer it cannot differentiate and lists what it knows', () => {
    const model = modelWith((x) => tf.layers.layerNormalization({ name: 'norm' }).apply(x) as S);
    expectTrainingError(() => buildTrainingGraph(model, sgd), /cannot differentiate layer 'norm' \(LayerNormalization\): unknown layer class\. The training graph knows InputLayer, Conv2D, .*ZeroPadding2D/);
    expectTrainingError(() => buildEvaluationGraph(model, { batchSize: 2 }), /^buildEvaluationGraph: cannot differentiate layer 'norm'/);
  });

  it('names an activation it cannot differentiate, and a softmax before the output', () => {
    expectTrainingError(() => buildTrainingGraph(modelWith((x) => tf.layers.activation({ activation: 'tanh', name: 'squash' }).apply(x) as S), sgd), /layer 'squash' \(Activation\): activation 'tanh'/);
    expectTrainingError(
      () => buildTrainingGraph(modelWith((x) => tf.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'sigmoid', name: 'gate' }).apply(x) as S), sgd),
      /layer 'gate' \(Conv2D\): activation 'sigmoid'/,
    );
  });

  it('rejects a layer applied twice, depth multipliers and channels-first layers', () => {
    const shared = tf.layers.conv2d({ filters: 4, kernelSize: 1, name: 'shared' });
    expectTrainingError(() => buildTrainingGraph(modelWith((x) => shared.apply(shared.apply(x)) as S), sgd), /layer 'shared' \(Conv2D\) is used 2 times/);
    expectTrainingError(
      () => buildTrainingGraph(modelWith((x) => tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', name: 'dw' }).apply(x) as S), sgd),
      /layer 'dw' \(DepthwiseConv2D\): depthMultiplier 2 \(only 1\)/,
    );
  });

  it('rejects models that are not single-input image classifiers of known size', () => {
    const open = createXception({ includeTop: false, inputShape: [null, null, 3] as unknown as [number, number, number], preset: 'keras' });
    expectTrainingError(() => buildTrainingGraph(open, sgd), /input must be \[batch, height, width, channels\] with a known size; 'xception' has \[null, null, null, 3\]/);
    open.dispose();
    const input = tf.input({ shape: [8, 8, 3] });
    const features = tf.model({ inputs: input, outputs: tf.layers.conv2d({ filters: 2, kernelSize: 1, name: 'c' }).apply(input) as S, name: 'features' });
    expectTrainingError(() => buildTrainingGraph(features, sgd), /output must be \[batch, classes\] logits or probabilities; 'features' outputs \[null, 8, 8, 2\]/);
    const second = tf.layers.conv2d({ filters: 1, kernelSize: 1, name: 'c2' }).apply(input) as S;
    const two = tf.model({ inputs: input, outputs: [features.outputs[0]!, second], name: 'two' });
    expectTrainingError(() => buildTrainingGraph(two, sgd), /one input and one output; 'two' has 1 and 2/);
  });

  it.each<[string, Partial<BuildTrainingGraphOptions>, RegExp]>([
    ['an unknown optimizer', { optimizer: { type: 'rmsprop' } as never }, /optimizer\.type must be 'sgd', 'adam' or 'adamw'; got 'rmsprop'/],
    ['momentum 1', { optimizer: { type: 'sgd', momentum: 1 } }, /optimizer\.momentum must be in \[0, 1\); got 1/],
    ['Nesterov without momentum', { optimizer: { type: 'sgd', nesterov: true } }, /nesterov needs a momentum > 0; got momentum 0/],
    ['a negative weight decay', { optimizer: { type: 'adamw', weightDecay: -0.1 } }, /optimizer\.weightDecay must be a number ≥ 0; got -0\.1/],
    ['beta2 1', { optimizer: { type: 'adam', beta2: 1 } }, /optimizer\.beta2 must be in \[0, 1\); got 1/],
    ['epsilon 0', { optimizer: { type: 'adam', epsilon: 0 } }, /optimizer\.epsilon must be a positive number; got 0/],
    ['an unknown loss', { loss: { type: 'mse' } as never }, /loss\.type must be 'categoricalCrossentropy' or 'sparseCategoricalCrossentropy'; got 'mse'/],
    ['label smoothing 1', { loss: { type: 'categoricalCrossentropy', labelSmoothing: 1 } }, /loss\.labelSmoothing must be in \[0, 1\); got 1/],
    ['batch size 2.5', { batchSize: 2.5 }, /batchSize must be a positive integer \(the graph's batch is fixed\); got 2\.5/],
    ['batch size 0', { batchSize: 0 }, /batchSize must be a positive integer .*; got 0/],
  ])('rejects %s before building anything', (_, override, message) => {
    const model = modelWith((x) => x);
    const before = tf.memory().numTensors;
    expectTrainingError(() => buildTrainingGraph(model, { ...sgd, ...override } as BuildTrainingGraphOptions), message);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
