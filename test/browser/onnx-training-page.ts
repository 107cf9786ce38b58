// Bundled by test/browser/onnx-training-in-chromium.test.ts with esbuild and run in Chromium:
// trains a narrow Xception for three steps with ONNX Runtime Web (wasm) through
// xception-ts/onnx's createOnnxTrainer, and reports the losses.
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web/wasm';
import { entryFlow, exitFlow, middleFlow } from '../../src/index.js';
import { createOnnxTrainer, type OnnxRuntime } from '../../src/onnx/index.js';

declare global {
  interface Window {
    runOnnxTraining(images: number[], labels: number[]): Promise<unknown>;
  }
}

const SIZE = 32;
const CLASSES = 4;

window.runOnnxTraining = async (images, labels) => {
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = 1; // the page is not cross-origin isolated: no SharedArrayBuffer
  await tf.setBackend('cpu');
  const input = tf.input({ shape: [SIZE, SIZE, 3], name: 'input' });
  let x = entryFlow(input, { stemFilters: [8, 16], filters: [16, 24, 32], stemPadding: 'same' });
  x = middleFlow(x, { filters: 32, repeats: 1 });
  x = exitFlow(x, { filters: [32, 48], convFilters: [48, 64] });
  x = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x) as tf.SymbolicTensor;
  const y = tf.layers.dense({ units: CLASSES, activation: 'softmax', name: 'predictions' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: y });
  const batch = labels.length;
  const xs = tf.tensor4d(images, [batch, SIZE, SIZE, 3]);
  const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES).toFloat();
  // The first step's loss, computed by tfjs: the forward pass in training mode, cross-entropy.
  const tfjsLoss = tf.tidy(() => -tf.mean(tf.sum(tf.mul(ys, tf.log(model.apply(xs, { training: true }) as tf.Tensor)), -1)).dataSync()[0]!);

  const started = performance.now();
  const trainer = await createOnnxTrainer(model, {
    ort: ort as unknown as OnnxRuntime,
    executionProviders: ['wasm'],
    batchSize: batch,
    optimizer: { type: 'adam', learningRate: 3e-3 },
  });
  const createMs = performance.now() - started;
  const losses: number[] = [];
  const stepMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    losses.push(await trainer.trainOnBatch(xs, ys));
    stepMs.push(performance.now() - t);
  }
  const before = tf.tidy(() => (model.predict(xs) as tf.Tensor).dataSync().slice());
  await trainer.syncToModel();
  const after = tf.tidy(() => (model.predict(xs) as tf.Tensor).dataSync().slice());
  await trainer.dispose();
  return {
    losses,
    tfjsLoss,
    stepMs,
    createMs,
    syncChangedPredictions: before.some((v, i) => v !== after[i]),
    crossOriginIsolated: window.crossOriginIsolated,
    tfjsBackend: tf.getBackend(),
  };
};
