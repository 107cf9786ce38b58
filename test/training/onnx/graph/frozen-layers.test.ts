import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createXceptionBackbone } from '../../../../src/index.js';
import { modelProtoType } from '../../../../src/onnx/onnx-schema.js';
import { buildTrainingGraph } from '../../../../src/training/onnx/graph/build-training-graph.js';
import { useBackend } from '../../../helpers/backend.js';
import { useFastCpuFilterGradient } from '../../../helpers/fast-cpu-filter-gradient.js';
import { compareGradients, worst, randomizeSeeded } from '../../../helpers/onnx-training.js';

beforeAll(async () => {
  await useBackend('cpu');
  useFastCpuFilterGradient();
});

/** A backbone (one middle unit, reduction-32 output) with a pooled dense head, blocks 1–3 frozen. */
function frozenBackboneModel(): tf.LayersModel {
  const backbone = createXceptionBackbone({ preset: 'keras', inputShape: [48, 48, 3], outIndices: [4], middleFlowRepeats: 1, allowSmallInput: true });
  const features = backbone.model.outputs[0]!;
  const pooled = tf.layers.globalAveragePooling2d({ name: 'head_pool' }).apply(features) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: 5, name: 'head_logits' }).apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: backbone.model.inputs, outputs: logits, name: 'frozen_backbone' });
  randomizeSeeded(model);
  for (const layer of model.layers) if (/^block[1-3]_/.test(layer.name)) layer.trainable = false;
  return model;
}

/**
 * Keras 2+ runs a frozen BatchNormalization in inference mode; tfjs 4.22 uses
 * batch statistics whenever training is true. For the reference, frozen BN
 * layers are called with training false, which is what the ONNX graph does.
 */
function frozenBatchNormInInferenceMode(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization' || layer.trainable) continue;
    const call = layer.call.bind(layer);
    layer.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
  }
}

describe('frozen layers', () => {
  it('get no update and no gradient work; the trainable weights get tfjs gradients', async () => {
    const model = frozenBackboneModel();
    const graph = buildTrainingGraph(model, { optimizer: { type: 'adam' }, batchSize: 2, outputGradients: true });

    const frozen = graph.frozen;
    expect(graph.state.filter((s) => s.kind === 'trainable').map((s) => s.variable)).toEqual(model.trainableWeights);
    expect(new Set(frozen.map((s) => s.name.split('/')[0]!.replace(/_(bn|conv\d|sepconv\d|residual).*$/, '')))).toEqual(new Set(['block1', 'block2', 'block3']));
    expect(frozen.filter((s) => s.name.endsWith('moving_mean'))).toHaveLength(2 + 3 + 3); // block1: 2 convs; blocks 2, 3: 2 separable convs + the shortcut
    // Every variable of the model is either state or a frozen initializer, once.
    expect(frozen.length + graph.state.filter((s) => s.variable).length).toBe(model.weights.length);
    // Frozen weights are initializers (never graph inputs, never updated outputs); the rest is state.
    type Proto = { graph: { node: { name: string }[]; input: { name: string }[]; output: { name: string }[]; initializer: { name: string; dims: unknown[] }[] } };
    const proto = modelProtoType().decode(graph.bytes) as unknown as Proto;
    const initializers = new Map(proto.graph.initializer.map((i) => [i.name, i.dims.map(Number)]));
    const inputs = new Set(proto.graph.input.map((i) => i.name));
    const outputs = new Set(proto.graph.output.map((o) => o.name));
    expect(frozen.filter((s) => initializers.get(s.name)?.join(',') === s.shape.join(','))).toHaveLength(frozen.length);
    expect(frozen.filter((s) => inputs.has(s.name) || outputs.has(`${s.name}/updated`))).toEqual([]);
    expect(graph.state.every((s) => inputs.has(s.input) && !initializers.has(s.input))).toBe(true);
    // The backward pass stops at the lowest trainable layer: frozen layers write no filter or input
    // gradient, and neither does the lowest trainable (depthwise) convolution: its input comes from
    // frozen layers. Its pointwise half passes a gradient down to the depthwise kernel; the next one up does too.
    expect(proto.graph.node.filter((n) => /^block[1-3]_.*(kernel_grad|input_grad|gamma_grad)/.test(n.name)).map((n) => n.name)).toEqual([]);
    expect(proto.graph.node.some((n) => n.name.startsWith('block4_sepconv1/depthwise/kernel_grad'))).toBe(true);
    const inputGradients = (layer: string) => proto.graph.node.filter((n) => n.name.startsWith(`${layer}/`) && n.name.includes('input_grad')).map((n) => n.name);
    expect(inputGradients('block4_sepconv1/depthwise')).toEqual([]);
    expect(inputGradients('block4_sepconv1')).toEqual(['block4_sepconv1/input_grad']);
    expect(inputGradients('block4_sepconv2/depthwise').length).toBeGreaterThan(0);

    frozenBatchNormInInferenceMode(model);
    const { loss, errors } = await compareGradients(model, () => graph, { batchSize: 2 });
    expect(errors.size).toBe(model.trainableWeights.length);
    expect(Math.abs(loss[0] - loss[1]) / loss[1]).toBeLessThan(1e-5);
    expect(worst(errors)[1]).toBeLessThan(1e-4);
    model.dispose();
  }, 120_000);
});
