// Bundled by test/browser/webgpu-in-chromium.test.ts with esbuild and run in Chromium with
// --enable-unsafe-webgpu (SwiftShader's WebGPU adapter when there is no GPU): ONNX Runtime Web's
// WebGPU provider against its wasm provider (inference of exportOnnx's graph, training with
// createOnnxTrainer), and tfjs' webgpu backend against its cpu backend (createXception).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import * as ort from 'onnxruntime-web/webgpu';
import { createXception, type XceptionOptions } from '../../src/index.js';
import { createOnnxTrainer, exportOnnx, type OnnxRuntime } from '../../src/onnx/index.js';
import { narrowXception } from '../helpers/narrow-xception.js';
import { randomizeSeeded } from '../helpers/randomize.js';

declare global {
  interface Window {
    adapterInfo(): Promise<unknown>;
    onnxInference(): Promise<unknown>;
    onnxTraining(): Promise<unknown>;
    tfjsWebgpu(): Promise<unknown>;
  }
}

ort.env.wasm.wasmPaths = '/ort/';
ort.env.wasm.numThreads = 1; // the page is not cross-origin isolated: no SharedArrayBuffer
const runtime = ort as unknown as OnnxRuntime;
/**
 * Verbose session logs: ONNX Runtime then prints, for every session it opens, where its graph
 * partitioner put the nodes ("All nodes placed on [WebGpuExecutionProvider]. Number of nodes: N",
 * or one list per provider), which the test reads from the console.
 */
const LOG_PLACEMENT = { logSeverityLevel: 0, logVerbosityLevel: 0 } as const;

/** max |a − b| / max |b|, and max |b|. */
function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): { relative: number; scale: number; length: number } {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let difference = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    difference = Math.max(difference, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { relative: scale === 0 ? difference : difference / scale, scale, length: b.length };
}

window.adapterInfo = async () => {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info: Record<string, unknown> } | null> } }).gpu;
  if (!gpu) return null;
  const adapter = await gpu.requestAdapter();
  if (!adapter) return null;
  const { vendor, architecture, device, description, isFallbackAdapter } = adapter.info as Record<string, unknown>;
  return { vendor, architecture, device, description, isFallbackAdapter };
};

/** exportOnnx's graph of a narrow keras-layout model (48×48, batch 2) on WebGPU and on wasm. */
window.onnxInference = async () => {
  await tf.setBackend('cpu');
  const model = narrowXception('keras', { size: 48 });
  randomizeSeeded(model, 4);
  const bytes = exportOnnx(model);
  const images = tf.randomUniform([2, 48, 48, 3], -1, 1, 'float32', 4);
  const input = new ort.Tensor('float32', Float32Array.from(images.dataSync()), [2, 48, 48, 3]);
  const tfjs = tf.tidy(() => (model.predict(images) as tf.Tensor).dataSync().slice());
  tf.dispose(images);
  model.dispose();
  const run = async (provider: 'webgpu' | 'wasm') => {
    const session = await ort.InferenceSession.create(bytes, { executionProviders: [provider], ...(provider === 'webgpu' ? LOG_PLACEMENT : {}) });
    const started = performance.now();
    const output = await session.run({ [session.inputNames[0]!]: input });
    const ms = performance.now() - started;
    const data = output[session.outputNames[0]!]!.data as Float32Array;
    await session.release();
    return { data, ms };
  };
  const wasm = await run('wasm');
  const webgpu = await run('webgpu');
  return {
    webgpuVsWasm: relativeDifference(webgpu.data, wasm.data),
    wasmVsTfjs: relativeDifference(wasm.data, tfjs),
    ms: { webgpu: webgpu.ms, wasm: wasm.ms },
  };
};

/**
 * createOnnxTrainer on device 'webgpu' (three Adam steps), the same three steps on device 'auto'
 * (which must pick the wasm provider: the adapter is SwiftShader), and the first step's loss as
 * tfjs computes it.
 */
window.onnxTraining = async () => {
  await tf.setBackend('cpu');
  const size = 32;
  const model = narrowXception('keras', { size, classes: 3 });
  randomizeSeeded(model, 5);
  const images = tf.randomUniform([2, size, size, 3], -1, 1, 'float32', 5);
  const labels = tf.oneHot(tf.tensor1d([1, 2], 'int32'), 3).toFloat();
  const tfjsLoss = tf.tidy(() => tf.losses.softmaxCrossEntropy(labels, model.apply(images, { training: true }) as tf.Tensor).dataSync()[0]!);
  const options = { ort: runtime, batchSize: 2, loss: 'categoricalCrossentropy', optimizer: { type: 'adam', learningRate: 3e-3 } } as const;
  const train = async (device: 'webgpu' | 'auto') => {
    const trainer = await createOnnxTrainer(model, { ...options, device, ...(device === 'webgpu' ? { sessionOptions: LOG_PLACEMENT } : {}) });
    const losses: number[] = [];
    const stepMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      losses.push(await trainer.trainOnBatch(images, labels));
      stepMs.push(performance.now() - started);
    }
    const info = trainer.device;
    await trainer.dispose();
    return { losses, stepMs, device: info };
  };
  // Neither run syncs back, so both start from the same weights.
  const webgpu = await train('webgpu');
  const auto = await train('auto');
  tf.dispose([images, labels]);
  model.dispose();
  return { webgpu, auto, tfjsLoss, lossesWebgpuVsAuto: relativeDifference(webgpu.losses, auto.losses) };
};

/**
 * createXception's mini preset (oarriaga's mini-Xception: stem, four residual modules of separable
 * convolutions, batch norm and max pooling; 48×48×1, 7 classes) on tfjs' webgpu backend and on its
 * cpu backend. The keras preset at 71×71 gives the same agreement (1.4e-7) but compiles twice as many
 * shaders on SwiftShader (55 s against 30 s).
 */
const XCEPTION: XceptionOptions = { preset: 'mini', inputShape: [48, 48, 1], numClasses: 7, classifierActivation: 'linear' };
window.tfjsWebgpu = async () => {
  await tf.setBackend('cpu');
  const model = createXception(XCEPTION);
  randomizeSeeded(model, 6);
  const images = tf.randomUniform([2, 48, 48, 1], -1, 1, 'float32', 6);
  const cpu = tf.tidy(() => (model.predict(images) as tf.Tensor).dataSync().slice());
  const weights = model.getWeights().map((w) => ({ shape: w.shape, data: w.dataSync().slice() }));
  const input = { shape: images.shape, data: images.dataSync().slice() };
  tf.dispose(images);
  model.dispose();
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not start its webgpu backend');
  const onGpu = createXception(XCEPTION);
  onGpu.setWeights(weights.map((w) => tf.tensor(w.data, w.shape)));
  const gpuImages = tf.tensor(input.data, input.shape);
  const started = performance.now();
  const prediction = onGpu.predict(gpuImages) as tf.Tensor;
  const webgpu = await prediction.data();
  const ms = performance.now() - started;
  const again = performance.now();
  const second = onGpu.predict(gpuImages) as tf.Tensor;
  await second.data();
  second.dispose();
  const warmMs = performance.now() - again;
  const backend = tf.getBackend();
  tf.dispose([prediction, gpuImages]);
  onGpu.dispose();
  await tf.setBackend('cpu');
  return { backend, ms, warmMs, webgpuVsCpu: relativeDifference(webgpu, cpu) };
};
