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

    const frozen = graph.state.filter((s) => s.kind === 'frozen');
    expect(graph.state.filter((s) => s.kind === 'trainable').map((s) => s.variable)).toEqual(model.trainableWeights);
    expect(new Set(frozen.map((s) => s.input.split('/')[0]!.replace(/_(bn|conv\d|sepconv\d|residual).*$/, '')))).toEqual(new Set(['block1', 'block2', 'block3']));
    expect(frozen.every((s) => s.output === s.input)).toBe(true);
    expect(frozen.filter((s) => s.input.endsWith('moving_mean'))).toHaveLength(2 + 3 + 3); // block1: 2 convs; blocks 2, 3: 2 separable convs + the shortcut
    // Only the trainable layers' updates are outputs; frozen layers write no filter or input gradient.
    const proto = modelProtoType().decode(graph.bytes) as unknown as { graph: { node: { name: string }[]; output: { name: string }[] } };
    const outputs = new Set(proto.graph.output.map((o) => o.name));
    expect(frozen.some((s) => outputs.has(`${s.input}/updated`))).toBe(false);
    expect(proto.graph.node.filter((n) => /^block[1-3]_.*(kernel_grad|input_grad|gamma_grad)/.test(n.name)).map((n) => n.name)).toEqual([]);
    expect(proto.graph.node.some((n) => n.name.startsWith('block4_sepconv1/depthwise/kernel_grad'))).toBe(true);

    frozenBatchNormInInferenceMode(model);
    const { loss, errors } = await compareGradients(model, () => graph, { batchSize: 2 });
    expect(errors.size).toBe(model.trainableWeights.length);
    expect(Math.abs(loss[0] - loss[1]) / loss[1]).toBeLessThan(1e-5);
    expect(worst(errors)[1]).toBeLessThan(1e-4);
    model.dispose();
  }, 120_000);
});
