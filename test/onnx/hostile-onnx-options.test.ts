// Issue 21, rows 6 and 14: unknown options of exportOnnx, createOnnxClassifier and
// classify are refused (they were silently ignored), and classify's default
// top-k is capped at the model's class count (a 2-class model used to fail with
// "topK must be an integer from 1 to 2; got 5").
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { XceptionConfigError } from '../../src/index.js';
import { createOnnxClassifier, exportOnnx } from '../../src/onnx/index.js';
import { modelProtoType } from '../../src/onnx/onnx-schema.js';
import { useBackend } from '../helpers/backend.js';
import { randomize } from '../helpers/randomize.js';

beforeAll(() => useBackend('cpu'));

/** 4×4×3 → 1×1 conv → global average pool → `classes`-way softmax. */
function tinyClassifier(classes: number): tf.LayersModel {
  const input = tf.input({ shape: [4, 4, 3], name: 'input' });
  const conv = tf.layers.conv2d({ filters: 6, kernelSize: 1, name: 'conv' }).apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(conv) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: classes, activation: 'softmax', name: 'predictions' }).apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output, name: 'tiny' });
  randomize(model);
  return model;
}

describe('row 14: unknown options are refused', () => {
  it('exportOnnx: a misspelt or unsupported option', () => {
    const model = tinyClassifier(3);
    for (const [options, key] of [[{ inputname: 'pixels' }, 'inputname'], [{ opset: 17 }, 'opset']] as const) {
      expect(() => exportOnnx(model, options as never)).toThrow(XceptionConfigError);
      expect(() => exportOnnx(model, options as never)).toThrow(
        `Unknown exportOnnx option '${key}'; valid options are 'inputName', 'outputName', 'batchSize'.`,
      );
    }
    expect(exportOnnx(model, { inputName: 'pixels' }).length).toBeGreaterThan(100);
    model.dispose();
  });

  it('createOnnxClassifier and classify: a misspelt option', async () => {
    const model = tinyClassifier(3);
    const bytes = exportOnnx(model);
    model.dispose();
    const refused = await createOnnxClassifier({ model: bytes, ort, label: ['a', 'b', 'c'] } as never).then(() => null, (e: unknown) => e);
    expect(refused).toBeInstanceOf(XceptionConfigError);
    expect((refused as Error).message).toMatch(/^Unknown createOnnxClassifier option 'label'; valid options are 'model', 'ort', /);
    const classifier = await createOnnxClassifier({ model: bytes, ort });
    const image = { data: new Uint8Array(4 * 4 * 3).fill(9), width: 4, height: 4 };
    await expect(classifier.classify(image, { topk: 1 } as never)).rejects.toThrow("Unknown classify option 'topk'; valid options are 'topK'.");
    await classifier.dispose();
  });
});

/** The ONNX bytes with `edit` applied to the decoded model. */
function edited(bytes: Uint8Array, edit: (graph: { node: { op_type: string }[]; input: { type: { tensor_type: { elem_type: number } } }[] }) => void): Uint8Array {
  const Model = modelProtoType();
  const object = Model.toObject(Model.decode(bytes), { longs: Number }) as { graph: Parameters<typeof edit>[0] };
  edit(object.graph);
  return Model.encode(Model.fromObject(object)).finish();
}

describe('row 11: ONNX files the runtime cannot run are typed errors', () => {
  it('an unknown operator, an int8 input, an unknown execution provider', async () => {
    const model = tinyClassifier(3);
    const bytes = exportOnnx(model);
    model.dispose();
    const unknownOp = edited(bytes, (graph) => (graph.node[0]!.op_type = 'NoSuchOp'));
    const int8 = edited(bytes, (graph) => (graph.input[0]!.type.tensor_type.elem_type = 3));
    for (const [options, message] of [
      [{ model: unknownOp }, /^ONNX Runtime cannot load the model: .*NoSuchOp/s],
      [{ model: int8 }, /^the ONNX model's input 'input' holds int8 values; the classifier feeds and reads float32/],
      // An XceptionDeviceError (a kind of XceptionConfigError) that names what is there.
      [{ model: bytes, sessionOptions: { executionProviders: ['no-such-ep'] } }, /^createOnnxClassifier: executionProviders \['no-such-ep'\] did not start: .*no-such-ep.*; found: cpu/s],
    ] as const) {
      const error = await createOnnxClassifier({ ...options, ort }).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(XceptionConfigError);
      expect((error as Error).message).toMatch(message);
    }
  });
});

describe('row 6: the default top-k is capped at the class count', () => {
  it('a 2-class model returns both classes, in the order and with the values tfjs computes', async () => {
    const model = tinyClassifier(2);
    const classifier = await createOnnxClassifier({ model: exportOnnx(model), ort, preprocess: 'none' });
    const pixels = Float32Array.from({ length: 4 * 4 * 3 }, (_, i) => (i * 37) % 255);
    const image = { data: Uint8Array.from(pixels), width: 4, height: 4 };
    const scores = await classifier.classify(image);
    const expected = tf.tidy(() => Array.from((model.predict(tf.tensor4d(pixels, [1, 4, 4, 3])) as tf.Tensor).dataSync()));
    expect(scores).toHaveLength(2);
    const order = expected[0]! >= expected[1]! ? [0, 1] : [1, 0];
    expect(scores.map((s) => s.classIndex)).toEqual(order);
    scores.forEach((s) => expect(s.probability).toBeCloseTo(expected[s.classIndex]!, 5));
    await expect(classifier.classify(image, { topK: 3 })).rejects.toThrow('topK must be an integer from 1 to 2; got 3.');
    await classifier.dispose();
    model.dispose();
  });
});
