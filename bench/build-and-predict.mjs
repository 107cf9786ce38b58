// npm run bench: time createXception() and a 299×299 forward pass on the wasm
// backend, per preset, as medians over repeated runs in one process. Writes
// bench/results/latest.json and prints a Markdown table.
//
//   node bench/build-and-predict.mjs [--builds 5] [--runs 10]
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { createXception } from '../dist/index.js';
import { median } from '../scripts/image.mjs';
import { useWasmBackend } from '../scripts/wasm-backend.mjs';

const { values } = parseArgs({ options: { builds: { type: 'string', default: '5' }, runs: { type: 'string', default: '10' } } });
const BUILDS = Number(values.builds);
const RUNS = Number(values.runs);

const backend = await useWasmBackend();
const rows = [];
for (const preset of ['keras', 'postact']) {
  const buildMs = [];
  for (let i = 0; i < BUILDS; i++) {
    const start = performance.now();
    const model = createXception({ preset });
    buildMs.push(performance.now() - start);
    model.dispose();
  }

  const model = createXception({ preset });
  const input = tf.randomUniform([1, 299, 299, 3], -1, 1);
  const predictMs = [];
  for (let run = 0; run <= RUNS; run++) {
    const start = performance.now();
    const output = model.predict(input);
    await output.data();
    output.dispose();
    if (run > 0) predictMs.push(performance.now() - start); // run 0 is the warm-up
  }
  tf.dispose(input);
  model.dispose();
  rows.push({
    preset,
    params: createParamsCount(preset),
    buildMedianMs: median(buildMs),
    predictMedianMs: median(predictMs),
    predictMinMs: Math.min(...predictMs),
  });
}

function createParamsCount(preset) {
  const model = createXception({ preset });
  const n = model.countParams();
  model.dispose();
  return n;
}

const result = {
  date: new Date().toISOString(),
  node: process.version,
  backend,
  tfjs: tf.version.tfjs,
  builds: BUILDS,
  runs: RUNS,
  rows,
  ratioPostactToKerasPredict: rows[1].predictMedianMs / rows[0].predictMedianMs,
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/latest.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);

const ms = (n) => n.toFixed(0);
console.log(`| preset | params | createXception() median | predict 299×299 batch 1 on ${backend}, median (min) |`);
console.log('| --- | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(`| ${r.preset} | ${r.params.toLocaleString('en-US')} | ${ms(r.buildMedianMs)} ms | ${ms(r.predictMedianMs)} ms (${ms(r.predictMinMs)} ms) |`);
}
console.log(`\n${BUILDS} builds and ${RUNS} timed predictions (after one warm-up) per preset; postact/keras predict ratio ${result.ratioPostactToKerasPredict.toFixed(2)}. Node ${process.version}, tfjs ${tf.version.tfjs}.`);
