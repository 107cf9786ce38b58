import { XceptionConfigError } from '../errors.js';
import { IMAGENET_LABELS } from '../imagenet/imagenet-labels.js';
import { importNode, isNode } from '../platform/node-import.js';
import { defaultRuntime } from './default-runtime.js';
import { pixelsOfTensor, writeResizedRgb, type Pixels, type PixelTensor } from './image-input.js';
import { modelProtoType } from './onnx-schema.js';

/**
 * The parts of ONNX Runtime's JavaScript API the classifier uses; both
 * `onnxruntime-node` and `onnxruntime-web` have this shape.
 *
 * @example
 * ```ts
 * import * as ort from 'onnxruntime-web';
 * const runtime: OnnxRuntime = ort;
 * ```
 */
export interface OnnxRuntime {
  /** `ort.InferenceSession`. */
  InferenceSession: {
    /** Creates a session from a model's bytes. */
    create(model: Uint8Array, options?: object): Promise<OrtSession>;
  };
  /** `ort.Tensor`. */
  Tensor: {
    /** A float32 tensor over `data` with shape `dims`. */
    new (type: 'float32', data: Float32Array, dims: readonly number[]): unknown;
  };
}

/**
 * An ONNX Runtime inference session, as far as the classifier uses it.
 *
 * @example
 * ```ts
 * console.log(classifier.session.inputNames); // ['input']
 * ```
 */
export interface OrtSession {
  /** The graph's input names. */
  readonly inputNames: readonly string[];
  /** The graph's output names. */
  readonly outputNames: readonly string[];
  /** Runs the graph on named input tensors and returns the named outputs (`data`, `dims`). */
  run(feeds: Record<string, unknown>): Promise<
    Record<
      string,
      {
        /** The values. */
        data: unknown;
        /** The shape. */
        dims: readonly number[];
      }
    >
  >;
  /** Frees the session's resources. */
  release(): Promise<void>;
}

/**
 * Options of {@link createOnnxClassifier}.
 *
 * @example
 * ```ts
 * const options: OnnxClassifierOptions = { model: '/models/xception.onnx', ort, labels: ['cat', 'dog'] };
 * ```
 */
export interface OnnxClassifierOptions {
  /**
   * The ONNX model: bytes (e.g. {@link exportOnnx}'s result), or a URL (or, in
   * Node, a file path) to fetch them from. It must have one NHWC float32
   * input of fixed height and width, and one `[batch, classes]` output.
   */
  model: Uint8Array | ArrayBuffer | string | URL;
  /**
   * The ONNX Runtime module. Default: `onnxruntime-node`, imported in Node;
   * in a browser pass `onnxruntime-web` (`import * as ort from 'onnxruntime-web'`).
   */
  ort?: OnnxRuntime;
  /** Passed to `InferenceSession.create`. Default `{ graphOptimizationLevel: 'all' }`. */
  sessionOptions?: object;
  /** Class names, one per output. Default: the ImageNet labels when there are 1000 outputs, else `class N`. */
  labels?: readonly string[];
  /**
   * How pixels in [0, 255] become inputs: `'xception'` (`x / 127.5 - 1`,
   * what the ImageNet weights expect) or `'none'` (fed as they are). Default `'xception'`.
   */
  preprocess?: 'xception' | 'none';
}

/**
 * One class of a {@link OnnxClassifier}'s answer, best first.
 *
 * @example
 * ```ts
 * const [best]: ClassScore[] = await classifier.classify(image);
 * console.log(`${best.label}: ${(best.probability * 100).toFixed(1)}%`);
 * ```
 */
export interface ClassScore {
  /** The output's index. */
  classIndex: number;
  /** The class name (from {@link OnnxClassifierOptions.labels}). */
  label: string;
  /** The model's output for the class (a probability with a softmax top). */
  probability: number;
}

/**
 * An image classifier on ONNX Runtime: {@link createOnnxClassifier}'s result.
 *
 * @example
 * ```ts
 * const top5 = await classifier.classify(imageData);
 * console.log(top5[0].label, top5[0].probability);
 * await classifier.dispose();
 * ```
 */
export interface OnnxClassifier {
  /** The model's input size, `[height, width]`; images of any size are resized to it. */
  readonly inputSize: readonly [number, number];
  /** The class names, one per output. */
  readonly labels: readonly string[];
  /** The ONNX Runtime session, for advanced use. */
  readonly session: OrtSession;
  /**
   * Classifies one image (pixels in [0, 255], RGB or RGBA, any size) and
   * returns the `topK` classes (default 5), best first.
   */
  classify(image: Pixels | PixelTensor, options?: { topK?: number }): Promise<ClassScore[]>;
  /**
   * Runs the model on a prepared batch (NHWC float32, already preprocessed)
   * and returns the raw outputs, `batch × classes` values.
   */
  run(input: Float32Array, batch: number): Promise<Float32Array>;
  /** Releases the session. */
  dispose(): Promise<void>;
}

/**
 * Creates an image classifier that runs an ONNX model (such as one written
 * by {@link exportOnnx}) with ONNX Runtime, several times faster than
 * TensorFlow.js' wasm backend on a CPU. It resizes the image, applies
 * Xception's preprocessing, runs the session and decodes the top-k classes.
 *
 * `onnxruntime-node` (Node) and `onnxruntime-web` (browsers) are optional
 * peer dependencies: install the one you use.
 *
 * @param options - See {@link OnnxClassifierOptions}.
 * @throws {@link xception-ts!XceptionConfigError} when the model is not an image classifier, or ONNX Runtime is missing.
 *
 * @example
 * ```ts
 * // Node: npm install onnxruntime-node
 * import { readFileSync } from 'node:fs';
 * import { createOnnxClassifier } from 'xception-ts/onnx';
 *
 * const classifier = await createOnnxClassifier({ model: readFileSync('xception.onnx') });
 * const top5 = await classifier.classify({ data: rgbBytes, width: 640, height: 480 });
 * ```
 *
 * @example
 * ```ts
 * // Browser: npm install onnxruntime-web
 * import * as ort from 'onnxruntime-web';
 * import { createOnnxClassifier } from 'xception-ts/onnx';
 *
 * const classifier = await createOnnxClassifier({ model: '/xception.onnx', ort });
 * const top5 = await classifier.classify(context.getImageData(0, 0, w, h));
 * ```
 */
export async function createOnnxClassifier(options: OnnxClassifierOptions): Promise<OnnxClassifier> {
  const { preprocess = 'xception', sessionOptions = { graphOptimizationLevel: 'all' } } = options;
  if (preprocess !== 'xception' && preprocess !== 'none') {
    throw new XceptionConfigError(`preprocess must be 'xception' or 'none'; got ${JSON.stringify(preprocess)}.`);
  }
  const bytes = await modelBytes(options.model);
  const { inputSize, classes } = describeClassifier(bytes);
  const labels = options.labels ?? (classes === IMAGENET_LABELS.length ? IMAGENET_LABELS : Array.from({ length: classes }, (_, i) => `class ${i}`));
  if (labels.length !== classes) {
    throw new XceptionConfigError(`labels has ${labels.length} names, but the model has ${classes} outputs.`);
  }
  const ort = options.ort ?? (await defaultRuntime('createOnnxClassifier'));
  const session = await ort.InferenceSession.create(bytes, sessionOptions);
  const [height, width] = inputSize;
  const [scale, shift] = preprocess === 'xception' ? [1 / 127.5, -1] : [1, 0];
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;

  const run = async (input: Float32Array, batch: number): Promise<Float32Array> => {
    if (!(Number.isInteger(batch) && batch > 0) || input.length !== batch * height * width * 3) {
      throw new XceptionConfigError(`run expects batch · ${height} · ${width} · 3 values for a batch of ${batch}; got ${input.length}.`);
    }
    const outputs = await session.run({ [inputName!]: new ort.Tensor('float32', input, [batch, height, width, 3]) });
    return outputs[outputName!]!.data as Float32Array;
  };

  return {
    inputSize,
    labels,
    session,
    run,
    async classify(image, { topK = 5 } = {}) {
      if (!(Number.isInteger(topK) && topK >= 1 && topK <= classes)) {
        throw new XceptionConfigError(`topK must be an integer from 1 to ${classes}; got ${topK}.`);
      }
      const pixels = 'shape' in image ? await pixelsOfTensor(image) : image;
      const input = new Float32Array(height * width * 3);
      writeResizedRgb(pixels, height, width, input, 0, scale, shift);
      return topClasses(await run(input, 1), labels, topK);
    },
    dispose: () => session.release(),
  };
}

/** The best `k` of `scores`, highest first (ties: lower index first). */
function topClasses(scores: Float32Array, labels: readonly string[], k: number): ClassScore[] {
  const best: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    if (best.length === k && scores[i]! <= scores[best[k - 1]!]!) continue;
    let at = best.length === k ? k - 1 : best.length;
    while (at > 0 && scores[best[at - 1]!]! < scores[i]!) at--;
    best.splice(at, 0, i);
    if (best.length > k) best.pop();
  }
  return best.map((classIndex) => ({ classIndex, label: labels[classIndex]!, probability: scores[classIndex]! }));
}

async function modelBytes(model: OnnxClassifierOptions['model']): Promise<Uint8Array> {
  if (model instanceof Uint8Array) return model;
  if (model instanceof ArrayBuffer) return new Uint8Array(model);
  if (typeof model !== 'string' && !(model instanceof URL)) {
    throw new XceptionConfigError('model must be ONNX bytes (Uint8Array or ArrayBuffer), a URL, or a file path.');
  }
  const text = String(model);
  if (isNode() && !/^(https?|blob|data):/.test(text)) {
    const { readFile } = await importNode<typeof import('node:fs/promises')>('node:fs/promises');
    return new Uint8Array(await readFile(model instanceof URL ? model : text));
  }
  const response = await fetch(text);
  if (!response.ok) throw new XceptionConfigError(`could not fetch the ONNX model from ${text}: HTTP ${response.status}.`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Reads the input size and class count from the model's graph, refusing what is not an image classifier. */
function describeClassifier(bytes: Uint8Array): { inputSize: [number, number]; classes: number } {
  // `value` names the member of the oneof that is set (protobufjs gives unset fields their default, 0).
  type Dim = { value?: 'dim_value' | 'dim_param'; dim_value?: number | { toNumber(): number } };
  type Info = { name: string; type?: { tensor_type?: { elem_type?: number; shape?: { dim?: Dim[] } } } };
  let graph: { input: Info[]; output: Info[]; initializer: { name: string }[] };
  try {
    graph = (modelProtoType().decode(bytes) as unknown as { graph: typeof graph }).graph;
  } catch (error) {
    throw new XceptionConfigError(`the model is not a valid ONNX file: ${(error as Error).message}.`);
  }
  if (!graph) throw new XceptionConfigError('the ONNX file has no graph.');
  const initializers = new Set(graph.initializer.map((i) => i.name));
  const inputs = graph.input.filter((i) => !initializers.has(i.name));
  const dims = (info: Info) => (info.type?.tensor_type?.shape?.dim ?? []).map((d) => (d.value === 'dim_value' ? Number(d.dim_value) : null));
  const input = inputs.length === 1 ? dims(inputs[0]!) : [];
  const output = graph.output.length === 1 ? dims(graph.output[0]!) : [];
  const [, height, width, channels] = input;
  if (input.length !== 4 || channels !== 3 || !height || !width) {
    throw new XceptionConfigError(
      `the ONNX model must have one NHWC input [batch, height, width, 3] with a fixed height and width (as exportOnnx writes); ` +
        `got ${inputs.length} input(s)${inputs.length === 1 ? ` of shape [${input.map((d) => d ?? '?').join(', ')}]` : ''}.`,
    );
  }
  if (output.length !== 2 || !output[1]) {
    throw new XceptionConfigError(
      `the ONNX model must have one output [batch, classes]; got ${graph.output.length} output(s)` +
        `${graph.output.length === 1 ? ` of shape [${output.map((d) => d ?? '?').join(', ')}]` : ''}.`,
    );
  }
  return { inputSize: [height, width], classes: output[1] };
}
