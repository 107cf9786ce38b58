import { XceptionConfigError } from '../errors.js';
import { show } from '../model/validation.js';
import { IMAGENET_LABELS } from '../imagenet/imagenet-labels.js';
import { requireWithinLimit } from '../model/limits.js';
import { fetchBytes, resolveDownloadOptions, type DownloadOptions } from '../platform/fetch-bytes.js';
import { describeFsError } from '../platform/fs-error.js';
import { writeEvalTransformedRgb } from '../imagenet/eval-transform.js';
import type { XceptionPresetName } from '../model/presets.js';
import { PRETRAINED_CONFIGS } from '../weights/pretrained-configs.js';
import { importNode, isNode } from '../platform/node-import.js';
import { defaultRuntime } from './default-runtime.js';
import { openSessionOnDevice, requireDevice, type ExecutionProvider, type OnnxDevice, type OnnxDeviceInfo } from './onnx-device.js';
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
 * @category Inference
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
 * @category Inference
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
 * @category Inference
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
  /**
   * Passed to `InferenceSession.create`. Default `{ graphOptimizationLevel: 'all' }`. Its
   * `executionProviders`, when given, are used as they are (not together with `device`).
   */
  sessionOptions?: object;
  /**
   * Where to run: `'auto'` (CUDA when onnxruntime-node's CUDA provider is installed, then WebGPU
   * on a real GPU, never a software adapter, else the CPU), `'cpu'` (wasm in browsers),
   * `'webgpu'` or `'cuda'`. An explicit device that is not there throws
   * {@link xception-ts!XceptionDeviceError}. Default `'auto'`.
   */
  device?: OnnxDevice;
  /**
   * Class names, one per output. Default: the ImageNet labels when the model declares 1000
   * outputs, else `class N`. Each run checks that the model really produced that many values
   * per image (a model whose declared shape is wrong is refused, never mislabelled).
   */
  labels?: readonly string[];
  /**
   * How pixels in [0, 255] become inputs: `'xception'` (`x / 127.5 - 1`,
   * what the ImageNet weights expect) or `'none'` (fed as they are). Default `'xception'`.
   */
  preprocess?: 'xception' | 'none';
  /**
   * Limits of fetching `model` from a URL: timeouts, size cap, abort signal
   * (see {@link xception-ts!DownloadOptions}). Default: timeouts of 30 s, `maxBytes` 1 GiB.
   */
  download?: DownloadOptions;
  /**
   * Resize like this preset's ImageNet weights were evaluated
   * (`PRETRAINED_CONFIGS[preset]`: timm's shorter side to input size / `cropPct`,
   * Pillow's bicubic, then a center crop of the model's input size).
   * Default: none, images are stretched bilinearly to the input size.
   */
  evalTransform?: XceptionPresetName;
}

/**
 * One class of a {@link OnnxClassifier}'s answer, best first.
 *
 * @example
 * ```ts
 * const [best]: ClassScore[] = await classifier.classify(image);
 * console.log(`${best.label}: ${(best.probability * 100).toFixed(1)}%`);
 * ```
 * @category Inference
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
 * @category Inference
 */
export interface OnnxClassifier {
  /** The model's input size, `[height, width]`; images of any size are resized to it. */
  readonly inputSize: readonly [number, number];
  /** The class names, one per output. */
  readonly labels: readonly string[];
  /** The ONNX Runtime session, for advanced use. */
  readonly session: OrtSession;
  /** The device the session runs on, its execution providers, and why it was picked. */
  readonly device: OnnxDeviceInfo;
  /**
   * Classifies one image (pixels in [0, 255], RGB or RGBA, any size) and
   * returns the `topK` classes (default 5), best first. Rejects with an
   * {@link xception-ts!XceptionConfigError} for an image with a NaN or
   * infinite value, a disposed tensor, or after {@link OnnxClassifier.dispose}.
   */
  classify(image: Pixels | PixelTensor, options?: { topK?: number }): Promise<ClassScore[]>;
  /**
   * Runs the model on a prepared batch (NHWC float32, already preprocessed)
   * and returns the raw outputs, `batch × classes` values. Rejects with an
   * {@link xception-ts!XceptionConfigError} for input that is not finite
   * float32 of the right length, an output that is not `[batch, classes]`
   * float32, or after {@link OnnxClassifier.dispose}.
   */
  run(input: Float32Array, batch: number): Promise<Float32Array>;
  /** Releases the session; later calls of `classify` and `run` are refused. A second call does nothing. */
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
 * The model's declared sizes are checked against {@link xception-ts!XCEPTION_LIMITS}
 * (at most 100,000 classes, 4096 × 4096 input) before anything is allocated.
 *
 * @param options - See {@link OnnxClassifierOptions}.
 * @throws {@link xception-ts!XceptionConfigError} when the model is not an image classifier, declares sizes above
 *   the limits, cannot be read, or ONNX Runtime is missing.
 * @throws {@link xception-ts!XceptionDownloadError} when a model URL cannot be fetched within `options.download`'s limits.
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
 * @category Inference
 */
export async function createOnnxClassifier(options: OnnxClassifierOptions): Promise<OnnxClassifier> {
  if (options === null || typeof options !== 'object') {
    throw new XceptionConfigError(
      `createOnnxClassifier takes an options object { model, ort?, labels?, preprocess?, sessionOptions? }; got ${show(options)}.`,
    );
  }
  const { preprocess = 'xception', sessionOptions = { graphOptimizationLevel: 'all' } } = options;
  if (preprocess !== 'xception' && preprocess !== 'none') {
    throw new XceptionConfigError(`preprocess must be 'xception' or 'none'; got ${JSON.stringify(preprocess)}.`);
  }
  if (options.labels !== undefined && !(Array.isArray(options.labels) && options.labels.every((l) => typeof l === 'string'))) {
    throw new XceptionConfigError(`labels must be an array of strings, one per output; got ${show(options.labels)}.`);
  }
  if (sessionOptions === null || typeof sessionOptions !== 'object') {
    throw new XceptionConfigError(`sessionOptions must be an object (ONNX Runtime's InferenceSession.SessionOptions); got ${show(sessionOptions)}.`);
  }
  const runtime = options.ort as Partial<OnnxRuntime> | undefined;
  if (runtime !== undefined && (typeof runtime?.InferenceSession?.create !== 'function' || typeof runtime.Tensor !== 'function')) {
    throw new XceptionConfigError(
      `ort must be the ONNX Runtime module (import * as ort from 'onnxruntime-web' or 'onnxruntime-node'), with ` +
        `InferenceSession.create and Tensor; got ${show(runtime)}.`,
    );
  }
  const cropPct = options.evalTransform === undefined ? null : evalCropPct(options.evalTransform);
  const bytes = await modelBytes(options.model, options.download);
  const { inputSize, classes } = describeClassifier(bytes);
  const labels = options.labels ?? (classes === IMAGENET_LABELS.length ? IMAGENET_LABELS : Array.from({ length: classes }, (_, i) => `class ${i}`));
  if (labels.length !== classes) {
    throw new XceptionConfigError(`labels has ${labels.length} names, but the model has ${classes} outputs.`);
  }
  const ort = options.ort ?? (await defaultRuntime('createOnnxClassifier'));
  const { executionProviders, ...otherSessionOptions } = sessionOptions as { executionProviders?: readonly ExecutionProvider[] };
  if (executionProviders !== undefined && options.device !== undefined) {
    throw new XceptionConfigError(`pass device or sessionOptions.executionProviders, not both; got device ${JSON.stringify(options.device)}.`);
  }
  const placement = executionProviders ? { executionProviders } : requireDevice(options.device ?? 'auto', 'createOnnxClassifier');
  const { session, device } = await openSessionOnDevice(ort, bytes, otherSessionOptions, placement, 'createOnnxClassifier');
  const [height, width] = inputSize;
  const [scale, shift] = preprocess === 'xception' ? [1 / 127.5, -1] : [1, 0];
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;

  let released: Promise<void> | null = null;
  const requireLive = (what: string) => {
    if (released) throw new XceptionConfigError(`${what}: this classifier was disposed; create a new one with createOnnxClassifier.`);
  };

  const run = async (input: Float32Array, batch: number): Promise<Float32Array> => {
    requireLive('run');
    if (!(input instanceof Float32Array)) throw new XceptionConfigError(`run expects its input as a Float32Array; got ${show(input)}.`);
    if (!(Number.isInteger(batch) && batch > 0) || input.length !== batch * height * width * 3) {
      throw new XceptionConfigError(`run expects batch · ${height} · ${width} · 3 values for a batch of ${batch}; got ${input.length}.`);
    }
    const bad = input.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new XceptionConfigError(`run expects finite input values; value ${bad} is ${input[bad]}.`);
    const outputs = await session.run({ [inputName!]: new ort.Tensor('float32', input, [batch, height, width, 3]) });
    const { data, dims } = outputs[outputName!]!;
    // The declared class count chose the labels: a model whose real output differs would be mislabelled.
    if (!(data instanceof Float32Array) || data.length !== batch * classes) {
      throw new XceptionConfigError(
        `the ONNX model declares [batch, ${classes}] float32 outputs but produced ` +
          `${data instanceof Float32Array ? `[${dims.join(', ')}]` : show(data)} for a batch of ${batch}; its declared output shape is wrong.`,
      );
    }
    return data;
  };

  return {
    inputSize,
    labels,
    session,
    run,
    async classify(image, options) {
      requireLive('classify');
      if (options !== undefined && (options === null || typeof options !== 'object')) {
        throw new XceptionConfigError(`classify options must be an object { topK? }; got ${show(options)}.`);
      }
      const topK = options?.topK ?? 5;
      if (!(Number.isInteger(topK) && topK >= 1 && topK <= classes)) {
        throw new XceptionConfigError(`topK must be an integer from 1 to ${classes}; got ${topK}.`);
      }
      const pixels = await imagePixels(image);
      const input = new Float32Array(height * width * 3);
      if (cropPct === null) writeResizedRgb(pixels, height, width, input, 0, scale, shift);
      else writeEvalTransformedRgb(pixels, { size: [height, width], cropPct }, input, 0, scale, shift);
      const scores = await run(input, 1);
      const nan = scores.findIndex((v) => Number.isNaN(v));
      if (nan >= 0) throw new XceptionConfigError(`the model produced NaN for class ${nan}; it gave no valid scores for this image.`);
      return topClasses(scores, labels, topK);
    },
    device,
    dispose: () => (released ??= session.release()),
  };
}

/** Checks a classify() image and reads a tensor's pixels; refuses a disposed tensor and NaN or infinite values. */
async function imagePixels(image: Pixels | PixelTensor): Promise<Pixels> {
  if (image === null || typeof image !== 'object') {
    throw new XceptionConfigError(`classify takes an image { data, width, height } (e.g. ImageData) or an image tensor; got ${show(image)}.`);
  }
  let pixels: Pixels;
  if ('shape' in image) {
    if ((image as { isDisposed?: boolean }).isDisposed === true) {
      throw new XceptionConfigError('classify: the image tensor has been disposed; pass a live tensor.');
    }
    pixels = await pixelsOfTensor(image);
  } else {
    pixels = image;
  }
  const { data } = pixels;
  if (data === null || typeof data !== 'object' || typeof data.length !== 'number') {
    throw new XceptionConfigError(`an image's data must be an array of pixel values in [0, 255]; got ${show(data)}.`);
  }
  // Integer arrays cannot hold NaN or Infinity; anything else is scanned.
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray || data instanceof Int32Array || data instanceof Uint16Array)) {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        throw new XceptionConfigError(`an image's pixels must be finite numbers in [0, 255]; value ${i} is ${String(data[i])}.`);
      }
    }
  }
  return pixels;
}

/** The crop fraction of a preset's ImageNet eval transform. */
function evalCropPct(preset: XceptionPresetName): number {
  const config = PRETRAINED_CONFIGS[preset];
  if (!config) {
    throw new XceptionConfigError(
      `evalTransform must be a preset with ImageNet weights (${Object.keys(PRETRAINED_CONFIGS).map((n) => `'${n}'`).join(', ')}); got ${JSON.stringify(preset)}.`,
    );
  }
  return config.cropPct;
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

/** The model's bytes: as given, read from a file (Node), or fetched within the download limits. */
async function modelBytes(model: OnnxClassifierOptions['model'], download: DownloadOptions | undefined): Promise<Uint8Array> {
  if (model instanceof Uint8Array) return model;
  if (model instanceof ArrayBuffer) return new Uint8Array(model);
  if (typeof model !== 'string' && !(model instanceof URL)) {
    throw new XceptionConfigError('model must be ONNX bytes (Uint8Array or ArrayBuffer), a URL, or a file path.');
  }
  const limits = resolveDownloadOptions(download);
  const text = String(model);
  if (isNode() && !/^(https?|blob|data):/i.test(text)) {
    const { readFile } = await importNode<typeof import('node:fs/promises')>('node:fs/promises');
    try {
      return new Uint8Array(await readFile(model instanceof URL ? model : text));
    } catch (error) {
      throw new XceptionConfigError(`cannot read the ONNX model file ${text}: ${describeFsError(error)}.`);
    }
  }
  return new Uint8Array(await fetchBytes(text, limits, `could not fetch the ONNX model from ${text}`));
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
  // A dimension written as a number may still be zero or negative: only a positive integer is a size.
  const isSize = (d: number | null | undefined): d is number => typeof d === 'number' && Number.isSafeInteger(d) && d > 0;
  const notSizes = (ds: (number | null | undefined)[]) => {
    const bad = ds.filter((d) => typeof d === 'number' && !isSize(d));
    return bad.length > 0 ? ` (${bad.join(', ')}: a dimension must be a positive integer)` : '';
  };
  if (input.length !== 4 || channels !== 3 || !isSize(height) || !isSize(width)) {
    throw new XceptionConfigError(
      `the ONNX model must have one NHWC input [batch, height, width, 3] with a fixed height and width (as exportOnnx writes); ` +
        `got ${inputs.length} input(s)${inputs.length === 1 ? ` of shape [${input.map((d) => d ?? '?').join(', ')}]${notSizes([height, width])}` : ''}.`,
    );
  }
  if (output.length !== 2 || !isSize(output[1])) {
    throw new XceptionConfigError(
      `the ONNX model must have one output [batch, classes]; got ${graph.output.length} output(s)` +
        `${graph.output.length === 1 ? ` of shape [${output.map((d) => d ?? '?').join(', ')}]${output.length === 2 ? (notSizes([output[1]]) || ' (the number of classes must be fixed)') : ''}` : ''}.`,
    );
  }
  // Refuse sizes that would allocate gigabytes (labels, input buffers) before anything is allocated.
  requireWithinLimit('the ONNX model\'s input height', height, 'maxInputSize');
  requireWithinLimit('the ONNX model\'s input width', width, 'maxInputSize');
  requireWithinLimit('the ONNX model\'s class count', output[1], 'maxNumClasses');
  return { inputSize: [height, width], classes: output[1] };
}
