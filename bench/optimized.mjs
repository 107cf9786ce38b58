// npm run bench:optimized: latency of model.predict vs optimizeForInference(model).predict
// on the wasm backend, 299×299, batch 1 and 8, medians over interleaved runs in one process.
//   node bench/optimized.mjs [--runs 10] [--presets keras,xception65]
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { createXception, optimizeForInference } from '../dist/index.js';
import { median } from '../scripts/image.mjs';
import { useWasmBackend } from '../scripts/wasm-backend.mjs';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, presets: { type: 'string', default: 'keras' }, batches: { type: 'string', default: '1,8' } } });
const RUNS = Number(values.runs);
const backend = await useWasmBackend();
const rows = [];
for (const preset of values.presets.split(',')) {
  const model = createXception({ preset });
  const fast = optimizeForInference(model);
  for (const batch of values.batches.split(',').map(Number)) {
    const x = tf.randomUniform([batch, 299, 299, 3], -1, 1);
    const time = async (f) => {
      const start = performance.now();
      const y = f(x);
      await y.data();
      y.dispose();
      return performance.now() - start;
    };
    await time((t) => model.predict(t));
    await time((t) => fast.predict(t)); // warm-up both
    const plain = [];
    const optimized = [];
    for (let i = 0; i < RUNS; i++) {
      plain.push(await time((t) => model.predict(t)));
      optimized.push(await time((t) => fast.predict(t)));
    }
    rows.push({ preset, batch, plainMedianMs: median(plain), optimizedMedianMs: median(optimized), ratio: median(optimized) / median(plain) });
    x.dispose();
  }
  fast.dispose();
  model.dispose();
}
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/optimized.json', import.meta.url), `${JSON.stringify({ date: new Date().toISOString(), backend, runs: RUNS, rows }, null, 2)}\n`);
console.log(`| preset | batch | model.predict (${backend}) | optimizeForInference | ratio |`);
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(`| ${r.preset} | ${r.batch} | ${r.plainMedianMs.toFixed(0)} ms | ${r.optimizedMedianMs.toFixed(0)} ms | ${r.ratio.toFixed(2)} |`);
console.log(`\nMedians of ${RUNS} interleaved runs after one warm-up each, 299×299.`);
