import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { createXception, XceptionConfigError } from '../../src/index.js';
import { createOnnxClassifier, exportOnnx, type OnnxClassifier } from '../../src/onnx/index.js';
import { modelProtoType } from '../../src/onnx/onnx-schema.js';
import { useBackend } from '../helpers/backend.js';
import { randomize } from '../helpers/randomize.js';

beforeAll(() => useBackend('wasm'));

/** `promise` rejects with an XceptionConfigError whose message contains `message`. */
async function expectRejected(promise: Promise<unknown>, message: string) {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(XceptionConfigError);
  expect((error as Error).message).toContain(message);
}

/** `call` throws an XceptionConfigError whose message contains `message`. */
function expectThrown(call: () => unknown, message: string) {
  expect(call).toThrow(XceptionConfigError);
  expect(call).toThrow(message);
}

/** A tiny classifier: 4×4×3 → 1×1 conv → global average pool → 10-way softmax. */
function tinyClassifier(): tf.LayersModel {
  const input = tf.input({ shape: [4, 4, 3], name: 'input' });
  const conv = tf.layers.conv2d({ filters: 6, kernelSize: 1, name: 'conv' }).apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(conv) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 10, activation: 'softmax', name: 'predictions' }).apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output, name: 'tiny' });
  randomize(model);
  return model;
}

type Dim = { dim_value?: number; dim_param?: string };
type Info = { type: { tensor_type: { shape: { dim: Dim[] } } } };
/** The same ONNX bytes with the declared shape of the graph's input or output changed. */
function withDeclaredDims(bytes: Uint8Array, which: 'input' | 'output', dims: Dim[]): Uint8Array {
  const Model = modelProtoType();
  const object = Model.toObject(Model.decode(bytes), { longs: Number }) as { graph: Record<'input' | 'output', Info[]> };
  object.graph[which][0]!.type.tensor_type.shape.dim = dims;
  return Model.encode(Model.fromObject(object)).finish();
}

describe('exportOnnx: names that would clash inside the graph are refused (ONNX Runtime rejected the files)', () => {
  let model: tf.LayersModel;
  beforeAll(() => {
    model = createXception({ numClasses: 3, inputShape: [71, 71, 3] });
    randomize(model);
  });
  afterAll(() => model.dispose());

  it.each([
    ['inputName', 'block1_conv1', 'block1_conv1'],
    ['outputName', 'block1_conv1', 'block1_conv1'],
    ['outputName', 'predictions', 'predictions'],
    ['inputName', 'input/nchw', 'input'],
    ['outputName', 'block2_sepconv1/depthwise', 'block2_sepconv1'],
  ] as const)('%s %j', (key, name, layer) => {
    const before = tf.memory().numTensors;
    expectThrown(
      () => exportOnnx(model, { [key]: name }),
      `exportOnnx: ${key} '${name}' would clash with the values the graph names after layer '${layer}' ('${layer}' and '${layer}/…'); ` +
        "choose a name that is no layer's name and does not start with a layer's name and '/'.",
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names that do not clash load in ONNX Runtime and compute what tfjs computes', async () => {
    // 'input' is the input layer's own name (only a node is named after it), the others only look like layer names.
    const x = tf.randomUniform([1, 71, 71, 3], -1, 1, 'float32', 1);
    const expected = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
    for (const names of [{ inputName: 'input', outputName: 'block1_conv1_out' }, { inputName: 'block1', outputName: 'predictions_' }]) {
      const session = await ort.InferenceSession.create(exportOnnx(model, names));
      const feeds = { [names.inputName]: new ort.Tensor('float32', x.dataSync() as Float32Array, [1, 71, 71, 3]) };
      const actual = (await session.run(feeds))[names.outputName]!.data as Float32Array;
      expect(actual).toHaveLength(3);
      expect(Math.max(...Array.from(actual, (v, i) => Math.abs(v - expected[i]!)))).toBeLessThan(1e-4);
      await session.release();
    }
    x.dispose();
  });

  it('refuses null, {}, a disposed model and non-object options with typed errors', () => {
    expectThrown(() => exportOnnx(null as never), 'exportOnnx: model must be a tf.LayersModel (e.g. from createXception or tf.model); got null.');
    expectThrown(() => exportOnnx({} as never), 'exportOnnx: model must be a tf.LayersModel (e.g. from createXception or tf.model); got [object Object].');
    expectThrown(() => exportOnnx(model, null as never), 'exportOnnx: options must be an object (ExportOnnxOptions); got null.');
    expectThrown(() => exportOnnx(model, 'input' as never), 'exportOnnx: options must be an object (ExportOnnxOptions); got "input".');
    const shared = tf.layers.conv2d({ filters: 3, kernelSize: 1, name: 'twice' });
    const input = tf.input({ shape: [4, 4, 3] });
    const reused = tf.model({ inputs: input, outputs: shared.apply(shared.apply(input)) as tf.SymbolicTensor });
    expectThrown(() => exportOnnx(reused), "exportOnnx cannot express layer 'twice': it is applied 2 times (shared layers are not supported).");
    reused.dispose();
    const gone = tinyClassifier();
    gone.dispose();
    expectThrown(() => exportOnnx(gone), "exportOnnx: model 'tiny' has been disposed (its weights were freed); pass a live model.");
  });
});

describe('createOnnxClassifier and its classifier refuse hostile input with typed errors', () => {
  let model: tf.LayersModel;
  let bytes: Uint8Array;
  let classifier: OnnxClassifier;
  const image = { data: new Uint8Array(5 * 7 * 3).map((_, i) => (i * 37) % 256), width: 5, height: 7 };
  beforeAll(async () => {
    model = tinyClassifier();
    bytes = exportOnnx(model);
    classifier = await createOnnxClassifier({ model: bytes, ort });
  });
  afterAll(async () => {
    await classifier.dispose();
    model.dispose();
  });

  it('options that are not options', async () => {
    const expected = 'createOnnxClassifier takes an options object { model, ort?, labels?, preprocess?, sessionOptions? }';
    await expectRejected(createOnnxClassifier(null as never), `${expected}; got null.`);
    await expectRejected(createOnnxClassifier(undefined as never), `${expected}; got undefined.`);
    await expectRejected(createOnnxClassifier({} as never), 'model must be ONNX bytes (Uint8Array or ArrayBuffer), a URL, or a file path.');
    await expectRejected(createOnnxClassifier({ model: bytes, ort: {} as never }), "ort must be the ONNX Runtime module (import * as ort from 'onnxruntime-web' or 'onnxruntime-node')");
    await expectRejected(createOnnxClassifier({ model: bytes, ort, labels: 'cat' as never }), 'labels must be an array of strings, one per output; got "cat".');
    await expectRejected(createOnnxClassifier({ model: bytes, ort, labels: [1, 2] as never }), 'labels must be an array of strings, one per output; got [1,2].');
    await expectRejected(createOnnxClassifier({ model: bytes, ort, sessionOptions: null as never }), "sessionOptions must be an object (ONNX Runtime's InferenceSession.SessionOptions); got null.");
  });

  it.each([
    ['null', null, 'classify takes an image { data, width, height } (e.g. ImageData) or an image tensor; got null.'],
    ['a string', 'cat.png', 'classify takes an image { data, width, height } (e.g. ImageData) or an image tensor; got "cat.png".'],
    ['{}', {}, "an image's data must be an array of pixel values in [0, 255]; got undefined."],
    ['NaN pixels', { data: Float32Array.from(image.data, (v, i) => (i === 40 ? Number.NaN : v)), width: 5, height: 7 }, "an image's pixels must be finite numbers in [0, 255]; value 40 is NaN."],
    ['an infinite pixel', { data: Array.from(image.data, (v, i) => (i === 3 ? Infinity : v)), width: 5, height: 7 }, "an image's pixels must be finite numbers in [0, 255]; value 3 is Infinity."],
  ])('classify refuses %s', async (_label, input, message) => {
    await expectRejected(classifier.classify(input as never), message);
  });

  it('classify refuses a disposed tensor and non-object options; run refuses non-float32 and non-finite input', async () => {
    const tensor = tf.tensor3d(image.data, [7, 5, 3], 'int32');
    tensor.dispose();
    await expectRejected(classifier.classify(tensor), 'classify: the image tensor has been disposed; pass a live tensor.');
    await expectRejected(classifier.classify(image, null as never), 'classify options must be an object { topK? }; got null.');
    await expectRejected(classifier.run(null as never, 1), 'run expects its input as a Float32Array; got null.');
    await expectRejected(classifier.run(Array.from({ length: 48 }) as never, 1), 'run expects its input as a Float32Array; got [');
    const input = new Float32Array(48);
    input[9] = Number.NaN;
    await expectRejected(classifier.run(input, 1), 'run expects finite input values; value 9 is NaN.');
    // Finite input still works, and matches tfjs.
    const scores = await classifier.classify(image, { topK: 10 });
    expect(scores.reduce((sum, s) => sum + s.probability, 0)).toBeCloseTo(1, 5);
  });

  it('classify and run after dispose are refused; a second dispose does nothing', async () => {
    const other = await createOnnxClassifier({ model: bytes, ort });
    await other.dispose();
    await expect(other.dispose()).resolves.toBeUndefined();
    await expectRejected(other.classify(image), 'classify: this classifier was disposed; create a new one with createOnnxClassifier.');
    await expectRejected(other.run(new Float32Array(48), 1), 'run: this classifier was disposed; create a new one with createOnnxClassifier.');
  });

  it('a model that declares 1000 outputs but produces 10 is refused at run time, never given ImageNet labels silently', async () => {
    const lying = await createOnnxClassifier({ model: withDeclaredDims(bytes, 'output', [{ dim_param: 'batch' }, { dim_value: 1000 }]), ort });
    expect(lying.labels).toHaveLength(1000); // what the file declares
    const message = 'the ONNX model declares [batch, 1000] float32 outputs but produced [1, 10] for a batch of 1; its declared output shape is wrong.';
    await expectRejected(lying.classify(image), message);
    await expectRejected(lying.run(new Float32Array(48), 1), message);
    await lying.dispose();
  });

  it.each([
    ['output', [{ dim_param: 'batch' }, { dim_value: -3 }], 'the ONNX model must have one output [batch, classes]; got 1 output(s) of shape [?, -3] (-3: a dimension must be a positive integer).'],
    ['output', [{ dim_param: 'batch' }, { dim_value: 0 }], 'the ONNX model must have one output [batch, classes]; got 1 output(s) of shape [?, 0] (0: a dimension must be a positive integer).'],
    ['output', [{ dim_param: 'batch' }, { dim_param: 'classes' }], 'the ONNX model must have one output [batch, classes]; got 1 output(s) of shape [?, ?] (the number of classes must be fixed).'],
    ['input', [{ dim_param: 'batch' }, { dim_value: -4 }, { dim_value: 4 }, { dim_value: 3 }], 'got 1 input(s) of shape [?, -4, 4, 3] (-4: a dimension must be a positive integer).'],
  ] as const)('a declared %s shape %j is refused with a clear message', async (which, dims, message) => {
    await expectRejected(createOnnxClassifier({ model: withDeclaredDims(bytes, which, [...dims]), ort }), message);
  });
});
