// One bench part: model.predict on tfjs' pure-JS 'cpu' backend at a small size (its
// 299×299 pass takes ~15 s), with the wasm backend at the same size in the same process
// for the ratio. Prints one JSON line.
//
//   node bench/parts/cpu-predict.mjs [--size 150] [--runs 10]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { createXception } from '../../dist/index.js';
import { median } from '../../scripts/image.mjs';
import { useWasmBackend } from '../../scripts/wasm-backend.mjs';

const { values } = parseArgs({ options: { size: { type: 'string', default: '150' }, runs: { type: 'string', default: '10' } } });
const size = Number(values.size);
const result = { size, runs: Number(values.runs), medianMs: {} };
tf.env().set('PROD', true);
for (const backend of ['cpu', 'wasm']) {
  if (backend === 'wasm') await useWasmBackend();
  else await tf.setBackend('cpu');
  const model = createXception({ inputShape: [size, size, 3] });
  const x = tf.randomUniform([1, size, size, 3], -1, 1, 'float32', 1);
  const times = [];
  for (let run = 0; run <= result.runs; run++) {
    const start = performance.now();
    const y = model.predict(x);
    await y.data();
    y.dispose();
    if (run > 0) times.push(performance.now() - start);
  }
  result.medianMs[backend] = median(times);
  x.dispose();
  model.dispose();
}
console.log(JSON.stringify(result));
