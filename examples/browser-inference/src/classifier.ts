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
import { createXception, decodePredictions, gradCam, overlayHeatmap, preprocessInput, registerXceptionLayers, XceptionDeviceError, type RgbaPixels } from 'xception-ts';

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

/** What actually runs the model: the backend or provider, and the WebGPU adapter or why there is none. */
export interface RanOn {
  /** `'wasm'`, `'webgl'`, `'webgpu'` (tfjs backends) or ONNX Runtime's provider, `'wasm'` or `'webgpu'`. */
  device: string;
  /** e.g. the WebGPU adapter (`google swiftshader (software)`), or why the page fell back to wasm. */
  note: string | null;
}

/** The WebGPU adapter here, as its info describes it (a fallback adapter is software), or null. */
export async function webGpuAdapter(): Promise<string | null> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, unknown> } | null> } }).gpu;
  const adapter = await gpu?.requestAdapter().catch(() => null);
  if (!adapter) return null;
  const info = adapter.info ?? {};
  const name = [info['vendor'], info['architecture'], info['device']].filter(Boolean).join(' ') || 'an adapter without info';
  return info['isFallbackAdapter'] ? `${name} (software)` : name;
}

/**
 * Switches tfjs' backend; `'webgpu'` without an adapter falls back to wasm and says so.
 * Returns what runs, and for wasm how many threads.
 */
export async function useBackend(name: string): Promise<RanOn & { threads: number | null }> {
  let note: string | null = null;
  if (name === 'webgpu') {
    const adapter = await webGpuAdapter();
    if (adapter && (await tf.setBackend('webgpu'))) {
      note = `WebGPU adapter: ${adapter}`;
    } else {
      note = `tfjs webgpu: ${adapter ? 'the backend did not start' : 'no WebGPU adapter'}, fell back to wasm`;
      name = 'wasm';
    }
  }
  if (tf.getBackend() !== name && !(await tf.setBackend(name))) throw new Error(`the ${name} backend is not available in this browser`);
  await tf.ready();
  return { device: tf.getBackend(), note, threads: tf.getBackend() === 'wasm' ? getThreadsCount() : null };
}

/**
 * Exports the loaded model to ONNX (in the page) and opens it with ONNX Runtime Web. WebGPU runs
 * on 'onnxruntime-web/webgpu' (ONNX Runtime's C++ WebGPU provider, loaded only when picked) with
 * `device: 'webgpu'`; where there is no adapter or it does not start, the page falls back to the
 * wasm provider and says so.
 */
export async function loadOnnxEngine(loaded: LoadedModel, engine: OnnxEngine): Promise<{ classifier: OnnxClassifier; ranOn: RanOn }> {
  const model = exportOnnx(loaded.model);
  const sessionOptions = { graphOptimizationLevel: 'all' };
  let note: string | null = null;
  if (engine === 'onnx-webgpu') {
    try {
      const ortWebGpu = await webGpuRuntime();
      const classifier = await createOnnxClassifier({ model, ort: ortWebGpu, device: 'webgpu', sessionOptions });
      return { classifier, ranOn: { device: 'webgpu', note: `WebGPU adapter: ${classifier.device.adapter ?? 'unknown'}` } };
    } catch (error) {
      if (!(error instanceof XceptionDeviceError)) throw error;
      note = `ONNX Runtime WebGPU did not start (${error.message.replace(/^createOnnxClassifier: /, '')}), fell back to wasm`;
    }
  }
  const classifier = await createOnnxClassifier({ model, ort: ort as unknown as OnnxRuntime, device: 'cpu', sessionOptions });
  return { classifier, ranOn: { device: classifier.device.executionProviders[0]!, note } };
}

/** 'onnxruntime-web/webgpu' and its binary (the asyncify build), loaded the first time WebGPU is picked. */
async function webGpuRuntime(): Promise<OnnxRuntime> {
  const [runtime, mjs, wasm] = await Promise.all([
    import('onnxruntime-web/webgpu'),
    import('onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url'),
    import('onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url'),
  ]);
  runtime.env.wasm.wasmPaths = { mjs: mjs.default, wasm: wasm.default };
  runtime.env.wasm.numThreads = ort.env.wasm.numThreads;
  return runtime as unknown as OnnxRuntime;
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
