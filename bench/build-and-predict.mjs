// npm run bench: time createXception() and a 299×299 forward pass on the wasm
// backend, per preset and output stride, as medians over repeated runs in one
// process. Writes bench/results/latest.json and prints a Markdown table.
//
//   node bench/build-and-predict.mjs [--builds 5] [--runs 10]
//     [--presets keras,postact,xception41,xception65,xception71] [--output-strides 32,16]
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { createXception } from '../dist/index.js';
import { median } from '../scripts/image.mjs';
import { useWasmBackend } from '../scripts/wasm-backend.mjs';

const { values } = parseArgs({
  options: {
    builds: { type: 'string', default: '5' },
    runs: { type: 'string', default: '10' },
    presets: { type: 'string', default: 'keras,postact,xception41,xception65,xception71' },
    'output-strides': { type: 'string', default: '32,16' },
  },
});
const BUILDS = Number(values.builds);
const RUNS = Number(values.runs);
const PRESETS = values.presets.split(',');
const OUTPUT_STRIDES = values['output-strides'].split(',').map(Number);

const backend = await useWasmBackend();
const rows = [];
for (const preset of PRESETS) for (const outputStride of OUTPUT_STRIDES) {
  const buildMs = [];
  for (let i = 0; i < BUILDS; i++) {
    const start = performance.now();
    const model = createXception({ preset, outputStride });
    buildMs.push(performance.now() - start);
    model.dispose();
  }

  const model = createXception({ preset, outputStride });
  const params = model.countParams();
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
    outputStride,
    params,
    buildMedianMs: median(buildMs),
    predictMedianMs: median(predictMs),
    predictMinMs: Math.min(...predictMs),
  });
}

const result = {
  date: new Date().toISOString(),
  node: process.version,
  backend,
  tfjs: tf.version.tfjs,
  builds: BUILDS,
  runs: RUNS,
  rows,
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/latest.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);

const ms = (n) => n.toFixed(0);
const keras32 = rows.find((r) => r.preset === 'keras' && r.outputStride === 32);
console.log(`| preset | output stride | params | createXception() median | predict 299×299 batch 1 on ${backend}, median (min) | ÷ keras/32 |`);
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const ratio = keras32 ? (r.predictMedianMs / keras32.predictMedianMs).toFixed(2) : '–';
  console.log(`| ${r.preset} | ${r.outputStride} | ${r.params.toLocaleString('en-US')} | ${ms(r.buildMedianMs)} ms | ${ms(r.predictMedianMs)} ms (${ms(r.predictMinMs)} ms) | ${ratio} |`);
}
console.log(`\n${BUILDS} builds and ${RUNS} timed predictions (after one warm-up) per row, in one process. Node ${process.version}, tfjs ${tf.version.tfjs}.`);
