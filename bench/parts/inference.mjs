// One bench part: 299×299 inference, in one process, runs interleaved so that ratios hold on a
// noisy machine: tfjs wasm model.predict, optimizeForInference, ONNX Runtime on the
// exportOnnx graph (raw session.run), and createOnnxClassifier.classify (resize,
// preprocess, run, top-5) on the same session. Also createXception and exportOnnx times, the model's
// multiply-adds, and the process' peak RSS. Prints one JSON line.
//
//   node bench/parts/inference.mjs [--runs 10] [--batches 1,8]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { createXception, optimizeForInference } from '../../dist/index.js';
import { createOnnxClassifier, exportOnnx } from '../../dist/onnx.js';
import { median } from '../../scripts/image.mjs';
import { multiplyAdds } from './model-macs.mjs';
import { useWasmBackend } from '../../scripts/wasm-backend.mjs';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, batches: { type: 'string', default: '1,8' } } });
const RUNS = Number(values.runs);
await useWasmBackend();

const timeMs = (f) => { const start = performance.now(); f(); return performance.now() - start; };
const buildMs = median(Array.from({ length: 5 }, () => { let m; const t = timeMs(() => (m = createXception())); m.dispose(); return t; }));
const model = createXception();
const exportMs = median(Array.from({ length: 3 }, () => timeMs(() => exportOnnx(model))));
const onnx = exportOnnx(model);
const fast = optimizeForInference(model);
// One session for both ONNX Runtime measurements: two sessions' thread pools spin between runs
// and, interleaved on two cores, slow each other down ~3×.
const classifier = await createOnnxClassifier({ model: onnx, ort });
const { session } = classifier;
const image = { data: new Uint8Array(640 * 480 * 4).map((_, i) => (i * 2654435761) % 256), width: 640, height: 480 };

const rows = [];
for (const batch of values.batches.split(',').map(Number)) {
  const x = tf.randomUniform([batch, 299, 299, 3], -1, 1, 'float32', batch);
  const feed = { input: new ort.Tensor('float32', x.dataSync(), x.shape) };
  // Two blocks, each interleaving what it compares: tfjs plain vs optimized, then ONNX Runtime raw
  // vs the classifier (ORT's thread pool runs slower right after long wasm runs).
  const blocks = [
    {
      tfjsWasm: async () => { const y = model.predict(x); await y.data(); y.dispose(); },
      tfjsWasmOptimized: async () => { const y = fast.predict(x); await y.data(); y.dispose(); },
    },
    {
      onnxRuntime: async () => { await session.run(feed); },
      ...(batch === 1 ? { onnxClassifier: async () => { await classifier.classify(image); } } : {}),
    },
  ];
  const times = {};
  for (const variants of blocks) {
    for (const name of Object.keys(variants)) times[name] = [];
    for (let run = 0; run <= RUNS; run++) {
      for (const [name, f] of Object.entries(variants)) {
        const start = performance.now();
        await f();
        if (run > 0) times[name].push(performance.now() - start); // run 0 warms up
      }
    }
  }
  x.dispose();
  rows.push({ batch, medianMs: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) });
}

// Multiply-adds of one 299×299 image, from the layers' shapes.
const macs = multiplyAdds(model);
await classifier.dispose();
fast.dispose();
model.dispose();
console.log(JSON.stringify({ runs: RUNS, buildMs, exportMs, onnxBytes: onnx.length, macs, rows, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
