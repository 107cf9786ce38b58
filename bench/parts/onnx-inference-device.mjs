// One bench part: inference of the Keras Xception's ONNX graph (exportOnnx, random weights) on one
// ONNX Runtime device, at each batch given. Prints one JSON line: the device ONNX Runtime ran on
// and, per batch, the median time per run and images per second.
//
//   node bench/parts/onnx-inference-device.mjs --device webgpu [--size 299] [--batch 1 --batch 32] [--runs 10] [--warmup 2]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { createXception } from '../../dist/index.js';
import { createOnnxClassifier, exportOnnx } from '../../dist/onnx.js';
import { median } from '../../scripts/image.mjs';

const { values } = parseArgs({
  options: {
    device: { type: 'string', default: 'cpu' },
    preset: { type: 'string', default: 'keras' },
    size: { type: 'string', default: '299' },
    batch: { type: 'string', multiple: true },
    runs: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
  },
});
const size = Number(values.size);
const batches = (values.batch ?? ['1', '32']).map(Number);
tf.env().set('PROD', true);
await tf.setBackend('cpu');
const model = createXception({ preset: values.preset, inputShape: [size, size, 3], allowSmallInput: size < 71 });
const bytes = exportOnnx(model);
model.dispose();
const classifier = await createOnnxClassifier({ model: bytes, ort, device: values.device, preprocess: 'none' });
const rows = [];
for (const batch of batches) {
  const input = Float32Array.from({ length: batch * size * size * 3 }, (_, i) => Math.sin(i) * 0.5);
  const times = [];
  for (let i = 0; i < Number(values.warmup) + Number(values.runs); i++) {
    const start = performance.now();
    await classifier.run(input, batch);
    if (i >= Number(values.warmup)) times.push(performance.now() - start);
  }
  const runMedianMs = median(times);
  rows.push({ size, batch, runs: times.length, runMedianMs, runMs: times, imagesPerSecond: (batch * 1000) / runMedianMs });
}
await classifier.dispose();
console.log(JSON.stringify({ engine: 'onnxruntime-node', device: classifier.device, preset: values.preset, rows, peakRssBytes: process.resourceUsage().maxRSS * 1024 }));
