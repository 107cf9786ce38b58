// The model side of the page: load a converted Xception (or build one with random weights), pick
// a backend (or ONNX Runtime Web), and classify pixels into the top 5 classes with the time it took.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import * as ort from 'onnxruntime-web';
import ortMjs from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import { createOnnxClassifier, exportOnnx, type OnnxClassifier, type OnnxRuntime } from 'xception-ts/onnx';
import { createXception, decodePredictions, gradCam, overlayHeatmap, preprocessInput, registerXceptionLayers, type RgbaPixels } from 'xception-ts';

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
});

export interface Prediction {
  classIndex: number;
  label: string;
  probability: number;
}

export interface Classification {
  top5: Prediction[];
  /** Milliseconds from pixels to probabilities (preprocessing, predict, read back). */
  latencyMs: number;
  backend: string;
}

export interface LoadedModel {
  model: tf.LayersModel;
  /** Where it came from, or null for the random-weights fallback. */
  url: string | null;
  inputSize: [number, number];
}

/** Loads `url` (a tfjs layers model, e.g. from `xception-ts convert`); falls back to random weights. */
export async function loadModel(url: string): Promise<LoadedModel> {
  registerXceptionLayers(); // dilated models (outputStride 8/16) use xception-ts' atrous layers
  let model: tf.LayersModel;
  let source: string | null = url;
  try {
    const response = await fetch(url, { method: 'HEAD' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    model = await tf.loadLayersModel(url);
  } catch {
    model = createXception(); // the Keras architecture, random weights
    source = null;
  }
  const [, height, width] = model.inputs[0]!.shape as [null, number, number, number];
  return { model, url: source, inputSize: [height, width] };
}

/** Switches the backend; returns its name and, for wasm, how many threads it runs. */
export async function useBackend(name: string): Promise<{ backend: string; threads: number | null }> {
  if (!(await tf.setBackend(name))) throw new Error(`the ${name} backend is not available in this browser`);
  await tf.ready();
  return { backend: tf.getBackend(), threads: name === 'wasm' ? getThreadsCount() : null };
}

/** Resizes the pixels to the model's input, preprocesses them as Xception expects, predicts, and decodes the top 5. */
export async function classify(loaded: LoadedModel, pixels: ImageBitmap | ImageData | HTMLImageElement | HTMLVideoElement | HTMLCanvasElement): Promise<Classification> {
  const start = performance.now();
  const probabilities = tf.tidy(() => {
    const image = tf.browser.fromPixels(pixels);
    const batch = tf.image.resizeBilinear(image, loaded.inputSize).expandDims(0) as tf.Tensor4D;
    return loaded.model.predict(preprocessInput(batch)) as tf.Tensor2D;
  });
  const values = await probabilities.data();
  const latencyMs = performance.now() - start;
  const classes = probabilities.shape[1];
  const top5 = classes === 1000
    ? decodePredictions(probabilities, 5)[0]!
    : Array.from(values.keys()).sort((a, b) => values[b]! - values[a]!).slice(0, 5).map((i) => ({ classIndex: i, label: `class ${i}`, probability: values[i]! }));
  probabilities.dispose();
  return { top5, latencyMs, backend: tf.getBackend() };
}

/**
 * The Grad-CAM heatmap of `classIndex` (keras.io's: the last convolutional feature map,
 * block14_sepconv2_act) painted over the pixels, at the pixels' size.
 */
export function heatmapOverlay(loaded: LoadedModel, pixels: ImageBitmap | HTMLVideoElement, classIndex: number): RgbaPixels {
  const canvas = document.createElement('canvas');
  canvas.width = pixels instanceof HTMLVideoElement ? pixels.videoWidth : pixels.width;
  canvas.height = pixels instanceof HTMLVideoElement ? pixels.videoHeight : pixels.height;
  const context = canvas.getContext('2d')!;
  context.drawImage(pixels, 0, 0);
  const image = context.getImageData(0, 0, canvas.width, canvas.height);
  const input = tf.tidy(() => preprocessInput(tf.image.resizeBilinear(tf.browser.fromPixels(image), loaded.inputSize)));
  const { heatmap } = gradCam(loaded.model, input, { classIndex });
  const overlay = overlayHeatmap(image, heatmap);
  tf.dispose([input, heatmap]);
  return overlay;
}

/**
 * ONNX Runtime Web's wasm binary and its loader, served by Vite as files of their own: its worker
 * threads start from the loader's URL, which must not be the app's bundle (that one touches
 * `document`). Threads when the page is cross-origin isolated.
 */
ort.env.wasm.wasmPaths = { mjs: ortMjs, wasm: ortWasm };
ort.env.wasm.numThreads = crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency) : 1;

/** The engines beside tfjs' backends: ONNX Runtime Web on wasm (threads) or WebGPU. */
export type OnnxEngine = 'onnx-wasm' | 'onnx-webgpu';

/** Whether WebGPU has an adapter here (ONNX Runtime Web's WebGPU provider needs one). */
export async function hasWebGpuAdapter(): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  return gpu !== undefined && (await gpu.requestAdapter().catch(() => null)) !== null;
}

/** Exports the loaded model to ONNX (in the page) and opens it with ONNX Runtime Web. */
export async function loadOnnxEngine(loaded: LoadedModel, engine: OnnxEngine): Promise<OnnxClassifier> {
  return createOnnxClassifier({
    model: exportOnnx(loaded.model),
    ort: ort as unknown as OnnxRuntime,
    sessionOptions: { executionProviders: [engine === 'onnx-webgpu' ? 'webgpu' : 'wasm'], graphOptimizationLevel: 'all' },
  });
}

/** Classifies with ONNX Runtime Web: the same top 5 and latency as {@link classify}. */
export async function classifyOnnx(classifier: OnnxClassifier, engine: OnnxEngine, pixels: ImageBitmap | HTMLVideoElement): Promise<Classification> {
  const canvas = document.createElement('canvas');
  canvas.width = pixels instanceof HTMLVideoElement ? pixels.videoWidth : pixels.width;
  canvas.height = pixels instanceof HTMLVideoElement ? pixels.videoHeight : pixels.height;
  const context = canvas.getContext('2d')!;
  context.drawImage(pixels, 0, 0);
  const image = context.getImageData(0, 0, canvas.width, canvas.height);
  const start = performance.now();
  const top5 = await classifier.classify(image, { topK: 5 });
  return { top5, latencyMs: performance.now() - start, backend: engine };
}
