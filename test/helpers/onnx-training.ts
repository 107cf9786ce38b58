import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import type { StateEntry, TrainingGraph } from '../../src/training/onnx/graph/training-graph.js';

/**
 * Transposes a row-major array of `shape` by `perm` (as tf.transpose), in
 * plain JS: tfjs' cpu transpose took 18 s for a full Xception's kernels.
 */
export function permute(data: ArrayLike<number>, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  const strides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  const outShape = perm.map((p) => shape[p]!);
  const outStrides = perm.map((p) => strides[p]!); // input stride of each output axis
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  let source = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[source]!;
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]!++;
      source += outStrides[axis]!;
      if (index[axis]! < outShape[axis]!) break;
      source -= outStrides[axis]! * outShape[axis]!;
      index[axis] = 0;
    }
  }
  return out;
}

/** A tfjs value in the ONNX layout of a state entry (transpose by perm, then reshape). */
export function toOnnx(entry: StateEntry, value: tf.Tensor): Float32Array {
  const data = value.dataSync();
  return entry.toOnnx?.perm ? permute(data, value.shape, entry.toOnnx.perm) : Float32Array.from(data);
}

/** An ONNX-layout value back in the tfjs layout of the entry's variable (reshape, then transpose by perm). */
export function fromOnnx(entry: StateEntry, data: Float32Array): tf.Tensor {
  const shape = entry.fromOnnx?.reshape ?? entry.shape;
  const perm = entry.fromOnnx?.perm;
  return tf.tensor(perm ? permute(data, shape, perm) : data, entry.variable!.shape as number[]);
}

/** Feeds of a training graph from the model's current variables (optimizer slots at their initial values). */
export function stateFeeds(graph: { state: StateEntry[] }): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const entry of graph.state) {
    const data = entry.variable ? toOnnx(entry, entry.variable.read()) : new Float32Array(entry.shape.reduce((n, s) => n * s, 1)).fill(entry.initial ?? 0);
    feeds[entry.input] = new ort.Tensor('float32', data, entry.shape);
  }
  return feeds;
}

/** Runs an ONNX model once on ONNX Runtime (cpu, all graph optimizations, one thread). */
export async function runOnnx(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** One training step's feeds: the state, images (NHWC), labels, learning rate and masks. */
export function stepFeeds(graph: TrainingGraph, images: tf.Tensor, labels: tf.Tensor, learningRate: number, masks: Record<string, tf.Tensor> = {}): Record<string, ort.Tensor> {
  const feeds = stateFeeds(graph);
  feeds[graph.images] = new ort.Tensor('float32', Float32Array.from(images.dataSync()), images.shape);
  // One-hot rows or (sparse) class ids: the graph takes both as float32.
  feeds[graph.labels] = new ort.Tensor('float32', Float32Array.from(labels.dataSync()), labels.shape);
  feeds[graph.learningRate] = new ort.Tensor('float32', new Float32Array([learningRate]), []);
  for (const mask of graph.dropoutMasks) {
    const value = masks[mask.input]!;
    feeds[mask.input] = new ort.Tensor('float32', Float32Array.from(value.dataSync()), value.shape);
  }
  return feeds;
}

/** max |actual − expected| / max |expected|: the error relative to the tensor's scale. */
export function relativeError(actual: tf.Tensor, expected: tf.Tensor): number {
  return tf.tidy(() => {
    const scale = tf.max(tf.abs(expected)).dataSync()[0]!;
    const error = tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]!;
    return scale === 0 ? error : error / scale;
  });
}

/** ‖actual − expected‖₂ / ‖expected‖₂. */
export function normRelativeError(actual: tf.Tensor, expected: tf.Tensor): number {
  return tf.tidy(() => {
    const scale = tf.norm(expected).dataSync()[0]!;
    const error = tf.norm(tf.sub(actual, expected)).dataSync()[0]!;
    return scale === 0 ? error : error / scale;
  });
}

/** What {@link compareGradients} measured. */
export interface GradientComparison {
  /** ONNX loss and tfjs' loss. */
  loss: [number, number];
  /** Per trainable weight (tfjs variable name): max |onnx − tfjs| / max |tfjs|. */
  errors: Map<string, number>;
  /** Per trainable weight: max |onnx − tfjs|. */
  absoluteErrors: Map<string, number>;
  /** Per trainable weight: max |tfjs gradient|. */
  scales: Map<string, number>;
}

/**
 * Runs the training graph of `model` once with gradient outputs and compares
 * every trainable weight's gradient with tfjs' `tf.variableGrads` of
 * `tf.losses.softmaxCrossEntropy` on the model's logits in training mode
 * (an independent computation: tfjs' own kernels and autodiff).
 *
 * Where a ReLU's input is within float32 rounding of 0, or two values of a
 * max-pooling window are that close, the gradient depends on rounding: tfjs
 * and ONNX Runtime round differently and may route it differently (seen as
 * 1e-2–3e-1 errors in the layers before such a point, on a few random
 * seeds). The tests use seeds without such a point; {@link nearKinks} lists
 * candidates when a comparison fails.
 */
export async function compareGradients(
  model: tf.LayersModel,
  build: (batchSize: number) => TrainingGraph,
  options: { batchSize: number; seed?: number; labelSmoothing?: number; sparse?: boolean; masks?: Record<string, tf.Tensor>; reference?: () => tf.Tensor },
): Promise<GradientComparison> {
  const { batchSize, seed = 1, labelSmoothing = 0, sparse = false, masks = {} } = options;
  const [, height, width, channels] = model.inputs[0]!.shape as number[];
  const graph = build(batchSize);
  const classes = graph.classes;
  const images = tf.randomUniform([batchSize, height!, width!, channels!], -1, 1, 'float32', seed);
  const ids = Array.from({ length: batchSize }, (_, i) => (i * 3 + seed) % classes);
  const oneHot = tf.tidy(() => tf.oneHot(tf.tensor1d(ids, 'int32'), classes).toFloat());
  const labels = sparse ? tf.tensor1d(ids, 'int32') : oneHot;
  const outputs = await runOnnx(graph.bytes, stepFeeds(graph, images, labels, 0.01, masks));
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => {
    const logits = options.reference ? options.reference() : (model.apply(images, { training: true }) as tf.Tensor);
    return tf.losses.softmaxCrossEntropy(oneHot, logits, undefined, labelSmoothing) as tf.Scalar;
  }, variables);
  const errors = new Map<string, number>();
  const absoluteErrors = new Map<string, number>();
  const scales = new Map<string, number>();
  for (const entry of graph.state.filter((s) => s.kind === 'trainable')) {
    const name = entry.variable!.name;
    const actual = fromOnnx(entry, outputs[graph.gradients![entry.input]!]!.data as Float32Array);
    const expected = grads[name]!;
    errors.set(name, relativeError(actual, expected));
    absoluteErrors.set(name, tf.tidy(() => tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]!));
    scales.set(name, tf.tidy(() => tf.max(tf.abs(expected)).dataSync()[0]!));
    actual.dispose();
  }
  const loss: [number, number] = [outputs[graph.loss]!.data[0] as number, value.dataSync()[0]!];
  tf.dispose([value, ...Object.values(grads), images, oneHot, labels]);
  return { loss, errors, absoluteErrors, scales };
}

/**
 * Layers whose input, on tfjs' training-mode forward pass, has a ReLU input
 * within 1e-6 of the layer's largest |value| from 0, or a max-pool window
 * whose two largest values are that close: where the gradient is not
 * determined by the math but by rounding.
 */
export function nearKinks(model: tf.LayersModel, images: tf.Tensor): string[] {
  const relus = model.layers.filter((l) => (l.getConfig() as { activation?: string }).activation === 'relu' && l.getClassName() === 'Activation');
  const pools = model.layers.filter((l) => l.getClassName() === 'MaxPooling2D');
  const probes = [...relus, ...pools];
  if (probes.length === 0) return [];
  const probe = tf.model({ inputs: model.inputs, outputs: probes.map((l) => (l.input as tf.SymbolicTensor)) });
  const found: string[] = [];
  const values = tf.tidy(() =>
    ([] as tf.Tensor[]).concat(probe.apply(images, { training: true }) as tf.Tensor | tf.Tensor[]).map((t) => ({ data: t.dataSync() as Float32Array, shape: t.shape })),
  );
  probes.forEach((layer, index) => {
    const { data, shape } = values[index]!;
    const scale = data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const tolerance = 1e-6 * scale;
    if (index < relus.length) {
      const close = data.filter((v) => Math.abs(v) < tolerance).length;
      if (close > 0) found.push(`${layer.name}: ${close} ReLU inputs within ${tolerance.toExponential(1)} of 0`);
      return;
    }
    const [n, h, w, c] = shape as [number, number, number, number];
    const config = layer.getConfig() as { poolSize: [number, number]; strides: [number, number]; padding: string };
    const [kh, kw] = config.poolSize;
    const [sh, sw] = config.strides;
    const outH = config.padding === 'same' ? Math.ceil(h / sh) : Math.floor((h - kh) / sh) + 1;
    const outW = config.padding === 'same' ? Math.ceil(w / sw) : Math.floor((w - kw) / sw) + 1;
    const top = config.padding === 'same' ? Math.floor(Math.max((outH - 1) * sh + kh - h, 0) / 2) : 0;
    const left = config.padding === 'same' ? Math.floor(Math.max((outW - 1) * sw + kw - w, 0) / 2) : 0;
    let close = 0;
    for (let b = 0; b < n; b++) for (let i = 0; i < outH; i++) for (let j = 0; j < outW; j++) for (let ch = 0; ch < c; ch++) {
      let first = -Infinity;
      let second = -Infinity;
      for (let a = 0; a < kh; a++) for (let d = 0; d < kw; d++) {
        const y = i * sh - top + a;
        const x = j * sw - left + d;
        if (y < 0 || y >= h || x < 0 || x >= w) continue;
        const v = data[((b * h + y) * w + x) * c + ch]!;
        if (v > first) [first, second] = [v, first];
        else if (v > second) second = v;
      }
      // Ties at or below 0 after a ReLU get no gradient either way.
      if (first - second < tolerance && first > tolerance) close++;
    }
    if (close > 0) found.push(`${layer.name}: ${close} windows with two maxima within ${tolerance.toExponential(1)}`);
  });
  return found;
}

/** The largest error of a comparison, with its weight's name. */
export function worst(errors: Map<string, number>): [string, number] {
  let result: [string, number] = ['', 0];
  for (const [name, error] of errors) if (!(error <= result[1])) result = [name, error];
  return result;
}

/** Seeded random weights (see test/helpers/randomize.ts), re-exported for the gradient tests. */
export { randomizeSeeded } from './randomize.js';
