import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { separableBlock } from '../../../../src/index.js';
import { buildEvaluationGraph } from '../../../../src/training/onnx/graph/build-evaluation-graph.js';
import { buildTrainingGraph } from '../../../../src/training/onnx/graph/build-training-graph.js';
import { cpuFormulation } from '../../../../src/training/onnx/cpu-kernels.js';
import { modelProtoType } from '../../../../src/onnx/onnx-schema.js';
import { useBackend } from '../../../helpers/backend.js';
import { compareGradients, runOnnx, stateFeeds, worst, randomizeSeeded } from '../../../helpers/onnx-training.js';

beforeAll(() => useBackend('cpu'));

type S = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: S | S[]) => layer.apply(x) as S;

/**
 * A small model with every layer kind the graph differentiates: a strided
 * 'valid' conv with bias, zero padding, BN + ReLU, a dilated separable block
 * (the atrous layer), a stride-2 depthwise conv, a separable conv with bias,
 * a 'same' max pool, a 1×1 stride-2 shortcut, Add, global max or average
 * pooling, a ReLU dense layer and the linear classifier.
 */
function smallModel(pool: 'avg' | 'max', withDropout: boolean): { model: tf.LayersModel; trunk: tf.LayersModel; head: tf.layers.Layer[] } {
  const input = tf.input({ shape: [19, 19, 3], name: 'images' });
  let x = apply(tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'valid', useBias: true, name: 'stem' }), input);
  x = apply(tf.layers.zeroPadding2d({ padding: [[1, 0], [0, 1]], name: 'stem_pad' }), x);
  x = apply(tf.layers.batchNormalization({ name: 'stem_bn' }), x);
  x = apply(tf.layers.activation({ activation: 'relu', name: 'stem_act' }), x);
  x = separableBlock(x, { filters: 8, dilationRate: 2, name: 'dilated' });
  const shortcut = apply(tf.layers.conv2d({ filters: 10, kernelSize: 1, strides: 2, padding: 'same', useBias: false, name: 'shortcut' }), x);
  let y = apply(tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'strided_dw' }), x);
  y = apply(tf.layers.batchNormalization({ name: 'strided_dw_bn' }), y);
  y = apply(tf.layers.separableConv2d({ filters: 10, kernelSize: 3, padding: 'same', useBias: true, name: 'sep' }), y);
  y = apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same', name: 'pool' }), y);
  y = apply(tf.layers.add({ name: 'add' }), [y, shortcut]);
  y = apply(pool === 'avg' ? tf.layers.globalAveragePooling2d({ name: 'gap' }) : tf.layers.globalMaxPooling2d({ name: 'gmp' }), y);
  const trunk = tf.model({ inputs: input, outputs: y });
  const head = [
    tf.layers.dense({ units: 7, activation: 'relu', name: 'hidden' }),
    ...(withDropout ? [tf.layers.dropout({ rate: 0.25, name: 'dropout' })] : []),
    tf.layers.dense({ units: 5, name: 'logits' }),
  ];
  let z = y;
  for (const layer of head) z = apply(layer, z);
  const model = tf.model({ inputs: input, outputs: z });
  randomizeSeeded(model);
  return { model, trunk, head };
}

const sgd = { type: 'sgd' } as const;

describe('training graph gradients equal tfjs on every layer kind', () => {
  it.each(['avg', 'max'] as const)('global %s pooling, categorical labels', async (pool) => {
    const { model } = smallModel(pool, false);
    const before = tf.memory().numTensors;
    const { loss, errors } = await compareGradients(model, (batchSize) => buildTrainingGraph(model, { optimizer: sgd, batchSize, outputGradients: true }), { batchSize: 3 });
    expect(errors.size).toBe(model.trainableWeights.length);
    expect(Math.abs(loss[0] - loss[1]) / loss[1]).toBeLessThan(1e-5);
    expect(worst(errors)[1]).toBeLessThan(1e-4);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it.each(['taps', 'patches'] as const)("the '%s' depthwise filter gradient (the bench's alternatives) equals tfjs too", async (depthwiseFilterGradient) => {
    const { model } = smallModel('avg', false);
    const result = await compareGradients(
      model,
      (batchSize) => buildTrainingGraph(model, { optimizer: sgd, batchSize, outputGradients: true, formulation: { depthwiseFilterGradient } }),
      { batchSize: 2 },
    );
    expect(worst(result.errors)[1]).toBeLessThan(1e-4);
    model.dispose();
  });

  it("pointwise convolutions as MatMul (the bench's 'matmul' alternative) equal tfjs too", async () => {
    const { model } = smallModel('avg', false);
    const build = (batchSize: number) => buildTrainingGraph(model, { optimizer: sgd, batchSize, outputGradients: true, formulation: { pointwise: 'matmul' } });
    const nodes = (modelProtoType().decode(build(2).bytes) as unknown as { graph: { node: { op_type: string; name: string }[] } }).graph.node;
    // Both separable convolutions' pointwise halves run as MatMul, forward and input gradient.
    for (const layer of ['dilated', 'sep']) {
      const matmuls = nodes.filter((n) => n.op_type === 'MatMul' && n.name.startsWith(`${layer}/`)).map((n) => n.name);
      expect(matmuls.length, `${layer}: ${matmuls.join(', ')}`).toBeGreaterThanOrEqual(1);
      expect(nodes.some((n) => n.op_type === 'Conv' && n.name === layer)).toBe(false);
    }
    const result = await compareGradients(model, build, { batchSize: 2 });
    expect(result.errors.size).toBe(model.trainableWeights.length);
    expect(worst(result.errors)[1]).toBeLessThan(1e-4);
    model.dispose();
  });

  it("the ReLU gradient as dy · Cast(y > 0) (the bench's 'mask' alternative) equals tfjs too", async () => {
    const { model } = smallModel('avg', false);
    const build = (batchSize: number) => buildTrainingGraph(model, { optimizer: sgd, batchSize, outputGradients: true, formulation: { reluGradient: 'mask' } });
    const nodes = (modelProtoType().decode(build(2).bytes) as unknown as { graph: { node: { op_type: string; name: string }[] } }).graph.node;
    expect(nodes.filter((n) => n.op_type === 'Where').map((n) => n.name)).toEqual([]);
    expect(nodes.some((n) => n.op_type === 'Cast' && n.name === 'stem_act/relu/positive_mask')).toBe(true);
    const result = await compareGradients(model, build, { batchSize: 2 });
    expect(result.errors.size).toBe(model.trainableWeights.length);
    expect(worst(result.errors)[1]).toBeLessThan(1e-4);
    model.dispose();
  });

  it('sparse labels with label smoothing', async () => {
    const { model } = smallModel('avg', false);
    const loss = { type: 'sparseCategoricalCrossentropy', labelSmoothing: 0.2 } as const;
    const result = await compareGradients(model, (batchSize) => buildTrainingGraph(model, { optimizer: sgd, loss, batchSize, outputGradients: true }), {
      batchSize: 2,
      sparse: true,
      labelSmoothing: 0.2,
    });
    expect(Math.abs(result.loss[0] - result.loss[1]) / result.loss[1]).toBeLessThan(1e-5);
    expect(worst(result.errors)[1]).toBeLessThan(1e-4);
    model.dispose();
  });

  it('dropout with a fed keep mask (tfjs computes the same product by hand)', async () => {
    const { model, trunk, head } = smallModel('avg', true);
    const graph = buildTrainingGraph(model, { optimizer: sgd, batchSize: 2, outputGradients: true });
    expect(graph.dropoutMasks).toEqual([{ input: 'dropout/keep_mask', rate: 0.25, shape: ['batch', 7] }]);
    const mask = tf.tidy(() => tf.mul(tf.cast(tf.greater(tf.randomUniform([2, 7], 0, 1, 'float32', 3), 0.25), 'float32'), 1 / 0.75));
    expect(mask.dataSync()).toContain(0);
    const [hidden, , logits] = head as [tf.layers.Layer, tf.layers.Layer, tf.layers.Layer];
    const result = await compareGradients(model, () => graph, {
      batchSize: 2,
      masks: { 'dropout/keep_mask': mask },
      reference: () => {
        const images = tf.randomUniform([2, 19, 19, 3], -1, 1, 'float32', 1);
        const features = hidden.apply(trunk.apply(images, { training: true }) as tf.Tensor) as tf.Tensor;
        return logits.apply(tf.mul(features, mask)) as tf.Tensor;
      },
    });
    expect(Math.abs(result.loss[0] - result.loss[1]) / result.loss[1]).toBeLessThan(1e-5);
    expect(worst(result.errors)[1]).toBeLessThan(1e-4);
    mask.dispose();
    model.dispose();
  });
});

describe('a softmax output layer', () => {
  it('is left to the loss: the graph differentiates the logits before it', async () => {
    const { model: logitsModel } = smallModel('avg', false);
    const probabilities = tf.layers.activation({ activation: 'softmax', name: 'probabilities' }).apply(logitsModel.outputs[0]!) as S;
    const model = tf.model({ inputs: logitsModel.inputs, outputs: probabilities });
    const images = () => tf.randomUniform([2, 19, 19, 3], -1, 1, 'float32', 1);
    const result = await compareGradients(model, (batchSize) => buildTrainingGraph(model, { optimizer: sgd, batchSize, outputGradients: true }), {
      batchSize: 2,
      reference: () => logitsModel.apply(images(), { training: true }) as tf.Tensor,
    });
    expect(result.errors.size).toBe(model.trainableWeights.length);
    expect(Math.abs(result.loss[0] - result.loss[1]) / result.loss[1]).toBeLessThan(1e-5);
    expect(worst(result.errors)[1]).toBeLessThan(1e-4);
    model.dispose();
  });
});

describe('evaluation graph', () => {
  it('equals model.predict (BN on moving statistics) and tfjs loss, reading the training graph state names', async () => {
    const { model } = smallModel('max', true);
    const training = buildTrainingGraph(model, { optimizer: sgd, batchSize: 2 });
    const evaluation = buildEvaluationGraph(model, { batchSize: 2 });
    const trainingInputs = new Set(training.state.map((s) => s.input));
    expect(evaluation.state.every((s) => trainingInputs.has(s.input))).toBe(true);
    const images = tf.randomUniform([2, 19, 19, 3], -1, 1, 'float32', 5);
    const labels = tf.oneHot(tf.tensor1d([1, 4], 'int32'), 5).toFloat();
    const feeds = stateFeeds(evaluation);
    const ort = await import('onnxruntime-node');
    feeds[evaluation.images] = new ort.Tensor('float32', Float32Array.from(images.dataSync()), images.shape);
    feeds[evaluation.labels] = new ort.Tensor('float32', Float32Array.from(labels.dataSync()), labels.shape);
    const out = await runOnnx(evaluation.bytes, feeds);
    const expected = model.predict(images) as tf.Tensor;
    const actual = tf.tensor(out[evaluation.logits]!.data as Float32Array, expected.shape);
    expect(tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]).toBeLessThan(1e-5 * tf.max(tf.abs(expected)).dataSync()[0]!);
    const loss = tf.losses.softmaxCrossEntropy(labels, expected).dataSync()[0]!;
    expect(Math.abs((out[evaluation.loss]!.data[0] as number) - loss) / loss).toBeLessThan(1e-5);
    tf.dispose([images, labels, expected, actual]);
    model.dispose();
  });
});

describe("the CPU provider's flavour (depthwise convolutions on ONNX Runtime's NCHWc kernel)", () => {
  /** The graph's com.microsoft.nchwc Conv nodes. */
  function nchwcConvolutions(bytes: Uint8Array): number {
    const nodes = (modelProtoType().decode(bytes) as unknown as { graph: { node: { op_type: string; domain?: string }[] } }).graph.node;
    return nodes.filter((n) => n.domain === 'com.microsoft.nchwc' && n.op_type === 'Conv').length;
  }

  /** Stride-1 depthwise convolutions on 4 channels (padded to a whole NCHWc block) with a bias, and on 8 inside a separable conv. */
  function depthwiseModel(): tf.LayersModel {
    const input = tf.input({ shape: [12, 12, 4], name: 'images' });
    // No BatchNormalization right after the biased convolution: it would make the bias' gradient exactly 0.
    let x = apply(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: true, name: 'dw' }), input);
    x = apply(tf.layers.activation({ activation: 'relu', name: 'dw_act' }), x);
    x = apply(tf.layers.batchNormalization({ name: 'dw_bn' }), x);
    x = apply(tf.layers.separableConv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, name: 'sep' }), x);
    x = apply(tf.layers.separableConv2d({ filters: 8, kernelSize: 3, padding: 'valid', useBias: false, name: 'sep_valid' }), x);
    x = apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'pool' }), x);
    x = apply(tf.layers.globalAveragePooling2d({ name: 'gap' }), x);
    const model = tf.model({ inputs: input, outputs: apply(tf.layers.dense({ units: 3, name: 'logits' }), x) });
    randomizeSeeded(model, 4);
    return model;
  }

  it('writes NCHWc nodes and its gradients equal tfjs', async () => {
    const ort = await import('onnxruntime-node');
    const formulation = await cpuFormulation(ort);
    expect(formulation.nchwcBlock).toBeGreaterThanOrEqual(4);
    // depthwiseModel: dw, sep and sep_valid forward, sep's and sep_valid's input gradients (dw reads
    // the images, which need none): 5; smallModel: sep only (the dilated block's and the strided
    // depthwise convolutions keep the standard Conv).
    for (const [model, convolutions] of [[depthwiseModel(), 5], [smallModel('avg', false).model, 2]] as const) {
      let nchwcNodes = 0;
      const result = await compareGradients(
        model,
        (batchSize) => {
          const graph = buildTrainingGraph(model, { optimizer: sgd, batchSize, outputGradients: true, formulation });
          nchwcNodes = nchwcConvolutions(graph.bytes);
          return graph;
        },
        { batchSize: 2 },
      );
      expect(nchwcNodes).toBe(convolutions);
      expect(Math.abs(result.loss[0] - result.loss[1]) / result.loss[1]).toBeLessThan(1e-5);
      expect(worst(result.errors)[1]).toBeLessThan(1e-4);
      model.dispose();
    }
  });

  it('its evaluation graph equals model.predict', async () => {
    const ort = await import('onnxruntime-node');
    const model = depthwiseModel();
    const evaluation = buildEvaluationGraph(model, { batchSize: 2, formulation: await cpuFormulation(ort) });
    const images = tf.randomUniform([2, 12, 12, 4], -1, 1, 'float32', 6);
    const feeds = stateFeeds(evaluation);
    feeds[evaluation.images] = new ort.Tensor('float32', Float32Array.from(images.dataSync()), images.shape);
    feeds[evaluation.labels] = new ort.Tensor('float32', Float32Array.from(tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3).toFloat().dataSync()), [2, 3]);
    const out = await runOnnx(evaluation.bytes, feeds);
    const expected = model.predict(images) as tf.Tensor;
    const actual = tf.tensor(out[evaluation.logits]!.data as Float32Array, expected.shape);
    expect(tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]).toBeLessThan(1e-5 * tf.max(tf.abs(expected)).dataSync()[0]!);
    tf.dispose([images, expected, actual]);
    model.dispose();
  });
});
