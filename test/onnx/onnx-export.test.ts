import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { createXception, XceptionConfigError, type XceptionOptions } from '../../src/index.js';
import { exportOnnx, ONNX_OPSET } from '../../src/onnx/index.js';
import { modelProtoType } from '../../src/onnx/onnx-schema.js';
import { useBackend } from '../helpers/backend.js';
import { randomize } from '../helpers/randomize.js';

beforeAll(() => useBackend('wasm'));

/** Runs an exported model in ONNX Runtime on `x` (NHWC) and returns the output as a tfjs tensor. */
async function runOnnx(bytes: Uint8Array, x: tf.Tensor, names = { input: 'input', output: 'output' }): Promise<tf.Tensor> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feeds = { [names.input]: new ort.Tensor('float32', x.dataSync() as Float32Array, x.shape) };
    const y = (await session.run(feeds))[names.output]!;
    return tf.tensor(y.data as Float32Array, y.dims as number[]);
  } finally {
    await session.release();
  }
}

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

/** ONNX Runtime's output for a random input of `shape` equals model.predict's within 1e-4. */
async function expectOnnxMatches(model: tf.LayersModel, bytes: Uint8Array, shape: number[]): Promise<void> {
  const x = tf.randomUniform(shape, -1, 1, 'float32', shape[0]! * 1000 + shape[1]!);
  const expected = model.predict(x) as tf.Tensor;
  const actual = await runOnnx(bytes, x);
  expect(actual.shape).toEqual(expected.shape);
  expect(maxAbsDiff(actual, expected)).toBeLessThanOrEqual(1e-4);
  tf.dispose([x, expected, actual]);
}

type Decoded = {
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  graph: {
    node: { op_type: string }[];
    initializer: { name: string; dims: number[] }[];
    input: { name: string; type: { tensor_type: { elem_type: number; shape: { dim: { dim_value?: number; dim_param?: string }[] } } } }[];
    output: Decoded['graph']['input'];
  };
};
const decode = (bytes: Uint8Array) =>
  modelProtoType().toObject(modelProtoType().decode(bytes), { longs: Number, defaults: false }) as unknown as Decoded;
const dimsOf = (info: Decoded['graph']['input'][number]) => info.type.tensor_type.shape.dim.map((d) => d.dim_value ?? d.dim_param);

describe('exportOnnx: ONNX Runtime computes what tfjs computes', () => {
  it.each([
    ['keras, 1000 classes, 299×299', {}],
    ['postact, 100 classes, 150×150', { preset: 'postact', numClasses: 100, inputShape: [150, 150, 3] }],
    ['keras, no top, output stride 16 (dilated), 99×99', { includeTop: false, outputStride: 16, inputShape: [99, 99, 3] }],
    ['xception41, no top, output stride 8, 99×99 (strided separable convs)', { preset: 'xception41', includeTop: false, outputStride: 8, inputShape: [99, 99, 3] }],
    ['xception41p, no top, output stride 16, 100×100 (ZeroPadding2D → Pad, pre-activation)', { preset: 'xception41p', includeTop: false, outputStride: 16, inputShape: [100, 100, 3] }],
    ['keras, max pooling, 4 channels, 80×112', { includeTop: false, pooling: 'max', inputShape: [80, 112, 4] }],
  ] as [string, XceptionOptions][])('%s: max |ONNX − tfjs| ≤ 1e-4 at batch 1 and 2', async (_label, options) => {
    const model = createXception(options);
    randomize(model);
    const before = tf.memory().numTensors;
    const bytes = exportOnnx(model);
    expect(tf.memory().numTensors).toBe(before); // no tensor left behind
    const [, h, w, c] = model.inputs[0]!.shape as number[];
    for (const batch of [2, 1]) await expectOnnxMatches(model, bytes, [batch, h!, w!, c!]);
    model.dispose();
  });

  it.each([
    ['keras, output stride 16', { outputStride: 16 }],
    ['xception41 (strided convs: auto_pad)', { preset: 'xception41' }],
  ] as [string, XceptionOptions][])('%s, input of any size ([null, null, 3]): pads like TensorFlow at every size', async (_label, options) => {
    const model = createXception({ ...options, includeTop: false, inputShape: [null, null, 3] });
    randomize(model);
    const bytes = exportOnnx(model);
    const { graph } = decode(bytes);
    expect(dimsOf(graph.input[0]!)).toEqual(['batch', 'height', 'width', 3]);
    expect(dimsOf(graph.output[0]!)).toEqual(['batch', 'output_height', 'output_width', 2048]);
    for (const [h, w] of [[71, 71], [100, 77]]) await expectOnnxMatches(model, bytes, [1, h!, w!, 3]);
    model.dispose();
  });
});

describe('exportOnnx: the file', () => {
  it('is opset 13, NHWC input with a dynamic batch, one initializer per weight, named as asked', async () => {
    const model = createXception({ preset: 'postact', numClasses: 10, inputShape: [71, 71, 3] });
    const bytes = exportOnnx(model, { inputName: 'pixels', outputName: 'probabilities' });
    const decoded = decode(bytes);
    expect(decoded.ir_version).toBe(7);
    expect(decoded.opset_import).toEqual([{ domain: '', version: ONNX_OPSET }]);
    expect(ONNX_OPSET).toBe(13);
    const { graph } = decoded;
    expect(graph.input.map((i) => i.name)).toEqual(['pixels']);
    expect(graph.input[0]!.type.tensor_type.elem_type).toBe(1); // FLOAT
    expect(dimsOf(graph.input[0]!)).toEqual(['batch', 71, 71, 3]);
    expect(graph.output.map((o) => o.name)).toEqual(['probabilities']);
    expect(dimsOf(graph.output[0]!)).toEqual(['batch', 10]);
    // Every tfjs weight is one initializer with the same number of values (transposed where ONNX wants).
    const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
    expect(graph.initializer.length).toBe(model.weights.length);
    expect(graph.initializer.map((i) => size(i.dims)).sort((a, b) => a - b)).toEqual(model.weights.map((v) => size(v.shape as number[])).sort((a, b) => a - b));
    const ops = new Set(graph.node.map((n) => n.op_type));
    expect([...ops].sort()).toEqual(['Add', 'BatchNormalization', 'Conv', 'Flatten', 'Gemm', 'GlobalAveragePool', 'Identity', 'MaxPool', 'Relu', 'Softmax', 'Transpose']);
    const session = await ort.InferenceSession.create(bytes);
    expect([session.inputNames, session.outputNames]).toEqual([['pixels'], ['probabilities']]);
    await session.release();
    model.dispose();
  });

  it('a fixed batch size is written into the graph and enforced by ONNX Runtime', async () => {
    const model = createXception({ numClasses: 3, inputShape: [71, 71, 3] });
    const bytes = exportOnnx(model, { batchSize: 2 });
    expect(dimsOf(decode(bytes).graph.input[0]!)).toEqual([2, 71, 71, 3]);
    await expect(runOnnx(bytes, tf.zeros([3, 71, 71, 3]))).rejects.toThrow(/dimension|Got: 3/i);
    const y = await runOnnx(bytes, tf.zeros([2, 71, 71, 3]));
    expect(y.shape).toEqual([2, 3]);
    model.dispose();
  });
});

describe('exportOnnx: refusals', () => {
  const tiny = () => createXception({ numClasses: 2, inputShape: [71, 71, 3] });

  it.each([
    [{ batchSize: 0 }, "batchSize must be 'dynamic' or a positive integer; got 0."],
    [{ batchSize: 1.5 }, "batchSize must be 'dynamic' or a positive integer; got 1.5."],
    [{ inputName: '' }, 'inputName must be a non-empty string; got "".'],
    [{ inputName: 'x', outputName: 'x' }, "inputName and outputName must differ; both are 'x'."],
  ])('options %j', (options, message) => {
    const model = tiny();
    expect(() => exportOnnx(model, options as never)).toThrow(XceptionConfigError);
    expect(() => exportOnnx(model, options as never)).toThrow(message);
    model.dispose();
  });

  it('a layer it cannot express, naming it', () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const y = tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'tanh', name: 'odd' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: y });
    expect(() => exportOnnx(model)).toThrow(XceptionConfigError);
    expect(() => exportOnnx(model)).toThrow("exportOnnx cannot express layer 'odd' (Conv2D): activation 'tanh'");
    const flat = tf.input({ shape: [4] });
    const dense = tf.model({ inputs: flat, outputs: tf.layers.dense({ units: 2 }).apply(flat) as tf.SymbolicTensor });
    expect(() => exportOnnx(dense)).toThrow('exportOnnx takes an image model with a [batch, height, width, channels] input');
    tf.dispose([model, dense] as never);
  });

  it('a model with two outputs', () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const a = tf.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(input) as tf.SymbolicTensor;
    const b = tf.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: [a, b], name: 'two' });
    expect(() => exportOnnx(model)).toThrow("exportOnnx takes a model with one input and one output; 'two' has 1 and 2.");
  });
});
