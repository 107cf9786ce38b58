// One bench part: times training steps of a model (model.trainOnBatch, Adam) on one
// backend and prints one JSON line: step times, images per second and the wasm heap size.
//
//   node bench/parts/training-step.mjs --backend wasm|cpu --size 150 --batch 8 [--preset keras] [--steps 10] [--warmup 1]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { createXception, enableWasmTraining } from '../../dist/index.js';
import { median } from '../../scripts/image.mjs';
import { useWasmBackend } from '../../scripts/wasm-backend.mjs';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    size: { type: 'string', default: '150' },
    batch: { type: 'string', default: '8' },
    preset: { type: 'string', default: 'keras' },
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
  },
});
const size = Number(values.size);
const batch = Number(values.batch);
if (values.backend === 'wasm') {
  enableWasmTraining();
  await useWasmBackend();
} else {
  tf.env().set('PROD', true);
  await tf.setBackend(values.backend);
}
const model = createXception({ preset: values.preset, numClasses: 10, inputShape: [size, size, 3], allowSmallInput: size < 71 });
model.compile({ optimizer: tf.train.adam(1e-4), loss: 'categoricalCrossentropy' });
const x = tf.randomUniform([batch, size, size, 3], -1, 1, 'float32', 1);
const y = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32', 2), 10);
const heapBytes = () => (values.backend === 'wasm' ? tf.backend().wasm.HEAPU8.length : null);
const stepMs = [];
for (let i = 0; i < Number(values.warmup) + Number(values.steps); i++) {
  const start = performance.now();
  await model.trainOnBatch(x, y);
  if (i >= Number(values.warmup)) stepMs.push(performance.now() - start);
}
const medianMs = median(stepMs);
console.log(JSON.stringify({
  backend: values.backend, preset: values.preset, size, batch, steps: stepMs.length,
  stepMedianMs: medianMs, stepMs, imagesPerSecond: (batch * 1000) / medianMs, heapBytes: heapBytes(),
}));
